"""``case_counts`` (issue 17, revision 0012) stays equal to a count from scratch whatever happens
to the cases, on SQLite and PostgreSQL: a random series of intakes, classifications (with the
repeats they join), item corrections, assignments, moves, closings, ratings and reopenings,
referrals, merges and splits back out, deadlines and times near Beijing midnight, through the
service layer's own functions; rolled-back transactions and savepoints; two writers at once;
the migration's backfill. And the pages read from it give what counting the cases gives: the
dashboard for periods cut anywhere in a week, for each role; the drift watch for any threshold;
the weekly report."""

from __future__ import annotations

import random
import secrets
import threading
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import psycopg
import pytest
from alembic import command
from sqlalchemy import func, insert, select

from api import case_counts
from api.clock import CST, local_date, today
from api.db import alembic_config, make_engine, migrate, session_factory
from api.history import move
from api.intake import accept
from api.lifecycle import TRANSITIONS, IllegalTransition, State
from api.metrics import SATISFIED, Tally
from api.models import Case, CaseCount, CaseEvent, Unit, User
from api.rules import load_rules
from api.settings import Settings
from api.triage import apply_prediction
from api.workbench import cache, drift, stats
from api.workflow import ActionRefused, assign, rate, set_category, split_from_event
from classifiers.model import Prediction
from classifiers.taxonomy import OUT_CODE
from hotline.processes import PG_ADMIN_URL

TOWNS = ["城关镇", "南港镇", "北坡镇", None, ""]
CHANNELS = ["web", "sms", "voice", "grid_worker"]


@pytest.fixture(autouse=True)
def fresh_counts(monkeypatch):
    monkeypatch.setenv("HOTLINE_STATS_CACHE_SECONDS", "0")
    cache.clear()


def _database(kind: str, tmp_path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'counts.db'}", None
    name = f"case_counts_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{name}", name


def _drop(name: str | None) -> None:
    if name:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    url, name = _database(request.param, tmp_path)
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()
    _drop(name)


def assert_counts_fresh(engine) -> None:
    """What the service kept equals what counting every case again gives."""
    with engine.connect() as conn:
        kept, fresh = case_counts.stored(conn), case_counts.fresh(conn)
    wrong = {
        k: (kept.get(k), fresh.get(k))
        for k in kept.keys() | fresh.keys()
        if kept.get(k) != fresh.get(k)
    }
    assert not wrong, wrong
    assert fresh  # the test counted something


def _office(sessions) -> dict:
    with sessions() as session, session.begin():
        units = [Unit(name=f"单位{k}", kind="civil_affairs", township="城关镇") for k in range(2)]
        session.add_all(units)
        session.flush()
        users = {
            "supervisor": User(
                username="sup", display_name="s", password_hash="x", role="supervisor"
            ),
            "handler": User(
                username="h",
                display_name="h",
                password_hash="x",
                role="handler",
                unit_id=units[0].id,
            ),
            "grid_worker": User(
                username="g", display_name="g", password_hash="x", role="grid_worker"
            ),
            "analyst": User(username="a", display_name="a", password_hash="x", role="analyst"),
        }
        session.add_all(users.values())
    return {"units": [u.id for u in units], "users": users}


def _moment(rng: random.Random, days_back: int) -> datetime:
    """A Beijing time ``days_back`` days ago, often just after or before midnight."""
    day = today() - timedelta(days=days_back)
    clock = rng.choice([time(0, 5), time(23, 55), time(rng.randrange(24), rng.randrange(60))])
    return datetime.combine(day, clock, CST)


