"""Two complete hosts (separate var/, ports and processes) on one PostgreSQL database (issue 15).

Proves: complaints about one event filed alternately to both end in one event with the right
reporter count, and a staff split made on one host is applied by the clusterer on the other; a
token from one host works on the other; a promotion and a rollback on one are
followed by the other within seconds; cases record the model version and the clusterer's
reason; killing the host that runs the background jobs mid-load loses no case and sends no text
twice, and the other host takes the jobs over within seconds.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text

from api.model_store import DbRegistry
from api.sms_sender import LEASE as SMS_LEASE
from classifiers.model import TriageModel
from hotline.processes import Service, create_pg_database, drop_pg_database, service_env
from tests.test_outbound_sms import FakeTwilio
from tests.test_service_events import LOOK_ALIKE

PORTS = range(8300, 8400)  # this test's share of the machine's ports
SAME_EVENT = [
    ("13600000011", "河湾村的刘主任把他两个侄子都弄成了低保户，他们家开着小轿车"),
    ("13600000012", "我们河湾村低保评得不公平，村主任刘长贵的亲戚都吃上了低保"),
    ("13600000013", "喂那个我是和湾村的就是刘主任家亲戚吃低保的事情我们都不服"),
    ("13600000014", "河湾村低保不公平，刘主任把名额给了自家亲戚"),
    ("13600000015", "反映河湾村低保问题，刘主任的侄子有车有房还领低保"),
]
LOAD_TEXTS = [
    "五保老人的供养金被组长扣了三个月",
    "村里修路的钱花了路一直没修",
    "集体的地被村干部偷偷租出去了租金不公开",
    "危房改造补助被村干部截留了",
    "村里的低保名额给了村支书的亲戚",
    "高龄补贴好几个月没发到老人手里",
]
TAKEOVER_SECONDS = 10.0


def _port(taken: set[int]) -> int:
    for port in PORTS:
        if port in taken:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise RuntimeError("no free port in 8300-8399")


def _engine(url: str):
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://"))


def _wait(what: str, check, seconds: float = 30.0, every: float = 0.2):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"{what}: not within {seconds} s (last: {last!r})")


@pytest.fixture(scope="module")
def deployment(model_path, tmp_path_factory):
    """Host A (started first: it wins every election) and host B; one database, one Twilio."""
    db_name, url = create_pg_database("mh_")
    fake = FakeTwilio()
    fake.failing = False
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    engine = _engine(url)
    taken: set[int] = set()
    hosts = []
    try:
        for name in ("a", "b"):
            home = tmp_path_factory.mktemp(f"host-{name}")
            env = service_env(home, model_path, url)
            for key in ("HOTLINE_MODEL", "HOTLINE_SECRET"):  # both from the database
                env.pop(key)
            env.update(
                TWILIO_ACCOUNT_SID="AC" + secrets.token_hex(16),
                TWILIO_AUTH_TOKEN=secrets.token_hex(16),
                TWILIO_FROM_NUMBER="+8610690000",
                HOTLINE_TWILIO_API_URL=fake.url,
                HOTLINE_SMS_POLL="0.3",
            )
            hosts.append(Service(home, env, port=_port(taken), workers=1))
        a, b = hosts
        # The deployment's first model, registered in the database from host A's side.
        result = a.cli("create-user", "sup", "--role", "supervisor", "--password", "sup-pass-1")
        assert result.returncode == 0, result.stderr
        registry = DbRegistry(a.home / "models", engine)
        first = registry.register(TriageModel.load(model_path))
        registry.activate_if_none(first, by="test")
        a.start()
        _wait("host A runs the jobs", lambda: _job_holders(engine) == 3)
        b.start()
        yield a, b, engine, registry, fake
    finally:
        for host in hosts:
            host.stop()
        fake.shutdown()
        engine.dispose()
        drop_pg_database(db_name)


def _job_holders(engine) -> int:
    return len(_lock_pids(engine))


def _lock_pids(engine) -> list[int]:
    """The database sessions holding a job's advisory lock (one per job held)."""
    with engine.connect() as conn:
        return list(
            conn.scalars(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
                    "database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            )
        )


def _file(host: Service, phone: str, text_: str, key: str | None = None, **extra) -> str:
    body = {"text": text_, "phone": phone, **extra}
    if key:
        body["idempotency_key"] = key
    r = httpx.post(host.url + "/api/v1/complaints", json=body, timeout=30)
    assert r.status_code in (200, 201), r.text
    return r.json()["number"]


def _cases(engine, numbers: list[str]) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT number, event_id, event_reporters, joint_review, triage_status, "
                "cluster_status, model_version, cluster_reason FROM cases "
                "WHERE number = ANY(:n)"
            ),
            {"n": numbers},
        ).all()
    return {r.number: dict(r._mapping) for r in rows}


def test_tokens_signed_on_one_host_work_on_the_other(deployment):
    a, b, *_ = deployment
    token = a.login("sup", "sup-pass-1")
    for host in (a, b):
        r = host.client(token).get("/api/v1/cases", params={"limit": 1})
        assert r.status_code == 200, r.text
    token_b = b.login("sup", "sup-pass-1")
    assert a.client(token_b).get("/api/v1/cases", params={"limit": 1}).status_code == 200


