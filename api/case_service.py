"""The case actions staff take, shared by the JSON API (``api.routes.cases``) and the
workbench (``api.workbench``): one place decides visibility (``api.access.visible``), who may
act (``api.permissions`` through ``require``), the domain rules (``api.workflow``) and the
history, labels and audit rows, so a rule cannot hold in one and not the other.

Refusals are raised as ``HTTPException`` (and the workflow's own exceptions); the API answers
them as problem details, the workbench shows them as a message on the page.
"""

from __future__ import annotations

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import workflow
from api.access import actor, require, visible
from api.case_numbers import parse_case_number
from api.clock import now
from api.context import ServiceContext
from api.db import committing
from api.lifecycle import State
from api.models import AuditEntry, Case, Unit, User
from api.permissions import Action, may
from api.schemas import (
    AssignIn,
    CaseOut,
    CategoryIn,
    ContactOut,
    EscalateIn,
    MergeIn,
    NoteIn,
    ReferIn,
    TransitionIn,
)
from api.views import case_out


def load_case(session: Session, number: str, user: User, *, lock: bool = False) -> Case:
    """The case if this user may see it; otherwise 404 (existence is not revealed)."""
    parsed = parse_case_number(number)
    if parsed is None:
        raise HTTPException(404, "案件号无效")
    query = visible(select(Case).where(Case.number == parsed), user)
    if lock:
        query = query.with_for_update()
    case = session.scalars(query).first()
    if case is None:
        raise HTTPException(404, "没有找到该案件")
    return case


def lead_number(session: Session, case: Case) -> str | None:
    """The number of the case this one was joined to, if any."""
    if case.lead_case_id is None:
        return None
    return session.scalar(select(Case.number).where(Case.id == case.lead_case_id))


def case_view(
    session: Session, case: Case, context, history: bool = True, user: User | None = None
) -> CaseOut:
    """A case as this user may see it."""
    out = case_out(case, context.taxonomy, lead_number(session, case), history)
    if out.audio_url and user is not None and not may(user.role, Action.VIEW_CONTACT):
        out.audio_url = None  # a voicemail is the caller's own voice: contact data (api.voicemail)
    return out


def get_case(number: str, context: ServiceContext, session: Session, user: User) -> CaseOut:
    return case_view(session, load_case(session, number, user), context, user=user)


def get_contact(number: str, session: Session, user: User) -> ContactOut:
    """The complainant's name and phone, and the complaint as written before their identity
    was masked: supervisors only, and every read is audited."""
    require(user, Action.VIEW_CONTACT)
    with committing(session):
        case = load_case(session, number, user)
        session.add(
            AuditEntry(
                at=now(),
                user_id=user.id,
                action="view_contact",
                case_id=case.id,
                detail=f"{user.username} 查看案件{case.number}联系方式",
            )
        )
        reporter = case.reporter
        # The reporter is found by phone: a name the same phone left on an earlier, named
        # case is never shown on a case filed anonymously.
        name = None if reporter is None or case.anonymous else reporter.name
        return ContactOut(
            number=case.number,
            anonymous=case.anonymous,
            name=name,
            phone=None if reporter is None else reporter.phone,
            text_original=case.text_original,
        )


def act(session: Session, number: str, user: User, context, action) -> CaseOut:
    """Run ``action`` on the case (locked) in one transaction; the case as stored after."""
    with committing(session):
        case = load_case(session, number, user, lock=True)
        action(case)
    session.refresh(case)
    return case_view(session, case, context, user=user)


def assign_case(
    number: str, body: AssignIn, context: ServiceContext, session: Session, user: User
) -> CaseOut:
    require(user, Action.TRIAGE)

    def action(case: Case) -> None:
        unit = session.get(Unit, body.unit_id)
        if unit is None:
            raise HTTPException(422, "没有这个办理单位")
        workflow.assign(session, case, unit, actor(user), body.note)

    return act(session, number, user, context, action)


def reply_misfit(case: Case, context, target: State, text: str | None) -> str | None:
    """The title of the reply template ``text`` is when it was written for another state (the
    office's templates, ``config/replies.yml``); None when it fits."""
    from api.workbench.replies import misfit_for_case  # the workbench package imports us

    return misfit_for_case(case, context.taxonomy, target.value, text)


def transition(
    number: str, body: TransitionIn, context: ServiceContext, session: Session, user: User
) -> CaseOut:
    """Move a case along its lifecycle: 办理中, 已办结 (with a reply to the resident), back to
    已受理 after a wrong referral. Other moves have their own actions (assign, refer, merge)."""
    require(user, Action.WORK)
    try:
        target = State(body.to)
    except ValueError as exc:
        raise HTTPException(422, f"没有“{body.to}”这个状态") from exc
    if target not in (State.IN_PROGRESS, State.DONE, State.ACCEPTED):
        raise HTTPException(409, f"请使用对应的操作变更为“{target}”")
    if target in workflow.PUBLIC_ANSWER_REQUIRED and not (body.reply or "").strip():
        raise HTTPException(422, workflow.PUBLIC_ANSWER_REQUIRED[target])
    if target == State.ACCEPTED:
        require(user, Action.REOPEN)

    def action(case: Case) -> None:
        misfit = reply_misfit(case, context, target, body.reply)
        workflow.change_state(session, case, target, body.reply, body.note, actor(user), misfit)

    return act(session, number, user, context, action)


def refer(
    number: str, body: ReferIn, context: ServiceContext, session: Session, user: User
) -> CaseOut:
    """清单外转办: the matter is outside the list; the reason is told to the resident."""
    require(user, Action.TRIAGE)
    return act(
        session,
        number,
        user,
        context,
        lambda case: workflow.refer_out_of_list(
            session,
            case,
            body.reason,
            actor(user),
            reply_misfit(case, context, State.REFERRED, body.reason),
        ),
    )


def set_category(
    number: str, body: CategoryIn, context: ServiceContext, session: Session, user: User
) -> CaseOut:
    """Confirm or correct the item (kept as a training label with who and when)."""
    require(user, Action.TRIAGE)
    return act(
        session,
        number,
        user,
        context,
        lambda case: workflow.set_category(
            session, case, body.category, context.taxonomy, user.id, actor(user)
        ),
    )


def escalate(
    number: str, body: EscalateIn, context: ServiceContext, session: Session, user: User
) -> CaseOut:
    require(user, Action.TRIAGE)
    return act(
        session,
        number,
        user,
        context,
        lambda case: workflow.escalate_case(session, case, body.reason, actor(user)),
    )


def add_note(
    number: str, body: NoteIn, context: ServiceContext, session: Session, user: User
) -> CaseOut:
    require(user, Action.WORK)
    return act(
        session,
        number,
        user,
        context,
        lambda case: workflow.add_note(session, case, body.note, actor(user)),
    )


def merge(
    number: str, body: MergeIn, context: ServiceContext, session: Session, user: User
) -> CaseOut:
    require(user, Action.TRIAGE)

    def action(case: Case) -> None:
        lead = load_case(session, body.into, user)
        workflow.merge_into(session, case, lead, actor(user), context.rules, user.id)

    return act(session, number, user, context, action)


def split(number: str, context: ServiceContext, session: Session, user: User) -> CaseOut:
    require(user, Action.TRIAGE)
    return act(
        session,
        number,
        user,
        context,
        lambda case: workflow.split_from_event(session, case, actor(user), user.id),
    )