def _random_history(engine, taxonomy, steps: int, seed: int) -> dict:
    """Play ``steps`` random actions of the office through the service layer."""
    rng = random.Random(seed)
    sessions = session_factory(engine)
    office = _office(sessions)
    rules = load_rules(Settings().rules_path)
    codes = [i.code for i in taxonomy.items]
    grid_id = office["users"]["grid_worker"].id
    phones = [f"1390000{k:04d}" for k in range(20)]
    _whole_lifecycle(sessions, taxonomy, rules, office)
    assert_counts_fresh(engine)
    for step in range(steps):
        action = rng.random()
        if action < 0.3:  # a complaint comes in (now, or backdated across weeks)
            case, _ = accept(
                sessions,
                text=f"村里的事情第{step}件，村干部优亲厚友",
                channel=rng.choice(CHANNELS),
                phone=rng.choice([*phones, None]),
                township=rng.choice(TOWNS),
                filed_by_id=grid_id if rng.random() < 0.2 else None,
            )
            if rng.random() < 0.7:
                with sessions() as session, session.begin():
                    session.get(Case, case.id).received_at = _moment(rng, rng.randrange(0, 120))
            continue
        with sessions() as session:
            session.begin()
            ids = session.scalars(select(Case.id)).all()
            if not ids:
                session.rollback()
                continue
            case = session.get(Case, rng.choice(ids))
            try:
                _act(session, case, rng, taxonomy, rules, codes, office)
            except (ActionRefused, IllegalTransition):
                session.rollback()
                continue
            if rng.random() < 0.1:
                session.rollback()  # changed, then thrown away: nothing may count
            else:
                session.commit()
        if step % 25 == 0:
            assert_counts_fresh(engine)
    assert_counts_fresh(engine)
    return office


def _whole_lifecycle(sessions, taxonomy, rules, office) -> None:
    """One case through every state, each step its own transaction, as the office would."""
    case, _ = accept(sessions, text="修路的钱村里一直没公开", channel="voice", township="北坡镇")
    moves = [State.IN_PROGRESS, State.DONE, "不满意", State.IN_PROGRESS, State.DONE, "满意"]
    with sessions() as session, session.begin():
        c = session.get(Case, case.id)
        apply_prediction(
            session, c, Prediction("S01", 0.43, [("S01", 0.43)], True, []), taxonomy, rules
        )
        assign(session, c, session.get(Unit, office["units"][0]), "user:sup", None)
    for step in moves:
        with sessions() as session, session.begin():
            c = session.get(Case, case.id)
            if isinstance(step, State):
                move(session, c, step, "user:sup")
            else:
                rate(session, c, step, None)  # 不满意 reopens it
    other, _ = accept(sessions, text="邻居家狗叫", channel="sms", township="南港镇")
    for target in (State.REFERRED, State.ACCEPTED, State.MERGED, State.ACCEPTED):
        with sessions() as session, session.begin():
            move(session, session.get(Case, other.id), target, "user:sup")


def _act(session, case: Case, rng: random.Random, taxonomy, rules, codes, office) -> None:
    pick = rng.random()
    state = State(case.state)
    if case.triage_status == "pending" and pick < 0.6:
        code = rng.choice([*codes, OUT_CODE])
        confidence = rng.choice([0.29, 0.43, 0.5, 0.995, 1.0, round(rng.random(), 4)])
        prediction = Prediction(code, confidence, [(code, confidence)], confidence < 0.5, [])
        apply_prediction(session, case, prediction, taxonomy, rules)  # may join a repeat
    elif pick < 0.08:
        set_category(session, case, rng.choice(codes), taxonomy, None, "user:sup")
    elif pick < 0.18 and state in (State.ACCEPTED, State.REOPENED, State.ASSIGNED):
        unit = session.get(Unit, rng.choice(office["units"]))
        assign(session, case, unit, "user:sup", None)
    elif pick < 0.4 and state in (State.DONE, State.RATED):
        rate(session, case, rng.choice(["满意", "基本满意", "不满意"]), None)
    elif pick < 0.31 and case.lead_case_id is not None:
        split_from_event(session, case, "user:sup")
    elif pick < 0.36:
        case.due_date = today() + timedelta(days=rng.randrange(-30, 30))
    elif pick < 0.4 and case.closed_at is not None:
        case.closed_at = _moment(rng, rng.randrange(0, 60))
    elif pick < 0.44:  # set before ever being read: its old value still counts down
        session.expire(case)
        case.state = rng.choice(sorted(TRANSITIONS[state]))
    elif pick < 0.47:  # a change inside a savepoint that is rolled back alone
        with session.begin_nested() as nested:
            case.township = "白沙镇"
            session.flush()
            nested.rollback()
    else:  # the usual way forward: accepted, assigned, in progress, done
        ahead = [State.ASSIGNED, State.IN_PROGRESS, State.DONE, State.RATED]
        forward = [s for s in TRANSITIONS[state] if s in ahead and s != state]
        targets = forward if forward and rng.random() < 0.7 else sorted(TRANSITIONS[state])
        move(session, case, rng.choice(targets), "user:sup")


