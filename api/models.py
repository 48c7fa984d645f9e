"""Tables of the case service. Contact details live apart from cases so that only roles allowed
to see them ever load them, and every such read is written to the audit log."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Unit(Base):
    """A handling unit: a township office, a county bureau, or a village committee."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(40))  # a taxonomy unit kind or "village_committee"
    township: Mapped[str | None] = mapped_column(String(50))
    village: Mapped[str | None] = mapped_column(String(50))


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # supervisor, handler, grid_worker, analyst
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    township: Mapped[str | None] = mapped_column(String(50))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Revision 0004: where a grid worker gets the receipt for a resident who has no phone.
    phone: Mapped[str | None] = mapped_column(String(20))
    unit: Mapped[Unit | None] = relationship()


class Reporter(Base):
    """Who complained: kept out of the case row; loaded only for roles that may see it."""

    __tablename__ = "reporters"
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    name: Mapped[str | None] = mapped_column(String(50))


def new_public_id() -> str:
    """Revision 0005: the id the public Open311 feed shows, unrelated to the case number (which
    with a phone opens the resident's status page)."""
    return secrets.token_hex(8)


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(8), unique=True)
    # Revision 0005: the Open311 id (random; never the case number).
    public_id: Mapped[str] = mapped_column(
        String(16), unique=True, index=True, default=new_public_id
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    text: Mapped[str] = mapped_column(Text)  # redacted at intake: what every role reads
    # Revision 0005: the text as the resident wrote it; read only through the audited contact
    # view (supervisors), never listed, exported or trained on.
    text_original: Mapped[str | None] = mapped_column(Text, deferred=True)
    # active_history: the columns case_counts is counted by keep their old value at every flush,
    # even when set before being loaded, so the count it leaves is known (api.case_counts).
    channel: Mapped[str] = mapped_column(String(20), active_history=True)
    township: Mapped[str | None] = mapped_column(String(50), active_history=True)
    village: Mapped[str | None] = mapped_column(String(50))
    village_group: Mapped[str | None] = mapped_column(String(20))
    village_flagged: Mapped[bool] = mapped_column(Boolean, default=False)  # not in the gazetteer
    resident_category: Mapped[str | None] = mapped_column(String(10))  # confirmed at read-back
    audio_url: Mapped[str | None] = mapped_column(String(500))
    # Revision 0006: a voicemail's length (its case waits as triage_status "recording").
    audio_seconds: Mapped[int | None] = mapped_column(Integer)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("reporters.id"), index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), active_history=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), active_history=True)
    state: Mapped[str] = mapped_column(String(20), active_history=True)
    # Triage: the case exists (and is safe) before any classifier has looked at it.
    triage_status: Mapped[str] = mapped_column(String(10), default="pending")  # pending/done
    triage_attempts: Mapped[int] = mapped_column(Integer, default=0)
    triage_error: Mapped[str | None] = mapped_column(String(500))
    triage_next_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    category: Mapped[str | None] = mapped_column(String(10), active_history=True)  # the item
    predicted_category: Mapped[str | None] = mapped_column(String(10))
    confidence: Mapped[float | None] = mapped_column(Float, active_history=True)
    top: Mapped[list | None] = mapped_column(JSON)
    terms: Mapped[list | None] = mapped_column(JSON)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=True)
    category_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    about_cadres: Mapped[bool] = mapped_column(Boolean, default=False)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), active_history=True)
    due_date: Mapped[date | None] = mapped_column(Date, active_history=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), active_history=True)
    referral_reason: Mapped[str | None] = mapped_column(String(500))
    lead_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[str | None] = mapped_column(String(10), active_history=True)
    # Duplicate-issue clustering (多人反映同一问题): filled in by the background worker.
    cluster_status: Mapped[str] = mapped_column(String(10), default="pending")  # pending/done
    event_id: Mapped[str | None] = mapped_column(String(20), index=True)
    event_reporters: Mapped[int] = mapped_column(Integer, default=0)
    joint_review: Mapped[bool] = mapped_column(Boolean, default=False)
    # Revision 0008: the registered model that classified the case, and the clusterer's reason.
    model_version: Mapped[str | None] = mapped_column(String(20))
    cluster_reason: Mapped[str | None] = mapped_column(String(300))
    unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id])
    reporter: Mapped[Reporter | None] = relationship()
    history: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_cases_state_due", "state", "due_date"),
        Index("ix_cases_triage", "triage_status", "triage_next_at"),
        Index("ix_cases_received", "received_at"),
        # Revision 0003: the workbench queues and the clustering worker's lookup.
        Index("ix_cases_review", "state", "needs_review", "category", "confidence"),
        Index("ix_cases_escalation", "escalation_level", "state"),
        Index("ix_cases_repeat_of", "repeat_of_id"),
        Index("ix_cases_lead_case", "lead_case_id"),
        Index("ix_cases_unit_state", "unit_id", "state"),
        Index("ix_cases_joint_event", "joint_review", "event_id", "state"),
        Index("ix_cases_cluster_pending", "cluster_status", "triage_status"),
    )


