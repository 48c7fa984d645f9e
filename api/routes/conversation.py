"""What the conversation channels (the Rasa bot, phone, SMS) need beyond filing and status."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request, Response

from api.access import DB, Ctx
from api.db import committing
from api.history import record
from api.intake import accept
from api.models import Case
from api.resident import find_for_resident
from api.schemas import HandoffAccepted, HandoffIn

router = APIRouter(prefix="/api/v1", tags=["conversation"])


def _handoff_key(body: HandoffIn) -> str:
    """One callback request per conversation and reason: a retried request is not a second."""
    digest = hashlib.sha256(f"{body.reason}\n{body.transcript}".encode()).hexdigest()[:16]
    return f"handoff:{body.conversation_id[:60]}:{digest}"


@router.post("/handoffs", status_code=201, response_model=HandoffAccepted)
def request_person(
    body: HandoffIn, context: Ctx, session: DB, request: Request, response: Response
):
    """A resident wants a person. On a case they filed (number + the same phone) the request is
    written into that case's history; otherwise it becomes a case of its own, holding what the
    resident said, so that staff call back and nothing said is lost."""
    if body.case_number:
        found = find_for_resident(session, body.case_number, body.phone)
        if found is not None:
            case = session.get(Case, found[0].id)
            with committing(session):
                record(session, case, "resident", "handoff", f"居民请求人工服务：{body.reason}")
            response.status_code = 200
            return HandoffAccepted(
                number=case.number,
                created=False,
                message=f"已在案件{case.number}中登记转人工，工作人员会回电",
            )
    said = "\n".join(body.transcript) or "（无）"
    case, created = accept(
        context.sessions,
        text=f"【请求人工服务】{body.reason}\n居民说：\n{said}",
        channel=body.channel.value,
        phone=body.phone,
        idempotency_key=_handoff_key(body),
    )
    if created:
        with committing(session):
            stored = session.get(Case, case.id)
            record(session, stored, "resident", "handoff", f"居民请求人工服务：{body.reason}")
        request.app.state.wake_worker()
    else:
        response.status_code = 200
    return HandoffAccepted(
        number=case.number,
        created=created,
        message=f"已登记转人工（{case.number}），工作人员会回电",
    )
