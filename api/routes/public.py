"""What residents and channels call without a staff login: intake, status, rating."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from pydantic import AfterValidator
from sqlalchemy import select

from api.access import DB, Ctx, OptionalUser, actor
from api.amend import NO_PHONE_HANDOFF
from api.auth import Role
from api.clean import clean_line
from api.context import ServiceContext
from api.db import committing
from api.history import record
from api.intake import IdempotencyConflict, accept
from api.models import Case, User
from api.outbox import queue_receipt, sms_number
from api.resident import find_for_resident
from api.resident_guard import guarded
from api.schemas import (
    Channel,
    ComplaintAccepted,
    ComplaintIn,
    RatingIn,
    ResidentStatus,
    StatusQuery,
)
from api.triage import triage_case
from api.views import resident_status
from api.workflow import rate

router = APIRouter(prefix="/api/v1", tags=["residents"])
NOT_FOUND_FOR_RESIDENT = "没有找到这个案件号和电话对应的案件，请核对后再试"
_STAFF_CHANNELS = {
    Channel.GRID_WORKER: {Role.GRID_WORKER, Role.SUPERVISOR},
    Channel.STAFF: {Role.SUPERVISOR},
}
# Channels on which the resident gets a text receipt with the case number: they spoke or
# texted and saw no screen, or a grid worker filed for them.
RECEIPT_CHANNELS = {Channel.VOICE, Channel.SMS, Channel.GRID_WORKER}
NOT_READ_BACK = "来电人没听完复述就挂断了，按已说的内容登记，事项和地点请核实"


@router.post("/complaints", status_code=201, response_model=ComplaintAccepted)
async def file_complaint(
    body: ComplaintIn,
    context: Ctx,
    request: Request,
    response: Response,
    user: OptionalUser,
    idempotency_key: Annotated[
        str | None, Header(min_length=8, max_length=100), AfterValidator(clean_line)
    ] = None,
    classify: Annotated[str | None, Query(pattern="^now$")] = None,
):
    """File a complaint. It is stored before anything else; classification and clustering
    follow in the background within about a second (and are retried if the classifier is
    down), so the answer is normally 待分类. ``?classify=now`` classifies before answering, for
    callers that must tell the resident the item or the case it was joined to at once.
    Resending with the same idempotency key (body field or `Idempotency-Key` header) returns
    the same case. Filed by phone, by text or by a grid worker, the resident also gets the
    case number by text message (to the grid worker's own phone when the resident has none).

    Async on purpose: each step is a short database call or a millisecond of classification,
    and avoiding thread hand-offs roughly doubles throughput; the service runs one process per
    core."""
    accepted, created = receive(
        context,
        body,
        user,
        key=body.idempotency_key or idempotency_key,
        classify_now=classify is not None,
        wake=request.app.state.wake_worker,
        wake_sender=request.app.state.wake_sender,
    )
    if not created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return accepted


def receive(
    context: ServiceContext,
    body: ComplaintIn,
    user: User | None,
    *,
    key: str | None = None,
    classify_now: bool = False,
    wake: Callable[[], None] = lambda: None,
    wake_sender: Callable[[], None] = lambda: None,
) -> tuple[ComplaintAccepted, bool]:
    """Intake as every channel uses it (the JSON API, the workbench's grid-worker form):
    store, classify now or in the background, queue the receipt. Returns (answer, created);
    refusals raise HTTPException."""
    allowed = _STAFF_CHANNELS.get(body.channel)
    if allowed is not None and (user is None or user.role not in allowed):
        raise HTTPException(403, "该渠道仅限登录的网格员或工作人员使用")
    if body.resident_category is not None:
        if body.resident_category not in context.taxonomy.by_code:
            raise HTTPException(422, f"没有这个事项代码：{body.resident_category}")
        classify_now = True  # the resident's choice is applied on top of the model's answer
    try:
        case, created = accept(
            context.sessions,
            text=body.text,
            channel=body.channel.value,
            phone=body.phone,
            name=body.name,
            anonymous=body.anonymous,
            township=body.township,
            village=body.village,
            village_group=body.village_group,
            village_flagged=body.village_flagged,
            resident_category=body.resident_category,
            audio_url=str(body.audio_url) if body.audio_url else None,
            idempotency_key=key,
            filed_by_id=user.id if user is not None else None,
            actor=actor(user) if user is not None else "resident",
        )
    except IdempotencyConflict as exc:
        raise HTTPException(409, "这个幂等键已用于另一条不同内容的投诉") from exc
    notes = [
        (action, note)
        for wanted, action, note in (
            (body.asked_for_person, "handoff", NO_PHONE_HANDOFF),
            (body.not_read_back, "not_read_back", NOT_READ_BACK),
        )
        if wanted
    ]
    if created and notes:
        with context.sessions() as session, committing(session):
            stored = session.get(Case, case.id)
            for action, note in notes:
                record(session, stored, "resident", action, note)
    if created and not classify_now:
        wake()
    elif created:
        triaged = triage_case(
            context.sessions,
            case.id,
            context.model.classify,
            context.taxonomy,
            context.rules,
            text=case.text,
            resident_category=body.resident_category,
        )
        if triaged is not None:
            case = triaged
        else:
            with context.sessions() as session:
                case = session.get(Case, case.id)
    lead_number = None
    if case.lead_case_id:
        with context.read_sessions() as session:
            lead_number = session.scalar(select(Case.number).where(Case.id == case.lead_case_id))
    if body.channel in RECEIPT_CHANNELS:
        # Queued on a replay too (found already queued, it is not queued twice), so a request
        # cut off between the complaint's commit and the receipt's still gets its receipt.
        to_filer = body.channel == Channel.GRID_WORKER and sms_number(body.phone) is None
        phone = user.phone if to_filer and user is not None else body.phone
        if queue_receipt(
            context.sessions, case.id, case.number, lead_number, phone, to_filer=to_filer
        ):
            wake_sender()
    item = context.taxonomy.by_code.get(case.category or "")
    message = f"已受理，案件号{case.number}"
    if lead_number is not None:
        message += f"。您此前反映的案件{lead_number}还在办理中，这次的反映已并入该案"
    accepted = ComplaintAccepted(
        number=case.number,
        state=case.state,
        triage_status="待分类" if case.triage_status == "pending" else "已分类",
        category=case.category,
        category_name=item.name if item else None,
        received_at=case.received_at,
        due_date=case.due_date,
        joined_case=lead_number,
        message=message,
    )
    return accepted, created


def _resident_case(
    context: ServiceContext, request: Request, session, number_raw: str, phone: str
) -> Case:
    """A resident sees a case only with its number and the phone it was filed from; a wrong
    number and a wrong phone get the same answer, and failed tries are limited."""
    found = guarded(
        context, request, number_raw, lambda: find_for_resident(session, number_raw, phone)
    )
    if found is None:
        raise HTTPException(404, NOT_FOUND_FOR_RESIDENT)
    return session.get(Case, found[0].id)


def _lookup(context: ServiceContext, number_raw: str, phone: str):
    with context.read_sessions() as session:
        return find_for_resident(session, number_raw, phone)


@router.post(
    "/status",
    response_model=ResidentStatus,
    responses={404: {"description": "案件号与电话不符"}, 429: {"description": "尝试次数过多"}},
)
async def case_status(body: StatusQuery, context: Ctx, request: Request):
    """Where a case stands, told in plain Chinese (case number + the phone it was filed from).
    Failed tries are limited per case number and per client (429 with Retry-After)."""
    found = guarded(
        context, request, body.number, lambda: _lookup(context, body.number, body.phone)
    )
    if found is None:
        raise HTTPException(404, NOT_FOUND_FOR_RESIDENT)
    case, lead = found
    status = resident_status(case, context.taxonomy, lead)
    # Already validated by construction: skip FastAPI's second validation pass.
    return Response(status.model_dump_json(), media_type="application/json")


@router.post(
    "/rating",
    response_model=ResidentStatus,
    responses={404: {"description": "案件号与电话不符"}, 429: {"description": "尝试次数过多"}},
)
def rate_case(body: RatingIn, context: Ctx, session: DB, request: Request):
    """满意 / 基本满意 / 不满意 for a finished case; 不满意 reopens it. Failed tries count
    with those of the status lookup."""
    with committing(session):
        case = _resident_case(context, request, session, body.number, body.phone)
        lead = session.get(Case, case.lead_case_id) if case.lead_case_id else None
        rate(session, lead or case, body.rating, body.comment)
    return resident_status(case, context.taxonomy, lead)