def test_counts_follow_random_changes(db, taxonomy):
    office = _random_history(db, taxonomy, steps=400, seed=3)
    sessions = session_factory(db)
    with sessions() as session:
        reached = set(session.scalars(select(CaseEvent.to_state).distinct()))
        rated = session.scalar(select(func.count()).where(Case.rating.is_not(None)))
    # the series went through every state the counts tell apart
    assert set(State) <= reached
    assert rated
    _check_pages(db, taxonomy, office)


def _check_pages(engine, taxonomy, office) -> None:
    sessions = session_factory(engine)
    rng = random.Random(1)
    users = office["users"]
    with sessions() as session:
        for user in users.values():
            for _ in range(12):  # periods cut anywhere in a week, from a day to a quarter
                end = today() - timedelta(days=rng.randrange(0, 20))
                start = end - timedelta(days=rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 13, 40, 83]))
                period = stats.Period(start, end)
                town = rng.choice([None, None, "南港镇"])
                expected = stats.PeriodCounts()
                expected.add(stats.grouped_directly(session, user, start, end, town))
                got = stats.period_counts(session, user, period, town)
                assert got == expected.without_empty(), (user.role, start, end, town)
        supervisor = users["supervisor"]
        first = stats.monday(today()) - timedelta(days=7 * 7)
        for threshold in (0.2, 0.29, 0.43, 0.5, 0.995, 1.0):
            kept = drift.week_counts(session, supervisor, first, threshold)
            direct = drift.week_counts_directly(session, supervisor, first, threshold)
            assert sorted(kept) == sorted(direct), threshold
    for user in users.values():
        for weeks_back in range(3):
            _check_weekly_report(
                sessions, taxonomy, user, stats.monday(today()) - timedelta(weeks=weeks_back)
            )


def _check_weekly_report(sessions, taxonomy, user: User, first: date) -> None:
    """The report's counts against the office's rules applied to each case in Python."""
    with sessions() as session:
        report = stats.weekly_report(session, user, taxonomy, first)
        cases = session.scalars(select(Case)).all()
        if user.role == "handler":
            cases = [c for c in cases if c.unit_id == user.unit_id]
        elif user.role == "grid_worker":
            cases = [c for c in cases if c.filed_by_id == user.id]

    def in_week(moment) -> bool:
        return moment is not None and first <= local_date(moment) < first + timedelta(days=7)

    received = [c for c in cases if in_week(c.received_at)]
    closed = [c for c in cases if in_week(c.closed_at)]
    assert report.received == len(received)
    assert dict(report.by_channel) == dict(
        Counter(stats.CHANNELS.get(c.channel, c.channel) for c in received)
    )
    assert report.closed == _tally(closed).as_dict()
    assert report.overdue_open == sum(
        1
        for c in cases
        if c.state in stats.OPEN and c.due_date is not None and c.due_date < today()
    )
    towns_in = Counter(c.township or "未填写" for c in received)
    towns_done = Counter(c.township or "未填写" for c in closed)
    timely = Counter(
        c.township or "未填写"
        for c in closed
        if c.due_date is None or local_date(c.closed_at) <= c.due_date
    )
    assert report.by_township == [
        (t, towns_in[t], towns_done[t], timely[t]) for t in sorted(towns_in | towns_done)
    ]


def _tally(cases: list[Case]) -> Tally:
    t = Tally()
    for c in cases:
        if c.state in (State.MERGED, State.REFERRED):
            t.merged += c.state == State.MERGED
            t.referred += c.state == State.REFERRED
            continue
        t.total += 1
        if c.state in (State.DONE, State.RATED):
            t.closed += 1
            if c.due_date is None or (c.closed_at and local_date(c.closed_at) <= c.due_date):
                t.on_time += 1
        elif c.due_date is not None and c.due_date < today():
            t.overdue_open += 1
        if c.rating:
            t.rated += 1
            t.satisfied += c.rating in SATISFIED
    return t