def test_one_event_filed_alternately_to_both_hosts(deployment):
    a, b, engine, registry, _ = deployment
    numbers = [_file((a, b)[k % 2], phone, story) for k, (phone, story) in enumerate(SAME_EVENT)]
    other = _file(b, *LOOK_ALIKE)
    everything = [*numbers, other]
    cases = _wait(
        "clustered",
        lambda: (
            (found := _cases(engine, everything))
            and all(found[n]["cluster_status"] == "done" for n in everything)
            and found
        ),
    )
    events = {cases[n]["event_id"] for n in numbers}
    assert len(events) == 1, cases
    assert cases[other]["event_id"] not in events
    assert all(cases[n]["event_reporters"] == len(SAME_EVENT) for n in numbers)
    assert all(cases[n]["joint_review"] for n in numbers)
    # The model version that classified each case, and why the clusterer grouped it.
    active = registry.active()
    assert {cases[n]["model_version"] for n in everything} == {active}
    assert all(cases[n]["cluster_reason"] for n in everything)
    assert any("同属一事" in cases[n]["cluster_reason"] for n in numbers)
    # A staff split made on host B is applied once, by the clusterer (running on host A).
    token = a.login("sup", "sup-pass-1")
    r = b.client(token).post(f"/api/v1/cases/{numbers[-1]}/split")
    assert r.status_code == 200, r.text
    event = cases[numbers[0]]["event_id"]
    after = _wait(
        "the split applied",
        lambda: (
            (found := _cases(engine, numbers))
            and found[numbers[-1]]["event_id"] != event
            and found[numbers[0]]["event_reporters"] == len(SAME_EVENT) - 1
            and found
        ),
    )
    assert {after[n]["event_id"] for n in numbers[:-1]} == {event}


def test_promotion_and_rollback_on_one_host_are_followed_by_the_other(deployment, model_path):
    a, b, _, registry, _ = deployment
    first = registry.active()
    second = registry.register(TriageModel.load(model_path))

    def serving(version: str):
        def check() -> bool:
            for host in (a, b):  # a classification makes the service look at the registry
                httpx.post(host.url + "/api/v1/classify", json={"text": "低保不公平"}, timeout=30)
            return all(
                httpx.get(h.url + "/healthz", timeout=5).json()["model_version"] == version
                for h in (a, b)
            )

        return check

    # A promotion as host A's registry makes it, then a rollback through host B's CLI.
    started = time.monotonic()
    registry.activate(second, action="promote", reason="测试", by="test")
    _wait("both hosts serve the promoted model", serving(second), seconds=10)
    promoted_in = time.monotonic() - started
    started = time.monotonic()
    result = b.cli("models", "rollback", "--reason", "测试回退", "--by", "test")
    assert result.returncode == 0, result.stderr
    _wait("both hosts serve the model rolled back to", serving(first), seconds=10)
    print(f"promotion followed in {promoted_in:.1f} s, rollback {time.monotonic() - started:.1f} s")
    listed = a.cli("models", "list")
    assert listed.returncode == 0 and f"* {first}" in listed.stdout, listed.stdout


