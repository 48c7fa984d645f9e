"""The outbox of text messages to residents: what is queued when, and for whom.

A message is a row written in the same transaction as the case change it reports (a state
move, or the receipt after intake), so it exists exactly when the change does; it is sent
after the commit by ``api.sms_sender``, and a failed send is retried without touching the case.
Without Twilio credentials the row is only recorded (status ``recorded``): exactly what would
have been sent, to whom.

Who gets it: the phone the complaint came from (anonymous complainants too: the phone is
theirs), and the complainants of the cases joined to this one, each told their own case
number. Only mainland mobile numbers get texts; a case without one gets none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import case as when
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api import sms_texts
from api.clock import now
from api.lifecycle import State
from api.models import Case, OutboundSms, Reporter
from api.sms_provider import FINAL_DELIVERY, DeliveryReport

LIVE = "sms_live"  # Session.info key: True when messages are really sent (api.db.session_factory)

KINDS = {
    "receipt": "受理回执",
    "assigned": "已转办",
    "done": "已办结",
    "referred": "清单外转办",
    "reopened": "重新办理",
}
STATUSES = {
    "pending": "待发送",
    "sent": "已发送",
    "delivered": "已送达",
    "failed": "发送失败",
    "resent": "已重发",
    "recorded": "仅记录",
}
# What the provider's delivery-status callbacks say, as staff read it.
DELIVERY = {"delivered": "已送达", "failed": "发送失败", "undelivered": "未送达"}
_ON_MOVE = {
    State.ASSIGNED: "assigned",
    State.DONE: "done",
    State.REFERRED: "referred",
    State.REOPENED: "reopened",
}
_MOBILE = re.compile(r"1[3-9]\d{9}")


def sms_number(phone: str | None) -> str | None:
    """A mainland mobile number in E.164, as Twilio takes it; None for a landline or none."""
    if phone and _MOBILE.fullmatch(phone):
        return "+86" + phone
    return None


def masked(to: str) -> str:
    """A number as listings show it (+86139****0001): the full number is contact data, read
    only through the audited contact view."""
    if len(to) < 8:
        return "****"
    return f"{to[:-8]}****{to[-4:]}"


def add(
    session: Session,
    *,
    case_id: int | None,
    kind: str,
    phone: str | None,
    body: str,
    name: str | None = None,
    dedupe_key: str | None = None,
) -> OutboundSms | None:
    """Queue one message in the caller's transaction; None when the phone takes no texts.
    ``name`` is the complainant's: should staff-written words in the text carry it, it is
    replaced, since a text never names who complained."""
    to = sms_number(phone)
    if to is None:
        return None
    if name and len(name.strip()) >= 2:
        body = body.replace(name.strip(), "您")
    row = OutboundSms(
        case_id=case_id,
        kind=kind,
        to_phone=to,
        body=body,
        status="pending" if session.info.get(LIVE) else "recorded",
        attempts=0,
        created_at=now(),
        dedupe_key=dedupe_key,
    )
    session.add(row)
    return row


@dataclass(frozen=True)
class Recipient:
    case_id: int
    number: str
    phone: str
    name: str | None


def recipients(session: Session, case: Case) -> Iterator[Recipient]:
    """The case's complainant, then those of the cases joined to it; one message per phone."""
    rows = session.execute(
        select(Case.id, Case.number, Reporter.phone, Reporter.name, Case.anonymous)
        .join(Reporter, Reporter.id == Case.reporter_id)
        .where(or_(Case.id == case.id, Case.lead_case_id == case.id), Reporter.phone.is_not(None))
        .order_by(when((Case.id == case.id, 0), else_=1), Case.id)
    ).all()
    seen: set[str] = set()
    for case_id, number, phone, name, anonymous in rows:
        if phone not in seen:
            seen.add(phone)
            # A name the same phone left on an earlier, named case is not this case's.
            yield Recipient(case_id, number, phone, None if anonymous else name)


def _status_text(kind: str, number: str, case: Case, note: str | None) -> str:
    if kind == "assigned":
        return sms_texts.assigned(number, case.unit.name if case.unit else None)
    if kind == "done":
        return sms_texts.done(number)
    if kind == "referred":
        return sms_texts.referred(number, case.referral_reason or note)
    return sms_texts.reopened(number)


def on_move(session: Session, case: Case, target: State, note: str | None) -> None:
    """A state move the resident is told about (已转办, 已办结, 清单外转办, 重新办理)."""
    kind = _ON_MOVE.get(target)
    if kind is None:
        return
    for who in recipients(session, case):
        add(
            session,
            case_id=who.case_id,
            kind=kind,
            phone=who.phone,
            body=_status_text(kind, who.number, case, note),
            name=who.name,
        )


