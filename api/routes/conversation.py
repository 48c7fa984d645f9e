"""What the conversation channels (the Rasa bot, phone, SMS) need beyond filing and status."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy import select

from api.access import DB, Ctx
from api.amend import AmendClosed, Amendment, NotAmendable, amend
from api.callers import is_internal
from api.case_numbers import parse_case_number
from api.db import committing
from api.handoff_text import handoff_text
from api.history import record
from api.intake import accept
from api.models import Case
from api.resident import find_for_resident
from api.resident_guard import guarded
from api.schemas import AmendAccepted, AmendIn, Channel, HandoffAccepted, HandoffIn

router = APIRouter(prefix="/api/v1", tags=["conversation"])
ON_CASE = "已登记转人工，工作人员会回电"


def _handoff_key(body: HandoffIn) -> str:
    """One callback request per conversation and reason: a retried request is not a second."""
    digest = hashlib.sha256(f"{body.reason}\n{body.transcript}".encode()).hexdigest()[:16]
    return f"handoff:{body.conversation_id[:60]}:{digest}"


def _on_named_case(context, session, request: Request, body: HandoffIn) -> HandoffAccepted:
    """A handoff naming a case: written into the case's history when the phone matches; when it
    does not, a staff-only note on the named case (if there is one) keeps the request, no case
    is created, and the answer is the same, so the phone cannot be probed."""
    number_raw = body.case_number or ""
    found = guarded(
        context, request, number_raw, lambda: find_for_resident(session, number_raw, body.phone)
    )
    number = parse_case_number(number_raw)
    with committing(session):
        if found is not None:
            case = session.get(Case, found[0].id)
            record(session, case, "resident", "handoff", f"居民请求人工服务：{body.reason}")
        elif number is not None:
            case = session.scalars(select(Case).where(Case.number == number)).first()
            if case is not None:
                note = f"有人以与立案不符的电话请求人工服务（未核实身份）：{body.reason}"
                record(session, case, "resident", "handoff_unverified", note, public=False)
    return HandoffAccepted(number=number or number_raw, created=False, message=ON_CASE)


@router.post(
    "/handoffs",
    status_code=201,
    response_model=HandoffAccepted,
    responses={
        200: {"description": "已在所报案件中登记（电话是否相符，回答相同）"},
        403: {"description": "只有内部调用可以指定渠道"},
        429: {"description": "尝试次数过多"},
    },
)
def request_person(
    body: HandoffIn, context: Ctx, session: DB, request: Request, response: Response
):
    """A resident wants a person. Naming a case (number + the phone it was filed from) the
    request is written into that case's history, answered 200 whether or not the phone matched;
    otherwise it becomes a case of its own (201), holding what the resident said, so that staff
    call back and nothing said is lost. Only the trusted internal caller (the bot's action
    server) may say which channel the resident used."""
    internal = is_internal(request)
    if "channel" in body.model_fields_set and body.channel != Channel.WEB and not internal:
        raise HTTPException(403, "只有热线内部服务可以指定渠道")
    if body.case_number:
        response.status_code = 200
        return _on_named_case(context, session, request, body)
    case, created = accept(
        context.sessions,
        text=handoff_text(body.reason, body.transcript),
        channel=body.channel.value,
        phone=body.phone,
        name=None if body.anonymous else body.name,
        anonymous=body.anonymous,
        township=body.township,
        village=body.village,
        village_group=body.village_group,
        village_flagged=bool(body.village and body.village_flagged),
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
        # The story told after a request with none goes into this case, not a second one.
        idempotency_key=case.idempotency_key if internal else None,
    )


@router.post(
    "/cases/{number}/amend",
    response_model=AmendAccepted,
    responses={
        403: {"description": "只有热线内部服务可以更正"},
        404: {"description": "没有这个案件（或幂等键不符，回答相同）"},
        409: {"description": "已过更正时限或已在办理"},
    },
)
def amend_filing(number: str, body: AmendIn, context: Ctx, request: Request) -> AmendAccepted:
    """The resident corrected the read-back of the complaint the bot just filed. Only the
    bot's action server may call this, with the filing's own idempotency key, within 30
    minutes and before staff act on the case; a wrong key is answered like a missing case."""
    if not is_internal(request):
        raise HTTPException(403, "只有热线内部服务可以更正登记")
    change = Amendment(
        resident_category=body.resident_category,
        township=body.township,
        village=body.village,
        village_group=body.village_group,
        village_flagged=body.village_flagged,
        anonymous=body.anonymous,
        name=body.name,
        phone=body.phone,
        clear_phone=body.no_phone,
        addendum=body.addendum,
        asked_for_person=body.asked_for_person,
    )
    if body.resident_category and body.resident_category not in context.taxonomy.by_code:
        raise HTTPException(422, f"没有这个事项代码：{body.resident_category}")
    try:
        case, changed = amend(
            context.sessions, number, body.idempotency_key, change, context.taxonomy
        )
    except NotAmendable as exc:
        raise HTTPException(404, "没有找到这个案件") from exc
    except AmendClosed as exc:
        raise HTTPException(409, "这个案件已在办理，不能再更正，请联系工作人员") from exc
    if "addendum" in changed:
        request.app.state.wake_worker()  # classified again on the words added
    return AmendAccepted(
        number=case.number,
        changed=changed,
        category=case.category,
        message="已更正" if changed else "没有需要更正的",
    )
