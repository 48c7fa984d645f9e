"""The one way background work runs: elected loops, row claims with backoff, the database's clock.

Why hand-written and not a queue library (procrastinate, Celery): the work here is not a stream
of messages but rows that already exist (cases 待分类, texts in ``sms_outbox``, cases not yet
clustered). A row is its own job record; what a queue would add is a second copy of the truth
that can disagree with the first. What the loops need is three small things, all here:

- **Elections** (``election_for``). A job that must run once runs in the one process holding
  its lock: on PostgreSQL a session-level advisory lock (``pg_try_advisory_lock``) held on a
  connection of its own, so the lock is the deployment's, not a machine's, and it goes when the
  holder's connection goes (a killed process, a dead host after TCP keepalive: seconds); every
  other process tries again at each poll and takes over. On SQLite (one machine) a lock file,
  which the kernel drops with the process.
- **Claims** (``claim``): a conditional UPDATE on the row as it was read (its status, its attempt
  count); only one process's UPDATE matches, so two never do the same attempt.
- **Time** (``due``, ``later``): retry times and leases are written and compared with the
  database's clock on PostgreSQL (``clock_timestamp()``), never a host's own clock, so a host
  whose clock is off neither steals a lease early nor waits forever. ``backoff`` is the one
  retry schedule.

``Job`` is the loop: poll, wake, elect, run a pass, record the pass in ``api.job_health``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from api.clock import now

log = logging.getLogger(__name__)

# Server-side TCP keepalive on an election's connection: a holder that vanished without closing
# its connection (power cut, network gone) loses the lock after about idle + interval * count.
KEEPALIVE = {"tcp_keepalives_idle": 3, "tcp_keepalives_interval": 1, "tcp_keepalives_count": 3}


# -- time -----------------------------------------------------------------------------------------
def is_postgres(bind: Session | Engine | Connection) -> bool:
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return engine.dialect.name == "postgresql"


def db_now(session: Session) -> datetime:
    """Now by the database's clock on PostgreSQL (this host's on SQLite: one machine)."""
    if is_postgres(session):
        return session.scalar(select(func.clock_timestamp()))
    return now()


def later(session: Session, delta: timedelta) -> Any:
    """``now + delta`` by the database's clock: an SQL expression on PostgreSQL, for UPDATE."""
    if is_postgres(session):
        return func.clock_timestamp() + delta
    return now() + delta


def due(session: Session, next_at: Any) -> ColumnElement[bool]:
    """Rows whose ``next_at`` is unset or has come, by the database's clock."""
    moment = func.clock_timestamp() if is_postgres(session) else now()
    return or_(next_at.is_(None), next_at <= moment)


def backoff(attempts: int, cap_seconds: float) -> timedelta:
    """2 s, 4 s, 8 s … after the ``attempts``-th failure, never more than ``cap_seconds``."""
    return timedelta(seconds=min(2 ** min(attempts, 30), cap_seconds))


# -- claims ---------------------------------------------------------------------------------------
def claim(session: Session, model: Any, row_id: int, expect: dict, values: dict) -> bool:
    """Take row ``row_id`` if it still looks as it was read (``expect``: column -> value) by
    writing ``values``; False when another process got there first. Takes the row lock until
    the transaction ends (PostgreSQL), or SQLite's write lock."""
    conditions = [getattr(model, column) == value for column, value in expect.items()]
    result = session.execute(update(model).where(model.id == row_id, *conditions).values(**values))
    return result.rowcount == 1


# -- elections ------------------------------------------------------------------------------------
class Election(Protocol):
    def hold(self) -> bool:
        """Whether this process holds the lock now (taking it if free)."""

    def release(self) -> None: ...


