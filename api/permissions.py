"""Who may do what: the one table the JSON API's ``require()`` and the workbench's ``can_*``
checks both read, so a rule cannot hold in one and not the other.

Which cases a role sees at all (its unit's, the ones it filed) is ``api.access.visible``.
"""

from __future__ import annotations

from enum import StrEnum

from api.auth import Role


class Action(StrEnum):
    VIEW_CONTACT = "view_contact"  # the complainant's identity and the unmasked text (audited)
    TRIAGE = "triage"  # confirm/correct the item, assign, refer, escalate, merge, split
    WORK = "work"  # change state with a reply to the resident, internal notes
    REOPEN = "reopen"  # back to 已受理 after a wrong referral
    SEE_METRICS = "see_metrics"  # the dashboard and /metrics
    SEE_REPORT = "see_report"  # the weekly report
    DAILY_REVIEW = "daily_review"  # 日盘点
    SEE_OUTBOX = "see_outbox"  # text messages to residents
    FILE_FOR_RESIDENTS = "file_for_residents"  # 代群众反映
    EXPORT_LABELS = "export_labels"  # staff labels, for analysts' own tools
    LABEL_CASES = "label_cases"  # the labelling queue: labels that train the model
    READ_MODELS = "read_models"  # the model registry and reports
    MANAGE_MODELS = "manage_models"  # promote and roll back
    MANAGE_UNITS = "manage_units"  # create handling units
    UNLOCK_ACCOUNTS = "unlock_accounts"  # lift a login lock
    SEE_OPERATIONS = "see_operations"  # 运行状态: backlogs, background jobs, failing texts


_S, _H, _A, _G = Role.SUPERVISOR, Role.HANDLER, Role.ANALYST, Role.GRID_WORKER

PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.VIEW_CONTACT: frozenset({_S}),
    Action.TRIAGE: frozenset({_S}),
    Action.WORK: frozenset({_S, _H}),
    Action.REOPEN: frozenset({_S}),
    Action.SEE_METRICS: frozenset({_S, _A, _H}),
    Action.SEE_REPORT: frozenset({_S, _A}),
    Action.DAILY_REVIEW: frozenset({_S, _H}),
    Action.SEE_OUTBOX: frozenset({_S}),
    Action.FILE_FOR_RESIDENTS: frozenset({_G}),
    Action.EXPORT_LABELS: frozenset({_S, _A}),
    Action.LABEL_CASES: frozenset({_A}),
    Action.READ_MODELS: frozenset({_S, _A}),
    Action.MANAGE_MODELS: frozenset({_S}),
    Action.MANAGE_UNITS: frozenset({_S}),
    Action.UNLOCK_ACCOUNTS: frozenset({_S}),
    Action.SEE_OPERATIONS: frozenset({_S}),
}


def roles_for(action: Action) -> frozenset[Role]:
    return PERMISSIONS[action]


def may(role: str, action: Action) -> bool:
    return role in PERMISSIONS[action]
