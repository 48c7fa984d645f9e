"""Voicemails: a recording left on the phone line becomes a case in the 待听录音 queue.

Nothing was transcribed, so there is nothing to classify: the case has no item and no deadline
(``triage_status = 'recording'``; the triage and clustering workers only take 'pending' cases)
until a staff member listens and types what was said. Then the text is redacted like any
complaint and the case goes through the same background triage (item, deadline, repeats,
events) as a typed one."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.case_numbers import new_case_number
from api.clock import now
from api.history import record
from api.intake import mentions_village_cadres, reporter_for
from api.lifecycle import State
from api.models import Case
from classifiers.redact import redact

RECORDING = "recording"  # triage_status of a voicemail nobody has listened to yet
PLACEHOLDER = "【电话录音】待工作人员收听后录入内容。"
# Where recordings may come from: the provider's media host (the case page plays it).
RECORDING_HOSTS = ("https://api.twilio.com/",)


class NotARecording(Exception):
    """The case is not a voicemail waiting to be listened to."""


def file_voicemail(
    factory: sessionmaker[Session],
    *,
    phone: str | None,
    audio_url: str,
    seconds: int | None,
    call_id: str | None,
) -> tuple[Case, bool]:
    """Store the voicemail as a case; (case, created). Keyed by the call, so a resent webhook
    files it once."""
    key = f"voicemail-{call_id or audio_url}"[:100]
    for _attempt in range(5):
        with factory() as session:
            found = session.scalars(select(Case).where(Case.idempotency_key == key)).first()
            if found is not None:
                return found, False
        try:
            with factory() as session, session.begin():
                case = Case(
                    number=new_case_number(),
                    idempotency_key=key,
                    text=PLACEHOLDER,
                    channel="voice",
                    audio_url=audio_url,
                    audio_seconds=seconds,
                    reporter=reporter_for(session, phone, None),
                    anonymous=False,
                    received_at=now(),
                    state=State.ACCEPTED,
                    triage_status=RECORDING,
                    needs_review=True,
                )
                session.add(case)
                record(
                    session,
                    case,
                    "resident",
                    "accepted",
                    "电话留言（录音），待收听",
                    to_state=State.ACCEPTED,
                )
            return case, True
        except IntegrityError:
            continue
    raise RuntimeError("could not store the voicemail after 5 attempts")


def transcribe(session: Session, case: Case, text: str, actor: str) -> None:
    """What the caller said, typed by a person who listened: the case leaves 待听录音 and is
    classified and clustered like any complaint (the worker picks it up as 'pending')."""
    if case.triage_status != RECORDING:
        raise NotARecording(case.number)
    masked = redact(text)
    session.execute(
        update(Case)
        .where(Case.id == case.id)
        .values(
            text=masked.text,
            text_original=text if masked.found else None,
            about_cadres=mentions_village_cadres(text),
            triage_status="pending",
            triage_next_at=None,
            triage_attempts=0,
        )
    )
    record(session, case, actor, "transcribed", "工作人员收听录音后录入了反映内容", public=False)
