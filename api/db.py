"""Database engine, sessions and migrations (SQLite by default, PostgreSQL by DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    # No pre-ping: it costs a round trip on every checkout; connections are recycled instead.
    return create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent)."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def session_factory(engine: Engine, info: dict | None = None) -> sessionmaker[Session]:
    """``info`` is handed to every session (``Session.info``): what the code running inside a
    transaction needs to know of the service's settings (see ``api.outbox``)."""
    return sessionmaker(engine, expire_on_commit=False, info=info or {})


@contextmanager
def committing(session: Session) -> Iterator[Session]:
    """Commit what the block did, or roll it back, whether or not a transaction had already
    begun (request dependencies such as the login check read before a handler writes)."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def results_may_lag(session: Session) -> None:
    """For a transaction whose loss in a crash only means redoing it (a classification or
    clustering result; the complaint itself was committed durably before), let PostgreSQL
    acknowledge the commit before its WAL reaches disk. Halves intake latency."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
