"""Staff work on cases: lists and queues, a case, contact (audited), and every action."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api import workflow
from api.access import DB, Ctx, CurrentUser, actor, require, visible
from api.case_numbers import parse_case_number
from api.clean import MAX_OFFSET
from api.clock import aware, now, today
from api.db import committing
from api.history import move
from api.lifecycle import OPEN_STATES, State
from api.models import AuditEntry, Case, Unit, User
from api.permissions import Action, may, roles_for
from api.schemas import (
    AssignIn,
    CaseList,
    CaseOut,
    CategoryIn,
    ContactOut,
    EscalateIn,
    MergeIn,
    NoteIn,
    ReferIn,
    TransitionIn,
    UnitIn,
    UnitOut,
)
from api.views import case_out

router = APIRouter(prefix="/api/v1", tags=["staff"])
STAFF = tuple(roles_for(Action.WORK))  # kept for older imports


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


def _lead_number(session: Session, case: Case) -> str | None:
    if case.lead_case_id is None:
        return None
    return session.scalar(select(Case.number).where(Case.id == case.lead_case_id))


def _out(
    session: Session, case: Case, context, history: bool = True, user: User | None = None
) -> CaseOut:
    out = case_out(case, context.taxonomy, _lead_number(session, case), history)
    if out.audio_url and user is not None and not may(user.role, Action.VIEW_CONTACT):
        out.audio_url = None  # a voicemail is the caller's own voice: contact data (api.voicemail)
    return out


@router.get("/cases", response_model=CaseList)
def list_cases(
    context: Ctx,
    session: DB,
    user: CurrentUser,
    state: Annotated[list[str] | None, Query()] = None,
    category: str | None = None,
    township: str | None = None,
    village: str | None = None,
    channel: str | None = None,
    needs_review: bool | None = None,
    triage: Annotated[str | None, Query(pattern="^(pending|done|recording)$")] = None,
    due_before: date | None = None,
    overdue: bool | None = None,
    escalated: bool | None = None,
    joint_review: bool | None = None,
    event: str | None = None,
    received_from: date | None = None,
    received_to: date | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
):
    """Cases this user may see, filtered; newest first."""
    query = visible(select(Case), user)
    if state:
        query = query.where(Case.state.in_(state))
    for column, value in (
        (Case.category, category),
        (Case.township, township),
        (Case.village, village),
        (Case.channel, channel),
    ):
        if value is not None:
            query = query.where(column == value)
    if needs_review is not None:
        query = query.where(Case.needs_review.is_(needs_review))
    if triage is not None:
        query = query.where(Case.triage_status == triage)
    if due_before is not None:
        query = query.where(Case.due_date <= due_before)
    if overdue is not None:
        open_states = [s.value for s in OPEN_STATES]
        late = (Case.due_date < today()) & Case.state.in_(open_states)
        query = query.where(late if overdue else ~late)
    if escalated is not None:
        query = query.where((Case.escalation_level > 0) == escalated)
    if joint_review is not None:
        query = query.where(Case.joint_review.is_(joint_review))
    if event is not None:
        query = query.where(Case.event_id == event)
    if received_from is not None:
        query = query.where(Case.received_at >= received_from)
    if received_to is not None:
        query = query.where(func.date(Case.received_at) <= received_to)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Case.received_at.desc(), Case.id.desc()).limit(limit).offset(offset)
    ).all()
    items = [_out(session, c, context, history=False, user=user) for c in rows]
    return CaseList(total=total, items=items)


@router.get("/events")
def list_events(
    session: DB,
    user: CurrentUser,
    joint_review: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
):
    """Events (多人反映同一问题) with more than one case, most reporters and latest first."""
    query = visible(
        select(
            Case.event_id,
            func.count(Case.id),
            func.max(Case.event_reporters),
            func.min(Case.received_at),
            func.max(Case.received_at),
        ).where(Case.event_id.is_not(None)),
        user,
    )
    if joint_review is not None:
        query = query.where(Case.joint_review.is_(joint_review))
    rows = session.execute(
        query.group_by(Case.event_id)
        .having(func.count(Case.id) > 1)
        .order_by(func.max(Case.event_reporters).desc(), func.max(Case.received_at).desc())
        .limit(limit)
    ).all()
    return [
        {
            "event": event_id,
            "cases": n,
            "reporters": reporters,
            "first_at": aware(first).isoformat(),
            "last_at": aware(last).isoformat(),
        }
        for event_id, n, reporters, first, last in rows
    ]


@router.get("/cases/{number}", response_model=CaseOut)
def get_case(number: str, context: Ctx, session: DB, user: CurrentUser):
    return _out(session, load_case(session, number, user), context, user=user)


@router.get("/cases/{number}/contact", response_model=ContactOut)
def get_contact(number: str, session: DB, user: CurrentUser):
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
        return ContactOut(
            number=case.number,
            anonymous=case.anonymous,
            name=None if reporter is None else reporter.name,
            phone=None if reporter is None else reporter.phone,
            text_original=case.text_original,
        )


def _act(session: Session, number: str, user: User, context, action) -> CaseOut:
    with committing(session):
        case = load_case(session, number, user, lock=True)
        action(case)
    session.refresh(case)
    return _out(session, case, context, user=user)


@router.post("/cases/{number}/assign", response_model=CaseOut)
def assign_case(number: str, body: AssignIn, context: Ctx, session: DB, user: CurrentUser):
    require(user, Action.TRIAGE)

    def action(case: Case) -> None:
        unit = session.get(Unit, body.unit_id)
        if unit is None:
            raise HTTPException(422, "没有这个办理单位")
        workflow.assign(session, case, unit, actor(user), body.note)

    return _act(session, number, user, context, action)


@router.post("/cases/{number}/transition", response_model=CaseOut)
def transition(number: str, body: TransitionIn, context: Ctx, session: DB, user: CurrentUser):
    """Move a case along its lifecycle: 办理中, 已办结 (with a reply to the resident), back to
    已受理 after a wrong referral. Other moves have their own actions (assign, refer, merge)."""
    require(user, Action.WORK)
    try:
        target = State(body.to)
    except ValueError as exc:
        raise HTTPException(422, f"没有“{body.to}”这个状态") from exc
    if target not in (State.IN_PROGRESS, State.DONE, State.ACCEPTED):
        raise HTTPException(409, f"请使用对应的操作变更为“{target}”")
    if target == State.DONE and not body.reply:
        raise HTTPException(422, "办结需要填写给群众的答复")
    if target == State.ACCEPTED:
        require(user, Action.REOPEN)

    def action(case: Case) -> None:
        if body.reply:
            workflow.reply(session, case, body.reply, actor(user))
        move(session, case, target, actor(user), body.note)

    return _act(session, number, user, context, action)


@router.post("/cases/{number}/refer", response_model=CaseOut)
def refer(number: str, body: ReferIn, context: Ctx, session: DB, user: CurrentUser):
    """清单外转办: the matter is outside the list; the reason is told to the resident."""
    require(user, Action.TRIAGE)
    return _act(
        session,
        number,
        user,
        context,
        lambda case: workflow.refer_out_of_list(session, case, body.reason, actor(user)),
    )


@router.post("/cases/{number}/category", response_model=CaseOut)
def set_category(number: str, body: CategoryIn, context: Ctx, session: DB, user: CurrentUser):
    """Confirm or correct the item (kept as a training label with who and when)."""
    require(user, Action.TRIAGE)
    return _act(
        session,
        number,
        user,
        context,
        lambda case: workflow.set_category(
            session, case, body.category, context.taxonomy, user.id, actor(user)
        ),
    )


@router.post("/cases/{number}/escalate", response_model=CaseOut)
def escalate(number: str, body: EscalateIn, context: Ctx, session: DB, user: CurrentUser):
    require(user, Action.TRIAGE)
    return _act(
        session,
        number,
        user,
        context,
        lambda case: workflow.escalate_case(session, case, body.reason, actor(user)),
    )


@router.post("/cases/{number}/notes", response_model=CaseOut)
def add_note(number: str, body: NoteIn, context: Ctx, session: DB, user: CurrentUser):
    require(user, Action.WORK)
    return _act(
        session,
        number,
        user,
        context,
        lambda case: workflow.add_note(session, case, body.note, actor(user)),
    )


@router.post("/cases/{number}/merge", response_model=CaseOut)
def merge(number: str, body: MergeIn, context: Ctx, session: DB, user: CurrentUser):
    require(user, Action.TRIAGE)

    def action(case: Case) -> None:
        lead = load_case(session, body.into, user)
        workflow.merge_into(session, case, lead, actor(user), context.rules, user.id)

    return _act(session, number, user, context, action)


@router.post("/cases/{number}/split", response_model=CaseOut)
def split(number: str, context: Ctx, session: DB, user: CurrentUser):
    require(user, Action.TRIAGE)
    return _act(
        session,
        number,
        user,
        context,
        lambda case: workflow.split_from_event(session, case, actor(user), user.id),
    )


@router.get("/units", response_model=list[UnitOut])
def list_units(session: DB, user: CurrentUser):
    return [
        UnitOut.model_validate(u, from_attributes=True)
        for u in session.scalars(select(Unit).order_by(Unit.id)).all()
    ]


@router.post("/units", response_model=UnitOut, status_code=201)
def create_unit(body: UnitIn, session: DB, user: CurrentUser):
    require(user, Action.MANAGE_UNITS)
    with committing(session):
        if session.scalars(select(Unit).where(Unit.name == body.name)).first():
            raise HTTPException(409, "已有同名办理单位")
        unit = Unit(**body.model_dump())
        session.add(unit)
    return UnitOut.model_validate(unit, from_attributes=True)