def test_killing_the_job_host_mid_load_loses_nothing(deployment):
    a, b, engine, _, fake = deployment
    sent_before = len(fake.requests)
    keys = [secrets.token_hex(8) for _ in range(40)]
    numbers: dict[str, str] = {}
    killed = threading.Event()

    def file_one(k: int) -> None:
        key, phone = keys[k], f"139{k:08d}"
        story = f"{LOAD_TEXTS[k % len(LOAD_TEXTS)]}（第{k}件）"
        hosts = (b,) if killed.is_set() else ((a, b) if k % 2 == 0 else (b, a))
        for host in hosts:  # a load balancer retries on the other host, same Idempotency-Key
            try:
                numbers[key] = _file(host, phone, story, key, channel="voice")
                return
            except (httpx.TransportError, AssertionError):
                continue
        numbers[key] = _file(b, phone, story, key, channel="voice")

    a_sessions = set(_lock_pids(engine))
    assert len(a_sessions) == 3  # triage, clustering, sms: all held by host A
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(file_one, k) for k in range(20)]
        time.sleep(0.5)
        a.kill()  # mid-load, while it holds every job
        killed_at = time.monotonic()
        killed.set()
        futures += [pool.submit(file_one, k) for k in range(20, 40)]
        _wait(
            "host B holds every job",
            lambda: (held := set(_lock_pids(engine))) and len(held) == 3 and not held & a_sessions,
            seconds=TAKEOVER_SECONDS,
            every=0.1,
        )
        failover = time.monotonic() - killed_at
        for future in futures:
            future.result()
    assert len(numbers) == 40 and len(set(numbers.values())) == 40
    done = _wait(
        "host B classifies and clusters everything",
        lambda: (
            (found := _cases(engine, list(numbers.values())))
            and len(found) == 40
            and all(
                c["triage_status"] == "done" and c["cluster_status"] == "done"
                for c in found.values()
            )
        ),
        seconds=60,
    )
    assert done
    finished = time.monotonic() - killed_at
    # Every receipt sent exactly once (a send cut off by the kill may be retried: then the
    # lease, not a second sender, resent it; none is expected at this rate).
    with engine.connect() as conn:
        pending = conn.scalar(
            text("SELECT count(*) FROM sms_outbox WHERE kind = 'receipt' AND status = 'pending'")
        )
    _wait(
        "every receipt sent",
        lambda: (
            Counter(
                r["form"]["To"] for r in fake.requests[sent_before:] if "/Messages" in r["path"]
            ).keys()
            >= {f"+86139{k:08d}" for k in range(40)}
        ),
        # A receipt host A had claimed when it was killed is resent once its lease runs out.
        seconds=30 + SMS_LEASE.total_seconds(),
    )
    sent = Counter(r["form"]["To"] for r in fake.requests[sent_before:] if "/Messages" in r["path"])
    assert max(sent.values()) == 1, [to for to, n in sent.items() if n > 1]
    print(
        f"after the kill: jobs taken over in {failover:.1f} s, all 40 cases classified and "
        f"clustered {finished:.1f} s after it ({pending} receipts still pending then)"
    )
    # Failover of the singletons: a new complaint on B is clustered within the target.
    started = time.monotonic()
    fresh = _file(b, "13700000099", "桃园村的村会计把集体鱼塘承包款揣进了自己腰包")
    _wait(
        "a new case clustered on the surviving host",
        lambda: _cases(engine, [fresh]).get(fresh, {}).get("cluster_status") == "done",
        seconds=TAKEOVER_SECONDS,
    )
    print(f"new case clustered {time.monotonic() - started:.1f} s after filing")


# -- the pieces, without servers ------------------------------------------------------------------
@pytest.fixture()
def scratch_pg():
    db_name, url = create_pg_database("mh_")
    engine = _engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_pg_database(db_name)


def test_an_advisory_election_has_one_holder_and_passes_on_when_it_dies(scratch_pg):
    from api.jobs import AdvisoryElection

    first, second = AdvisoryElection(scratch_pg, "job"), AdvisoryElection(scratch_pg, "job")
    other = AdvisoryElection(scratch_pg, "another job")
    assert first.hold() and not second.hold() and other.hold()
    assert first.hold() and not second.hold()  # still the holder, still refused
    first._conn.invalidate()  # the holder's connection dies, as with a killed host
    assert not first.hold()  # it learns it lost the job
    assert second.hold() and not first.hold()
    second.release()
    assert first.hold()


def test_claims_and_leases_use_the_database_clock(scratch_pg):
    from datetime import timedelta

    from sqlalchemy.orm import sessionmaker

    from api.db import migrate
    from api.jobs import backoff, claim, db_now, due, later
    from api.models import OutboundSms

    migrate(scratch_pg)
    sessions = sessionmaker(scratch_pg)
    with sessions() as session, session.begin():
        session.execute(
            text(
                "INSERT INTO sms_outbox (kind, to_phone, body, status, attempts, created_at) "
                "VALUES ('receipt', '+8613900000000', 'x', 'pending', 0, now())"
            )
        )
        row_id = session.scalar(text("SELECT max(id) FROM sms_outbox"))
    with sessions() as session, session.begin():
        assert claim(
            session,
            OutboundSms,
            row_id,
            {"attempts": 0},
            {"attempts": 1, "next_at": later(session, timedelta(minutes=2))},
        )
        assert not claim(session, OutboundSms, row_id, {"attempts": 0}, {"attempts": 1})
    with sessions() as session:
        lease = session.scalar(text("SELECT next_at FROM sms_outbox WHERE id = :i"), {"i": row_id})
        assert timedelta(seconds=110) < lease - db_now(session) <= timedelta(minutes=2)
        waiting = session.scalar(
            select(func.count()).select_from(OutboundSms).where(due(session, OutboundSms.next_at))
        )
        assert waiting == 0  # leased: not due until the database's clock passes the lease
    assert [backoff(n, 30).total_seconds() for n in (1, 2, 3, 4, 5, 6)] == [2, 4, 8, 16, 30, 30]


def test_retention_keeps_active_predecessor_and_newest(tmp_path, model):
    from classifiers.registry import Registry

    registry = Registry(tmp_path / "models")
    versions = [registry.register(model) for _ in range(7)]
    registry.activate(versions[0], action="initial")
    registry.activate(versions[1], action="promote", reason="测试")  # prunes: keep 3 newest
    kept = {m["version"] for m in registry.versions()}
    assert kept == {versions[0], versions[1], *versions[-3:]}
    assert registry.prune(1) == [versions[4], versions[5]]
    assert {m["version"] for m in registry.versions()} == {versions[0], versions[1], versions[6]}
    assert not (tmp_path / "models" / "registry" / versions[2]).exists()
