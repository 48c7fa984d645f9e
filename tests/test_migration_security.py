"""Revision 0005 on a database that already holds complaints (SQLite and PostgreSQL): each case
gets its own public id, and stored texts are masked like new ones, the words as written kept
apart; downgrading puts them back."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from api.db import alembic_config, make_engine
from hotline.processes import create_pg_database, drop_pg_database

WRITTEN = "我叫王秀英，电话13912345678，村书记李四把低保给了他亲戚"
_INSERT = text(
    "INSERT INTO cases (number, text, channel, received_at, state, triage_status,"
    " triage_attempts, needs_review, category_confirmed, about_cadres, escalation_level,"
    " cluster_status, event_reporters, joint_review, anonymous) VALUES (:n, :t, 'web',"
    " '2026-01-01 00:00:00', '已受理', 'pending', 0, true, false, false, 0, 'pending', 0,"
    " false, false)"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name, url = create_pg_database()
    try:
        yield url.replace("postgresql://", "postgresql+psycopg://")
    finally:
        drop_pg_database(name)


def _migrate(engine, url: str, target: str, down: bool = False) -> None:
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, target)


def test_revision_0005_gives_public_ids_and_masks_stored_texts(database_url):
    engine = make_engine(database_url)
    try:
        _migrate(engine, database_url, "0004")
        with engine.begin() as conn:
            conn.execute(_INSERT, {"n": "12345670", "t": WRITTEN})
            conn.execute(_INSERT, {"n": "12345689", "t": "村里修路的钱不知去向"})
        _migrate(engine, database_url, "head")
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT number, public_id, text, text_original FROM cases ORDER BY number")
            ).all()
        named, plain = rows
        assert named.public_id != plain.public_id and len(named.public_id) == 16
        assert "王秀英" not in named.text and "〔姓名〕" in named.text and "李四" in named.text
        assert named.text_original == WRITTEN
        assert plain.text == "村里修路的钱不知去向" and plain.text_original is None
        _migrate(engine, database_url, "0004", down=True)
        with engine.connect() as conn:
            texts = conn.execute(text("SELECT text FROM cases ORDER BY number")).scalars().all()
        assert texts[0] == WRITTEN
    finally:
        engine.dispose()


def test_migration_history_has_one_head():
    """Parallel branches must be joined by a merge revision: ``upgrade head`` refuses two."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, heads