class CaseEvent(Base):
    """One row per change of a case: state moves, assignments, escalations, notes, ratings."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(60))  # "user:<name>", "resident", "system"
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=True)  # shown to the resident
    case: Mapped[Case] = relationship(back_populates="history")


class ClusterDecision(Base):
    """A staff decision about events (merge two cases' events, split a case out), applied by the
    clustering worker and kept so later runs respect it."""

    __tablename__ = "cluster_decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    op: Mapped[str] = mapped_column(String(10))  # merge / split
    case_number: Mapped[str] = mapped_column(String(8))
    other_number: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(String(500))
    applied: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class AuditEntry(Base):
    """Every read of a complainant's contact details."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    detail: Mapped[str | None] = mapped_column(String(500))


class Label(Base):
    """A staff decision on a case's item: the training signal for retraining (issue 8)."""

    __tablename__ = "labels"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    category: Mapped[str] = mapped_column(String(10))
    previous: Mapped[str | None] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(10))  # confirm / correct
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Revision 0009: None for a supervisor's decision on the case page, "queue" for an
    # analyst's label from the labelling queue (api.label_queue); and the labeller's why.
    origin: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)


class LabelTask(Base):
    """A case picked for analysts to label (revision 0009): why it was picked, and whether a
    second analyst labels it too (for the agreement between analysts)."""

    __tablename__ = "label_queue"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True, index=True)
    why: Mapped[str] = mapped_column(String(20))
    score: Mapped[float | None] = mapped_column(Float)
    double: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OutboundSms(Base):
    """One text message to a resident (revision 0004): written in the same transaction as the
    case change it reports, sent afterwards by ``api.sms_sender``. Without Twilio credentials
    it is only recorded, exactly as it would have been sent."""

    __tablename__ = "sms_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # receipt, assigned, done, referred, reopened
    to_phone: Mapped[str] = mapped_column(String(20))  # E.164, as handed to Twilio
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # recorded, pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_sid: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set for messages that must go once only (a case's receipt), whoever asks twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    # Revision 0006: the provider's delivery-status callbacks (delivered / failed / undelivered,
    # its error code), and a supervisor's resend of a failed text (a new row).
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(10))
    status_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resend_of_id: Mapped[int | None] = mapped_column(Integer)
    resent_by_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_sms_outbox_due", "status", "next_at"),
        Index("ix_sms_outbox_status_id", "status", "id"),
        Index("ix_sms_outbox_provider_sid", "provider_sid"),
    )


class Throttle(Base):
    """Revision 0005: failed tries per key (a case number, a client, an account), kept in the
    database so every process and host sharing it counts the same tries."""

    __tablename__ = "throttle"
    scope: Mapped[str] = mapped_column(String(20))  # case, client, account, login_client
    key: Mapped[str] = mapped_column(String(200))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (PrimaryKeyConstraint("scope", "key", name="pk_throttle"),)


class CaseCount(Base):
    """Revision 0012: the counts behind 统计 and 周报, kept up to date as cases change
    (``api.case_counts``). One row per kind of count and group; a dimension a case lacks is
    stored as '' (text), 0 (ids), 9999-12-31 (``day``) or -1 (``bucket``), so the key is never
    NULL and one upsert finds its row on SQLite and PostgreSQL alike."""

    __tablename__ = "case_counts"
    kind: Mapped[str] = mapped_column(String(12))  # received, due, closed, confidence
    week: Mapped[date] = mapped_column(Date)  # Beijing Monday (received or closed)
    day: Mapped[date] = mapped_column(Date)  # a deadline (due; closed: of a case still open)
    township: Mapped[str] = mapped_column(String(50))
    category: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int] = mapped_column(Integer)
    filed_by_id: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[int] = mapped_column(Integer)  # confidence: its hundredths (0-100)
    # Revision 0013: one of case_counts.STRIPES rows of the same group (readers sum them).
    stripe: Mapped[int] = mapped_column(Integer, server_default="0")
    cases: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    timely: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    referred: Mapped[int] = mapped_column(Integer, default=0)
    merged: Mapped[int] = mapped_column(Integer, default=0)
    open_due: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        PrimaryKeyConstraint(
            "kind",
            "week",
            "day",
            "township",
            "category",
            "channel",
            "unit_id",
            "filed_by_id",
            "bucket",
            "stripe",
            name="pk_case_counts",
        ),
    )


# Every session keeps case_counts in step with the cases it writes (registered on import).
from api import case_counts as _case_counts  # noqa: E402, F401
