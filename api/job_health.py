"""When each background job last ran, succeeded and failed (table ``job_runs``, revision 0010).

A failing loop used to show only in a log file. Every pass of a background job calls
``record_run``; the workbench's 运行状态 panel and ``/metrics`` read the rows back with
``job_states`` and call a job stale when it has not succeeded for longer than the settings allow.

The loops poll every second or so, so a write per pass would be a steady trickle of commits for
nothing: this process keeps the counts and writes at most every ``RECORD_EVERY`` seconds, at
once when a job's outcome changes (a first failure, a recovery). Whatever goes wrong while
recording is logged and swallowed: bookkeeping must never stop the job it watches.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, Integer, String, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from api.clock import aware, now
from api.models import Base

log = logging.getLogger(__name__)

# The jobs the office runs, as staff call them (the order of the panel).
JOBS = {
    "triage": "自动分类",
    "clustering": "同一事件归并",
    "sms": "短信发送",
    "daily_review": "日盘点",
}
RECORD_EVERY = 15.0  # seconds between writes of an unchanged outcome
HOST = socket.gethostname()[:100]


class JobRun(Base):
    __tablename__ = "job_runs"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_started: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_ok: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(500))
    runs: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    host: Mapped[str | None] = mapped_column(String(100))


@dataclass
class _Pending:
    """What this process has seen of a job since it last wrote the row."""

    written_at: float = float("-inf")
    last_ok_state: bool | None = None
    runs: int = 0
    failures: int = 0
    started: datetime | None = None
    ok_at: datetime | None = None
    error_at: datetime | None = None
    error: str | None = None


_pending: dict[str, _Pending] = {}
_lock = threading.Lock()


def record_run(
    session_factory: sessionmaker[Session],
    name: str,
    ok: bool,
    error: str | None = None,
    *,
    started: datetime | None = None,
    every: float | None = None,
) -> None:
    """Note one pass of job ``name`` (``ok`` False: it raised ``error``). ``started``: when the
    pass began (default now); ``every``: override ``RECORD_EVERY`` (0 writes every pass)."""
    moment = now()
    with _lock:
        p = _pending.setdefault(name, _Pending())
        p.runs += 1
        p.started = started or moment
        if ok:
            p.ok_at = moment
        else:
            p.failures += 1
            p.error_at, p.error = moment, (error or "未知错误")[:500]
        interval = RECORD_EVERY if every is None else every
        due = time.monotonic() - p.written_at >= interval or p.last_ok_state != ok
        if not due:
            return
        snapshot = _Pending(**vars(p))
        p.runs = p.failures = 0
        p.ok_at = p.error_at = p.error = None
        p.written_at, p.last_ok_state = time.monotonic(), ok
    try:
        _write(session_factory, name, snapshot)
    except Exception:
        log.exception("could not record a run of job %s", name)
        with _lock:  # count them again next time
            p.runs += snapshot.runs
            p.failures += snapshot.failures
            p.written_at = float("-inf")


def _write(session_factory: sessionmaker[Session], name: str, p: _Pending) -> None:
    """Create the row if no host has yet, then add this process's counts in one UPDATE (two
    hosts recording at once both count)."""
    with session_factory() as session, session.begin():
        upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            upsert(JobRun)
            .values(name=name, runs=0, failures=0)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        values: dict = {
            "runs": JobRun.runs + p.runs,
            "failures": JobRun.failures + p.failures,
            "last_started": p.started,
            "host": HOST,
        }
        if p.ok_at is not None:
            values["last_ok"] = p.ok_at
        if p.error_at is not None:
            values["last_error_at"], values["last_error"] = p.error_at, p.error
        session.execute(update(JobRun).where(JobRun.name == name).values(**values))


def forget_pending() -> None:
    """Drop this process's unwritten counts (tests start each case from a clean slate)."""
    with _lock:
        _pending.clear()


@dataclass
class JobState:
    """One job as the panel and /metrics show it."""

    name: str
    label: str
    enabled: bool
    stale_after: timedelta
    last_started: datetime | None = None
    last_ok: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = None
    runs: int = 0
    failures: int = 0
    host: str | None = None
    stale: bool = False

    @property
    def failing(self) -> bool:
        """Its latest pass failed (an error after the last success)."""
        return self.last_error_at is not None and (
            self.last_ok is None or self.last_error_at > self.last_ok
        )

    @property
    def healthy(self) -> bool:
        return not self.enabled or not (self.stale or self.failing)


def job_states(
    session: Session, stale_after: dict[str, timedelta], enabled: dict[str, bool] | None = None
) -> list[JobState]:
    """Every known job (``JOBS`` first, then any other name recorded), judged at this moment:
    stale when enabled and not successful for longer than its ``stale_after`` (never run counts
    as stale)."""
    rows = {r.name: r for r in session.scalars(select(JobRun)).all()}
    moment = now()
    out = []
    for name in [*JOBS, *sorted(set(rows) - set(JOBS))]:
        limit = stale_after.get(name, stale_after.get("*", timedelta(minutes=10)))
        state = JobState(
            name=name,
            label=JOBS.get(name, name),
            enabled=(enabled or {}).get(name, True),
            stale_after=limit,
        )
        row = rows.get(name)
        if row is not None:
            state.last_started = _aware(row.last_started)
            state.last_ok = _aware(row.last_ok)
            state.last_error_at = _aware(row.last_error_at)
            state.last_error = row.last_error
            state.runs, state.failures, state.host = row.runs, row.failures, row.host
        state.stale = state.enabled and (
            state.last_ok is None or moment - state.last_ok > state.stale_after
        )
        out.append(state)
    return out


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else aware(moment)


# -- backlogs: what is waiting for the background jobs ------------------------------------------
@dataclass
class Backlogs:
    triage: int
    triage_oldest: datetime | None
    clustering: int
    clustering_oldest: datetime | None
    voicemails: int  # waiting for a person to listen (not a job's backlog, but work waiting)
    sms: dict[str, int]  # outbox rows per status

    def lag_seconds(self, oldest: datetime | None) -> float:
        return 0.0 if oldest is None else max(0.0, (now() - oldest).total_seconds())


def backlogs(session: Session) -> Backlogs:
    """Counted with the indexes the jobs themselves use (migration 0003)."""
    from sqlalchemy import func

    from api.lifecycle import OPEN_STATES
    from api.models import Case, OutboundSms

    def pending(*where) -> tuple[int, datetime | None]:
        n, oldest = session.execute(
            select(func.count(), func.min(Case.received_at)).where(*where)
        ).one()
        return n or 0, _aware(oldest)

    triage = pending(Case.triage_status == "pending")
    clustering = pending(Case.cluster_status == "pending", Case.triage_status == "done")
    voicemails = session.scalar(
        select(func.count()).where(
            Case.triage_status == "recording",
            Case.state.in_([s.value for s in OPEN_STATES]),
        )
    )
    sms = dict(
        session.execute(select(OutboundSms.status, func.count()).group_by(OutboundSms.status)).all()
    )
    return Backlogs(triage[0], triage[1], clustering[0], clustering[1], voicemails or 0, sms)


def stale_limits(minutes: dict[str, int]) -> dict[str, timedelta]:
    return {name: timedelta(minutes=m) for name, m in minutes.items()}
