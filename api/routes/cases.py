"""Staff work on cases over HTTP: lists and queues, a case, contact (audited), and every action.
The actions themselves are ``api.case_service``, which the workbench calls too."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import func, select

from api import case_service as service
from api.access import DB, Ctx, CurrentUser, require, visible
from api.clean import MAX_OFFSET
from api.clock import aware, today
from api.db import committing
from api.lifecycle import OPEN_STATES
from api.models import Case, Unit
from api.permissions import Action, roles_for
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

router = APIRouter(prefix="/api/v1", tags=["staff"])
STAFF = tuple(roles_for(Action.WORK))  # kept for older imports


# Kept under their old names for older imports (api.routes.phone, …).
load_case = service.load_case
_lead_number = service.lead_number
_out = service.case_view


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
    return service.get_case(number, context, session, user)


@router.get("/cases/{number}/contact", response_model=ContactOut)
def get_contact(number: str, session: DB, user: CurrentUser):
    """The complainant's name and phone, and the complaint as written before their identity
    was masked: supervisors only, and every read is audited."""
    return service.get_contact(number, session, user)


@router.post("/cases/{number}/assign", response_model=CaseOut)
def assign_case(number: str, body: AssignIn, context: Ctx, session: DB, user: CurrentUser):
    return service.assign_case(number, body, context, session, user)


@router.post("/cases/{number}/transition", response_model=CaseOut)
def transition(number: str, body: TransitionIn, context: Ctx, session: DB, user: CurrentUser):
    """Move a case along its lifecycle: 办理中, 已办结 (with a reply to the resident), back to
    已受理 after a wrong referral. Other moves have their own actions (assign, refer, merge)."""
    return service.transition(number, body, context, session, user)


@router.post("/cases/{number}/refer", response_model=CaseOut)
def refer(number: str, body: ReferIn, context: Ctx, session: DB, user: CurrentUser):
    """清单外转办: the matter is outside the list; the reason is told to the resident."""
    return service.refer(number, body, context, session, user)


@router.post("/cases/{number}/category", response_model=CaseOut)
def set_category(number: str, body: CategoryIn, context: Ctx, session: DB, user: CurrentUser):
    """Confirm or correct the item (kept as a training label with who and when)."""
    return service.set_category(number, body, context, session, user)


@router.post("/cases/{number}/escalate", response_model=CaseOut)
def escalate(number: str, body: EscalateIn, context: Ctx, session: DB, user: CurrentUser):
    return service.escalate(number, body, context, session, user)


@router.post("/cases/{number}/notes", response_model=CaseOut)
def add_note(number: str, body: NoteIn, context: Ctx, session: DB, user: CurrentUser):
    return service.add_note(number, body, context, session, user)


@router.post("/cases/{number}/merge", response_model=CaseOut)
def merge(number: str, body: MergeIn, context: Ctx, session: DB, user: CurrentUser):
    return service.merge(number, body, context, session, user)


@router.post("/cases/{number}/split", response_model=CaseOut)
def split(number: str, context: Ctx, session: DB, user: CurrentUser):
    return service.split(number, context, session, user)


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
