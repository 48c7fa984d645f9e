"""Where the bot keeps conversations: in the case service's PostgreSQL database when it has one
(so a restart loses nothing), and with a Redis lock store when several Rasa processes share them."""

from __future__ import annotations

import secrets

import httpx
import psycopg
import yaml

from hotline import rasa_env
from hotline.bot_commands import train_bot
from hotline.processes import create_pg_database, drop_pg_database, service_env
from hotline.stack import Stack


def test_endpoints_for_postgresql_and_several_processes(tmp_path):
    path = rasa_env.write_endpoints(
        tmp_path / "endpoints.yml",
        actions_url="http://127.0.0.1:5055",
        database_url="postgresql://hot:p%40ss@db.example:5433/hotline",
        sqlite_path=tmp_path / "conversations.db",
        rasa_processes=2,
        redis_url="redis://127.0.0.1:6379/3",
    )
    endpoints = yaml.safe_load(path.read_text())
    assert endpoints["action_endpoint"]["url"] == "http://127.0.0.1:5055/webhook"
    assert endpoints["tracker_store"] == {
        "type": "SQL",
        "dialect": "postgresql",
        "url": "db.example",
        "port": 5433,
        "db": "hotline",
        "username": "hot",
        "password": "p@ss",
    }
    assert endpoints["lock_store"]["type"] == "redis"
    assert endpoints["lock_store"]["db"] == 3
    single = rasa_env.write_endpoints(
        tmp_path / "one.yml",
        actions_url="http://127.0.0.1:5055",
        database_url=None,
        sqlite_path=tmp_path / "conversations.db",
    )
    endpoints = yaml.safe_load(single.read_text())
    assert endpoints["tracker_store"]["dialect"] == "sqlite"
    assert "lock_store" not in endpoints


def test_conversation_survives_a_restart_in_postgresql(model_path, tmp_path):
    name, url = create_pg_database()
    sender = f"pg-{secrets.token_hex(4)}"
    try:
        env = service_env(tmp_path, model_path, url)
        stack = Stack(tmp_path, env, train_bot()).start()
        try:
            say = f"{stack.rasa_url}/webhooks/hotline_web/webhook"
            httpx.post(say, json={"sender": sender, "message": "我要举报"}, timeout=60)
            reply = httpx.post(
                say,
                json={"sender": sender, "message": "村里的鱼塘被村干部低价包给了亲戚"},
                timeout=60,
            ).json()
            assert any("哪个村" in m.get("text", "") for m in reply)
        finally:
            stack.stop()
        with psycopg.connect(url) as conn:
            stored = conn.execute(
                "SELECT count(*) FROM events WHERE sender_id = %s", (sender,)
            ).fetchone()[0]
        assert stored > 5

        stack = Stack(tmp_path, env, train_bot()).start()  # everything restarted
        try:
            reply = httpx.post(
                f"{stack.rasa_url}/webhooks/hotline_web/webhook",
                json={"sender": sender, "message": "红旗村"},
                timeout=60,
            ).json()
            assert any("匿名" in m.get("text", "") for m in reply)  # the form went on
        finally:
            stack.stop()
    finally:
        drop_pg_database(name)
