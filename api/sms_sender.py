"""Sending the outbox through Twilio, after the case changes are committed, retried with backoff.

Each message is claimed by a conditional update (its attempt count as it was read), so two
senders never send the same attempt; the claim also sets a lease, after which a message whose
sender died mid-send is tried again. Leases and retry times are on the database's clock
(``api.jobs``), and one process of the deployment sends (the ``sms`` election). A message may
thus, rarely, reach a phone twice (a sender killed between Twilio's answer and the commit); it
is never lost. Twilio refusing a message (a bad number: HTTP 4xx) fails it at once; anything else
(5xx, 429, the network) is retried: 2 s, 4 s, 8 s … up to 30 minutes apart, 12 attempts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from api.clock import now
from api.jobs import Election, Job, claim, due, later
from api.jobs import backoff as _backoff
from api.models import OutboundSms
from api.sms_provider import SendRefused, TwilioSms

__all__ = ["MAX_ATTEMPTS", "OutboxSender", "SendRefused", "TwilioSender", "send_due"]

log = logging.getLogger(__name__)
Send = Callable[[str, str], str]  # (to, body) -> the provider's message id (SmsProvider.send)
MAX_ATTEMPTS = 12
LEASE = timedelta(minutes=2)  # longer than a send can take (the HTTP timeout is 15 s)


# The provider (Twilio's REST API) lives in api.sms_provider; these names stay for callers.
TwilioSender = TwilioSms


def backoff(attempts: int) -> timedelta:
    return _backoff(attempts, 1800)


def _claim(factory: sessionmaker[Session], message_id: int, attempts: int):
    """Take one due message for this attempt; (to, body) or None if another sender has it."""
    with factory() as session, session.begin():
        claimed = claim(
            session,
            OutboundSms,
            message_id,
            {"status": "pending", "attempts": attempts},
            {"attempts": attempts + 1, "next_at": later(session, LEASE)},
        )
        if not claimed:
            return None
        return session.execute(
            select(OutboundSms.to_phone, OutboundSms.body).where(OutboundSms.id == message_id)
        ).one()


def _settle(
    factory: sessionmaker[Session], message_id: int, retry_in: timedelta | None = None, **values
) -> None:
    with factory() as session, session.begin():
        if retry_in is not None:
            values["next_at"] = later(session, retry_in)
        session.execute(update(OutboundSms).where(OutboundSms.id == message_id).values(**values))


def send_due(factory: sessionmaker[Session], send: Send, batch: int = 20) -> int:
    """Send the messages whose (next) attempt is due; returns how many were attempted."""
    with factory() as session:
        rows = session.execute(
            select(OutboundSms.id, OutboundSms.attempts)
            .where(OutboundSms.status == "pending", due(session, OutboundSms.next_at))
            .order_by(OutboundSms.id)
            .limit(batch)
        ).all()
    tried = 0
    for message_id, attempts in rows:
        claimed = _claim(factory, message_id, attempts)
        if claimed is None:
            continue
        tried += 1
        attempt = attempts + 1
        try:
            sid = send(claimed.to_phone, claimed.body)
        except SendRefused as exc:
            log.warning("SMS %s refused: %s", message_id, exc)
            _settle(factory, message_id, status="failed", error=str(exc)[:500], next_at=None)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            if attempt >= MAX_ATTEMPTS:
                _settle(factory, message_id, status="failed", error=error, next_at=None)
            else:
                delay = backoff(attempt)
                _settle(factory, message_id, retry_in=delay, error=error)
            log.warning("SMS %s attempt %s failed (%s)", message_id, attempt, exc)
        else:
            _settle(
                factory,
                message_id,
                status="sent",
                provider_sid=str(sid)[:64],
                sent_at=now(),
                next_at=None,
                error=None,
            )
    return tried


class OutboxSender(Job):
    """A background thread sending the outbox: one process sends (the ``sms`` election of
    ``api.jobs``); the per-message claim keeps any other sender off the same attempt."""

    name = "sms"

    def __init__(
        self,
        factory: sessionmaker[Session],
        send: Send,
        poll_seconds: float,
        election: Election | None = None,
    ) -> None:
        super().__init__(poll_seconds, election, health=factory)
        self.factory = factory
        self.send = send

    def run_pass(self) -> int:
        return send_due(self.factory, self.send)