def queue_receipt(
    factory: sessionmaker[Session],
    case_id: int,
    number: str,
    joined: str | None,
    phone: str | None,
    *,
    to_filer: bool = False,
) -> bool:
    """The receipt for a filed case, in its own transaction after the complaint's; at most one
    per case however often the filing is resent. ``to_filer``: the phone is the grid worker's,
    for a resident without one. Returns whether a receipt was queued now."""
    if sms_number(phone) is None:
        return False
    key = f"receipt:{case_id}"
    body = (sms_texts.receipt_for_worker if to_filer else sms_texts.receipt)(number, joined)
    try:
        with factory() as session, session.begin():
            if session.scalar(select(OutboundSms.id).where(OutboundSms.dedupe_key == key)):
                return False
            name = None
            if not to_filer:
                name = session.scalar(
                    select(Reporter.name)
                    .join(Case, Case.reporter_id == Reporter.id)
                    .where(Case.id == case_id, Case.anonymous.is_(False))
                )
            add(
                session,
                case_id=case_id,
                kind="receipt",
                phone=phone,
                body=body,
                name=name,
                dedupe_key=key,
            )
    except IntegrityError:  # a concurrent resend queued it first
        return False
    return True


# -- delivery status and resends --------------------------------------------------------------
def apply_report(session: Session, report: DeliveryReport) -> OutboundSms | None:
    """A delivery-status callback: delivered, or failed/undelivered with the provider's error
    code (then the text is 发送失败 and a supervisor may resend it). The first final word
    stands: callbacks may arrive late and out of order. None for an unknown message id."""
    row = session.scalars(
        select(OutboundSms).where(OutboundSms.provider_sid == report.message_id).limit(1)
    ).first()
    if row is None:
        return None
    if row.delivery_status in FINAL_DELIVERY or row.status == "resent":
        return row
    row.delivery_status = report.status
    row.status_at = now()
    if report.status == "delivered":
        row.status = "delivered"
    elif report.status in ("failed", "undelivered"):
        row.status = "failed"
        row.error_code = report.error_code
        said = DELIVERY[report.status]
        row.error = f"{said}（运营商回执 {report.status}，错误码 {report.error_code or '无'}）"
    return row


class NotResendable(Exception):
    """Only a text that failed can be resent."""


def resend(session: Session, message_id: int, user_id: int | None) -> OutboundSms | None:
    """A supervisor's resend of a failed text: a new row with the same words to the same
    phone, pointing at the one it repeats (which becomes 已重发). Resending twice returns the
    first resend. None when there is no such message."""
    row = session.get(OutboundSms, message_id, with_for_update=True)
    if row is None:
        return None
    if row.status == "resent":
        again = session.scalars(
            select(OutboundSms).where(OutboundSms.resend_of_id == row.id).limit(1)
        ).first()
        if again is not None:
            return again
    if row.status != "failed":
        raise NotResendable(STATUSES.get(row.status, row.status))
    copy = OutboundSms(
        case_id=row.case_id,
        kind=row.kind,
        to_phone=row.to_phone,
        body=row.body,
        status="pending" if session.info.get(LIVE) else "recorded",
        attempts=0,
        created_at=now(),
        resend_of_id=row.id,
        resent_by_id=user_id,
    )
    row.status = "resent"
    session.add(copy)
    session.flush()
    return copy


# -- reading the outbox (the workbench page and GET /api/v1/outbox) ----------------------------
def counts(session: Session) -> dict[str, int]:
    """Messages per status, every status present."""
    found = dict(
        session.execute(select(OutboundSms.status, func.count()).group_by(OutboundSms.status)).all()
    )
    return {status: found.get(status, 0) for status in STATUSES}


def waiting(session: Session) -> int:
    """Messages not yet out: waiting for their (next) attempt, or failed and not resent."""
    return (
        session.scalar(select(func.count()).where(OutboundSms.status.in_(("pending", "failed"))))
        or 0
    )


def listing(session: Session, status: str | None, limit: int, offset: int) -> list:
    """Newest first, with the number of the case each message is about."""
    query = (
        select(OutboundSms, Case.number)
        .outerjoin(Case, Case.id == OutboundSms.case_id)
        .order_by(OutboundSms.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if status is not None:
        query = query.where(OutboundSms.status == status)
    return session.execute(query).all()
