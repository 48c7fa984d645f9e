"""The phone line's endpoints on the case service: the SMS provider's delivery-status callback,
voicemails from the voice channel, staff typing what a voicemail said, and resending a failed
text. The provider itself (signature, REST) is behind ``api.sms_provider``."""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy import select

from api import outbox
from api.access import DB, Ctx, CurrentUser, actor, require
from api.callers import INTERNAL_TOKEN_HEADER
from api.clean import MAX_ID, clean_line, clean_text
from api.db import committing
from api.models import Case
from api.permissions import Action
from api.routes.cases import _out, load_case
from api.routes.outbox import item_out
from api.schemas import CaseOut, OutboxItem, Strict
from api.sms_provider import STATUS_PATH, provider_for
from api.voicemail import RECORDING_HOSTS, NotARecording, file_voicemail, transcribe

log = logging.getLogger(__name__)
router = APIRouter(tags=["phone"])
LOOPBACK = {"127.0.0.1", "::1"}


# -- delivery status ---------------------------------------------------------------------------
def _signed_url(request: Request, configured: str | None) -> str:
    """The URL the provider signed: the StatusCallback URL it was given, else this request's."""
    if configured:
        query = f"?{request.url.query}" if request.url.query else ""
        return configured.split("?")[0] + query
    return str(request.url)


@router.post(STATUS_PATH, include_in_schema=False)
async def sms_status(request: Request, context: Ctx):
    """The provider's delivery-status callback (Twilio: MessageStatus, ErrorCode), signed like
    every webhook; anything unsigned or forged gets 403. Updates the outbox row."""
    provider = provider_for(context.settings)
    body = (await request.body()).decode("utf-8", errors="replace")
    form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True, max_num_fields=100).items()}
    signature = request.headers.get(provider.signature_header, "")
    url = _signed_url(request, context.settings.sms_status_url)
    if not provider.is_valid(url, form, signature):
        log.warning("refused SMS status callback with a bad or missing signature")
        raise HTTPException(403, "签名无效")
    report = provider.report(form)
    if report is None:
        raise HTTPException(422, "缺少短信编号或状态")
    for attempt in range(3):  # a callback may overtake the sender storing the message id
        with context.sessions() as session, committing(session):
            row = outbox.apply_report(session, report)
            status = row.status if row is not None else None
        if row is not None or attempt == 2:
            break
        await asyncio.sleep(0.5)
    if status is None:
        log.warning("SMS status %s for unknown message %s", report.status, report.message_id)
    return {"ok": True, "status": status}


# -- resend ------------------------------------------------------------------------------------
@router.post("/api/v1/outbox/{message_id}/resend", response_model=OutboxItem, tags=["staff"])
def resend_text(
    message_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    request: Request,
    session: DB,
    user: CurrentUser,
):
    """Send a failed text again (supervisors): a new outbox row with the same words to the same
    phone; the failed one becomes 已重发. Resending twice gives the first resend."""
    require(user, Action.SEE_OUTBOX)
    with committing(session):
        try:
            copy = outbox.resend(session, message_id, user.id)
        except outbox.NotResendable as exc:
            raise HTTPException(409, f"只有发送失败的短信可以重发（这条：{exc}）") from exc
        if copy is None:
            raise HTTPException(404, "没有这条短信")
        number = (
            session.scalar(select(Case.number).where(Case.id == copy.case_id))
            if copy.case_id
            else None
        )
        out = item_out(copy, number)
    request.app.state.wake_sender()
    return out


# -- voicemail ---------------------------------------------------------------------------------
class VoicemailIn(Strict):
    phone: Annotated[str, AfterValidator(clean_line)] | None = Field(None, max_length=20)
    audio_url: Annotated[str, AfterValidator(clean_line)] = Field(max_length=500)
    duration_seconds: int | None = Field(None, ge=0, le=3600)
    call_id: Annotated[str, AfterValidator(clean_line)] | None = Field(None, max_length=64)


class VoicemailFiled(BaseModel):
    number: str
    queue: str = "待听录音"


def _from_voice_channel(request: Request, context) -> bool:
    """The bot's voice channel: it carries the internal token ``hotline up`` shares; with none
    configured, only this machine."""
    expected = context.settings.internal_token
    sent = request.headers.get(INTERNAL_TOKEN_HEADER)
    if expected:
        return bool(sent) and hmac.compare_digest(sent.encode(), expected.encode())
    return (request.client.host if request.client else "") in LOOPBACK


@router.post("/api/v1/voicemails", status_code=201, response_model=VoicemailFiled, tags=["phone"])
def new_voicemail(body: VoicemailIn, request: Request, context: Ctx):
    """A voicemail from the phone line (the voice channel only): a case in 待听录音 with the
    recording and its length, no item and no deadline until someone types what was said."""
    if not _from_voice_channel(request, context):
        raise HTTPException(403, "仅限电话渠道调用")
    if not body.audio_url.startswith(RECORDING_HOSTS):
        raise HTTPException(422, "录音地址不是电话服务商的地址")
    phone = "".join(ch for ch in body.phone or "" if ch.isdigit()) or None
    case, _created = file_voicemail(
        context.sessions,
        phone=phone,
        audio_url=body.audio_url,
        seconds=body.duration_seconds,
        call_id=body.call_id,
    )
    return VoicemailFiled(number=case.number)


class TranscriptIn(Strict):
    text: Annotated[str, AfterValidator(clean_text)] = Field(min_length=2, max_length=5000)


@router.post("/api/v1/cases/{number}/transcript", response_model=CaseOut, tags=["staff"])
def add_transcript(
    number: str, body: TranscriptIn, request: Request, context: Ctx, session: DB, user: CurrentUser
):
    """What a voicemail said, typed by someone who listened (those who triage): the case leaves
    待听录音 and is classified and clustered like any complaint."""
    out = record_transcript(context, session, user, number, body)
    request.app.state.wake_worker()
    return out


def record_transcript(context, session, user, number: str, body: TranscriptIn) -> CaseOut:
    """The transcript endpoint's work, also called by the workbench's form."""
    require(user, Action.TRIAGE)
    with committing(session):
        case = load_case(session, number, user, lock=True)
        try:
            transcribe(session, case, body.text, actor(user))
        except NotARecording as exc:
            raise HTTPException(409, "这个案件不是待听的录音") from exc
    session.expire_all()
    return _out(session, load_case(session, number, user), context, user=user)