def test_rolled_back_and_expired_changes(db):
    sessions = session_factory(db)
    case, _ = accept(sessions, text="低保名额给了村主任的侄子", channel="web", township="城关镇")
    with sessions() as session, session.begin():
        c = session.get(Case, case.id)
        c.category, c.confidence, c.due_date = "S01", 0.43, today() - timedelta(days=1)
    with sessions() as session:  # thrown away
        session.get(Case, case.id).state = State.MERGED
        session.flush()
        session.rollback()
    with sessions() as session, session.begin():  # a savepoint rolled back, the rest kept
        c = session.get(Case, case.id)
        with session.begin_nested() as nested:
            c.township = "南港镇"
            session.flush()
            nested.rollback()
        c.rating = "满意"
    with sessions() as session, session.begin():  # set while not loaded
        c = session.get(Case, case.id)
        session.expire(c)
        c.state = State.REFERRED
    assert_counts_fresh(db)
    with db.connect() as conn:
        rows = conn.execute(
            select(CaseCount.kind, CaseCount.township, CaseCount.cases).where(CaseCount.cases != 0)
        ).all()
    assert {r.township for r in rows if r.kind == "received"} == {"城关镇"}


def test_two_writers_at_once(db):
    sessions = session_factory(db)
    errors: list[BaseException] = []

    def file(k: int) -> None:
        try:
            for n in range(15):
                accept(
                    sessions, text=f"第{k}-{n}件：修路的钱不见了", channel="sms", township="南港镇"
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=file, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert_counts_fresh(db)
    with db.connect() as conn:
        kept = case_counts.stored(conn)
    assert sum(v["cases"] for k, v in kept.items() if k[0] == "received") == 45
    # PostgreSQL spreads one group over stripes (no queue on one row); SQLite keeps one row.
    with db.connect() as conn:
        stripes = conn.execute(
            select(CaseCount.stripe).where(CaseCount.kind == "received").distinct()
        ).scalars()
        used = set(stripes)
    assert (len(used) > 1) if db.dialect.name == "postgresql" else (used == {0})
    assert used <= set(range(case_counts.STRIPES))


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migration_fills_the_counts(kind, tmp_path):
    url, name = _database(kind, tmp_path)
    engine = make_engine(url)
    try:
        cfg = alembic_config(url)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0011")
        rng = random.Random(9)
        rows = [
            {
                "number": f"{20000000 + k}",
                "public_id": secrets.token_hex(8),
                "text": "测试",
                "channel": rng.choice(CHANNELS),
                "township": rng.choice(TOWNS),
                "category": rng.choice(["S01", "S02", OUT_CODE, None]),
                "received_at": _moment(rng, rng.randrange(0, 90)),
                "state": rng.choice([s.value for s in State]),
                "due_date": rng.choice([None, today() + timedelta(days=rng.randrange(-20, 20))]),
                "closed_at": rng.choice([None, _moment(rng, rng.randrange(0, 30))]),
                "rating": rng.choice([None, "", "满意", "不满意"]),
                "confidence": rng.choice([None, round(rng.random(), 3)]),
            }
            for k in range(300)
        ]
        with engine.begin() as conn:
            conn.execute(insert(Case), rows)
        migrate(engine)  # 0012 counts what is already there
        assert_counts_fresh(engine)
    finally:
        engine.dispose()
        _drop(name)


def test_python_rules_read_dates_as_each_database_does():
    """Beijing dates: PostgreSQL stores an instant, SQLite the wall-clock time as written (so
    a time written in another zone is read by its own clock there, as the SQL reads it)."""
    moment = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)  # Monday 01:00 in Beijing
    snap = case_counts.Snapshot(
        moment, None, None, "web", None, None, "已受理", None, None, None, None
    )
    (key, _), *_ = case_counts.contributions(snap, sqlite=False)
    assert key[1] == date(2026, 11, 30)
    (key, _), *_ = case_counts.contributions(snap, sqlite=True)
    assert key[1] == date(2026, 11, 23)
    (key, _), *_ = case_counts.contributions(
        snap._replace(received_at=moment.astimezone(CST)), sqlite=True
    )
    assert key[1] == date(2026, 11, 30)
