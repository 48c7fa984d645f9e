"""What each role finds in the workbench: its queues and which action forms it is shown.

This only decides what to *show*. Whether an action is allowed is decided where the JSON API
decides it (``api.case_service`` and ``api.workflow``), which the workbench calls; a form shown
by mistake is still refused there. Both read the one permission table, ``api.permissions``.
"""

from __future__ import annotations

from api.auth import Role
from api.lifecycle import TRANSITIONS, State
from api.models import User
from api.permissions import Action, may

# Tab key -> label. The order is the order on screen.
TAB_LABELS = {
    "review": "待审核",
    "recordings": "待听录音",
    "assign": "待转办",
    "joint": "联合研判",
    "due_soon": "即将到期",
    "overdue": "已超期",
    "mine": "我的案件",
    "escalated": "重复投诉/提级督办",
    "filed": "我提交的",
}

_TABS = {
    # 待听录音 (voicemails) only for supervisors: a recording is the caller's own voice.
    Role.SUPERVISOR: (
        "review",
        "recordings",
        "assign",
        "joint",
        "due_soon",
        "overdue",
        "escalated",
    ),
    Role.ANALYST: ("review", "assign", "joint", "due_soon", "overdue", "escalated"),
    Role.HANDLER: ("mine", "due_soon", "overdue", "escalated"),
    Role.GRID_WORKER: ("filed",),
}

# The state moves the generic "change state" form offers (others have their own actions).
_MOVES = {
    Role.SUPERVISOR: (State.IN_PROGRESS, State.DONE, State.ACCEPTED),
    Role.HANDLER: (State.IN_PROGRESS, State.DONE),
}


def tabs(user: User) -> tuple[str, ...]:
    return _TABS.get(user.role, ())


def home_tab(user: User) -> str | None:
    found = tabs(user)
    return found[0] if found else None


def can_triage(user: User) -> bool:
    """Confirm/correct the item, assign, refer, escalate, merge, split: the discipline office."""
    return may(user.role, Action.TRIAGE)


def can_work(user: User) -> bool:
    """Change state with a reply, add internal notes."""
    return may(user.role, Action.WORK)


def can_see_contact(user: User) -> bool:
    return may(user.role, Action.VIEW_CONTACT)


def can_see_dashboard(user: User) -> bool:
    return may(user.role, Action.SEE_METRICS)


def can_see_report(user: User) -> bool:
    return may(user.role, Action.SEE_REPORT)


def can_read_models(user: User) -> bool:
    return may(user.role, Action.READ_MODELS)


def can_manage_models(user: User) -> bool:
    return may(user.role, Action.MANAGE_MODELS)


def can_see_outbox(user: User) -> bool:
    """短信外发: the text messages to residents (the discipline office watches delivery)."""
    return may(user.role, Action.SEE_OUTBOX)


def can_see_operations(user: User) -> bool:
    """运行状态: whether the background jobs keep up (the discipline office's supervisors)."""
    return may(user.role, Action.SEE_OPERATIONS)


def can_file_for_residents(user: User) -> bool:
    """代群众反映: grid workers file for residents who have no phone or cannot use one."""
    return may(user.role, Action.FILE_FOR_RESIDENTS)


def moves(user: User, state: str) -> list[State]:
    """The state moves to offer this user for a case in ``state``, per the state machine."""
    allowed = TRANSITIONS.get(State(state), frozenset())
    return [s for s in _MOVES.get(user.role, ()) if s in allowed]
