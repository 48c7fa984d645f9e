"""The outbox of text messages to residents, for supervisors (JSON)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import outbox
from api.access import DB, Ctx, CurrentUser, require
from api.clean import MAX_OFFSET
from api.models import OutboundSms
from api.permissions import Action
from api.schemas import OutboxItem, OutboxList

router = APIRouter(prefix="/api/v1", tags=["staff"])
STATUS_PATTERN = "^(" + "|".join(outbox.STATUSES) + ")$"


def item_out(message: OutboundSms, case_number: str | None) -> OutboxItem:
    return OutboxItem(
        id=message.id,
        case_number=case_number,
        kind=message.kind,
        kind_name=outbox.KINDS.get(message.kind, message.kind),
        to=outbox.masked(message.to_phone),
        body=message.body,
        status=message.status,
        status_name=outbox.STATUSES.get(message.status, message.status),
        attempts=message.attempts,
        provider_sid=message.provider_sid,
        error=message.error,
        created_at=message.created_at,
        next_at=message.next_at,
        sent_at=message.sent_at,
        delivery_status=message.delivery_status,
        error_code=message.error_code,
        status_at=message.status_at,
        resend_of_id=message.resend_of_id,
    )


@router.get("/outbox", response_model=OutboxList)
def list_outbox(
    context: Ctx,
    session: DB,
    user: CurrentUser,
    status: Annotated[str | None, Query(pattern=STATUS_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
):
    """Text messages to residents, newest first: recorded (no Twilio credentials), pending
    (waiting for its first or next attempt), sent (with Twilio's message id), delivered (the
    provider's report), failed (refused, or reported failed/undelivered with its error code;
    ``POST /api/v1/outbox/{id}/resend`` sends it again), resent."""
    require(user, Action.SEE_OUTBOX)
    counts = outbox.counts(session)
    rows = outbox.listing(session, status, limit, offset)
    return OutboxList(
        live=context.settings.sms_live,
        total=counts[status] if status else sum(counts.values()),
        counts=counts,
        items=[item_out(message, number) for message, number in rows],
    )