class LockFileElection:
    """One machine (SQLite): an exclusive ``flock`` on a file, dropped by the kernel with the
    process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def hold(self) -> bool:
        if self._file is not None:
            return True
        import fcntl

        handle = open(self.path, "a")  # noqa: SIM115 - held for the process's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock`` from a job's name."""
    digest = hashlib.blake2b(f"hotline-job:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class AdvisoryElection:
    """The deployment (PostgreSQL): a session-level advisory lock on a connection kept for it.
    Each ``hold`` checks that connection is still the same database session; a broken one (or
    one silently reconnected to a new session) means the lock is lost (another process may have
    it by now), and the caller is told so."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.key = advisory_key(name)
        self._conn: Connection | None = None
        self._backend: int | None = None

    def hold(self) -> bool:
        if self._conn is not None:
            try:
                backend = self._conn.scalar(select(func.pg_backend_pid()))
                self._conn.commit()
            except Exception:
                backend = None
            if backend == self._backend:
                return True
            log.warning("job %s: lost its database session, and with it the lock", self.name)
            self._drop()
            return False
        conn = self.engine.connect()
        try:
            for setting, value in KEEPALIVE.items():
                conn.execute(text(f"SET {setting} = {int(value)}"))
            got = conn.scalar(select(func.pg_try_advisory_lock(self.key)))
            backend = conn.scalar(select(func.pg_backend_pid()))
            conn.commit()  # a session lock outlives the transaction; no idle transaction held
        except Exception:
            conn.invalidate()
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn, self._backend = conn, backend
        return True

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()  # closing the socket ends the session and frees the lock
                conn.close()
            except Exception:
                pass

    def release(self) -> None:
        self._drop()


def election_for(engine: Engine, name: str, lock_dir: Path) -> Election:
    """The election for job ``name``: the deployment's on PostgreSQL, the machine's on SQLite."""
    if engine.dialect.name == "postgresql":
        return AdvisoryElection(engine, name)
    return LockFileElection(lock_dir / f"{name}.lock")


# -- the loop -------------------------------------------------------------------------------------
def _record(factory: sessionmaker[Session] | None, name: str, ok: bool, error: str | None) -> None:
    """Tell the operations panel (``api.job_health``, if installed) how the pass went."""
    if factory is None:
        return
    try:
        from api.job_health import record_run
    except ImportError:
        return
    record_run(factory, name, ok, error)


class Job:
    """Runs ``run_pass`` in a thread whenever there may be work: at once after ``wake()``, else
    every ``poll_seconds``, and only while this process holds the job's election (none given:
    always). Subclasses give the pass and what to do on winning and losing the election."""

    name = "job"
    stop_timeout = 20.0

    def __init__(
        self,
        poll_seconds: float,
        election: Election | None = None,
        *,
        health: sessionmaker[Session] | None = None,
    ) -> None:
        self.poll_seconds = poll_seconds
        self.election = election
        self.health = health
        self._elected = False
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def run_pass(self) -> int:
        """Do what is due; return how much was done (0 sleeps until the next poll)."""
        raise NotImplementedError

    def on_elected(self) -> None:
        """Called when this process becomes the one that runs the job."""

    def on_lost(self) -> None:
        """Called when the election is lost (its connection broke): forget in-memory state that
        another process is now the keeper of."""

    def on_stop(self) -> None:
        """Called on shutdown in the elected process, before the lock is released."""

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """New work: skip the rest of the poll interval (helps only the elected process; the
        others' work is found at the next poll)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=self.stop_timeout)
        if self._elected:
            try:
                self.on_stop()
            except Exception:
                log.exception("%s: stopping failed", self.name)
        if self.election is not None:
            self.election.release()

    @property
    def elected(self) -> bool:
        return self._elected

    def _check_election(self) -> bool:
        held = True if self.election is None else self.election.hold()
        if held and not self._elected:
            self._elected = True
            log.info("%s: this process now runs the job", self.name)
            self.on_elected()
        elif not held and self._elected:
            self._elected = False
            self.on_lost()
        return held

    def _run(self) -> None:
        while not self._stop.is_set():
            done = 0
            try:
                if self._check_election():
                    done = self.run_pass()
                    _record(self.health, self.name, True, None)
            except Exception as exc:
                log.exception("%s pass failed", self.name)
                _record(self.health, self.name, False, f"{type(exc).__name__}: {exc}")
            if not done:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
