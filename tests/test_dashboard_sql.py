"""The dashboard's and weekly report's counts, computed by the database (issue 17), equal a plain
Python count over the same seeded cases, on SQLite and on PostgreSQL. Times near midnight
Beijing time check that both databases read the Beijing date (PostgreSQL stores UTC)."""

from __future__ import annotations

import random
import secrets
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta

import psycopg
import pytest
from sqlalchemy import insert, select

from api.case_counts import rebuild
from api.clock import CST, today
from api.db import make_engine, migrate, session_factory
from api.lifecycle import State
from api.metrics import metrics_by
from api.models import Case, User
from api.workbench import cache, stats
from api.workbench.drift import drift_watch
from classifiers.taxonomy import load_taxonomy
from hotline.processes import PG_ADMIN_URL

STATES = [s.value for s in State]
TOWNS = ["城关镇", "南港镇", "北坡镇", None, ""]
RATINGS = [None, None, "满意", "基本满意", "不满意", ""]
SUPERVISOR = User(username="s", display_name="s", role="supervisor", password_hash="x")


def _cases(n: int) -> list[dict]:
    rng = random.Random(5)
    codes = [i.code for i in load_taxonomy().items] + [None]
    day0 = today()
    rows = []
    for k in range(n):
        day = day0 - timedelta(days=rng.randrange(0, 100))
        # a quarter just before or after midnight Beijing time (UTC: 16:00 the day before)
        clock = rng.choice([time(0, 10), time(23, 50), time(rng.randrange(24), rng.randrange(60))])
        received = datetime.combine(day, clock, CST)
        state = rng.choice(STATES)
        closed = None
        if rng.random() < 0.7:
            closed = datetime.combine(
                day + timedelta(days=rng.randrange(0, 20)),
                rng.choice([time(0, 5), time(23, 55)]),
                CST,
            )
        rows.append(
            {
                "number": f"{10000000 + k}",
                "public_id": secrets.token_hex(8),
                "text": "测试",
                "channel": rng.choice(["web", "sms", "voice", "grid_worker"]),
                "township": rng.choice(TOWNS),
                "category": rng.choice(codes),
                "received_at": received,
                "state": state,
                "due_date": rng.choice([None, day + timedelta(days=rng.randrange(0, 30))]),
                "closed_at": closed,
                "rating": rng.choice(RATINGS),
                "confidence": rng.choice([None, round(rng.random(), 3)]),
            }
        )
    return rows


def _tally(rows: list[dict], day: date) -> dict:
    """The office's rules, counted one case at a time."""
    t = Counter()
    for r in rows:
        if r["state"] == State.MERGED:
            t["merged"] += 1
            continue
        if r["state"] == State.REFERRED:
            t["referred"] += 1
            continue
        t["total"] += 1
        if r["state"] in (State.DONE, State.RATED):
            t["closed"] += 1
            if r["due_date"] is None or (r["closed_at"] and r["closed_at"].date() <= r["due_date"]):
                t["on_time"] += 1
        elif r["due_date"] is not None and r["due_date"] < day:
            t["overdue_open"] += 1
        if r["rating"]:
            t["rated"] += 1
            t["satisfied"] += r["rating"] in ("满意", "基本满意")
    return {
        "total": t["total"],
        "closed": t["closed"],
        "rated": t["rated"],
        "overdue_open": t["overdue_open"],
        "referred_out_of_list": t["referred"],
        "merged": t["merged"],
        "completion_rate": round(t["closed"] / t["total"], 4) if t["total"] else None,
        "on_time_rate": round(t["on_time"] / t["closed"], 4) if t["closed"] else None,
        "satisfaction_rate": round(t["satisfied"] / t["rated"], 4) if t["rated"] else None,
    }


@pytest.fixture(autouse=True)
def fresh_counts(monkeypatch):
    monkeypatch.setenv("HOTLINE_STATS_CACHE_SECONDS", "0")
    cache.clear()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(request, tmp_path_factory):
    name = None
    if request.param == "postgresql":
        name = f"ops_dash_{secrets.token_hex(4)}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        url = f"{url}/{name}"
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('dash') / 'h.db'}"
    engine = make_engine(url)
    migrate(engine)
    rows = _cases(1500)
    with engine.begin() as conn:
        conn.execute(insert(Case), rows)
        rebuild(conn)  # a bulk insert bypasses the ORM, which keeps case_counts
    yield session_factory(engine), rows
    engine.dispose()
    if name:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_dashboard_counts_equal_python(seeded):
    sessions, rows = seeded
    taxonomy = load_taxonomy()
    period = stats.Period(today() - timedelta(days=83), today())
    inside = [r for r in rows if period.start <= r["received_at"].date() <= period.end]
    assert 500 < len(inside) < len(rows)  # the period really cuts
    with sessions() as session:
        board = stats.dashboard(session, SUPERVISOR, taxonomy, period, None)
        one_town = stats.dashboard(session, SUPERVISOR, taxonomy, period, "南港镇")
    day = today()
    assert board.overall == _tally(inside, day)
    by_town = defaultdict(list)
    by_item = defaultdict(list)
    weekly = defaultdict(Counter)
    group_of = {i.code: taxonomy.groups.get(i.group, i.group) for i in taxonomy.items}
    for r in inside:
        by_town[r["township"] or "未填写"].append(r)
        by_item[r["category"] or "待分类"].append(r)
        monday = r["received_at"].date() - timedelta(days=r["received_at"].weekday())
        weekly[group_of.get(r["category"] or "", "待分类")][monday] += 1
    assert dict(board.by_township) == {k: _tally(v, day) for k, v in by_town.items()}
    assert {code: t for code, _, t in board.by_item} == {
        k: _tally(v, day) for k, v in by_item.items()
    }
    assert board.weekly_groups == {g: [weekly[g][w] for w in board.weeks] for g in sorted(weekly)}
    assert sum(sum(v) for v in board.weekly_townships.values()) == len(inside)
    assert one_town.overall == _tally([r for r in inside if r["township"] == "南港镇"], day)


def test_weekly_report_counts_equal_python(seeded):
    sessions, rows = seeded
    taxonomy = load_taxonomy()
    first = stats.monday(today() - timedelta(days=14))
    last = first + timedelta(days=6)

    def within(moment):
        return moment is not None and first <= moment.date() <= last

    received = [r for r in rows if within(r["received_at"])]
    closed = [r for r in rows if within(r["closed_at"])]
    with sessions() as session:
        report = stats.weekly_report(session, SUPERVISOR, taxonomy, first)
    assert report.received == len(received) > 0
    assert report.closed == _tally(closed, today())
    towns_done = Counter(r["township"] or "未填写" for r in closed)
    on_time = Counter(
        r["township"] or "未填写"
        for r in closed
        if r["due_date"] is None or r["closed_at"].date() <= r["due_date"]
    )
    towns_in = Counter(r["township"] or "未填写" for r in received)
    assert report.by_township == [
        (t, towns_in[t], towns_done[t], on_time[t]) for t in sorted(towns_in | towns_done)
    ]
    assert len(report.published) == min(300, len(closed))
    order = sorted(closed, key=lambda r: (r["closed_at"], int(r["number"])))
    assert [p["number"] for p in report.published] == [r["number"] for r in order[:300]]


def test_metrics_by_month_equal_python(seeded):
    sessions, rows = seeded
    with sessions() as session:
        result = metrics_by(session, SUPERVISOR, "month", today())
    months = defaultdict(list)
    for r in rows:
        months[r["received_at"].strftime("%Y-%m")].append(r)
    assert {k: v.as_dict() for k, v in result.groups.items()} == {
        k: _tally(v, today()) for k, v in months.items()
    }
    assert result.overall.as_dict() == _tally(rows, today())


def test_drift_watch_counts_equal_python(seeded):
    from classifiers.taxonomy import OUT_CODE

    sessions, rows = seeded
    with sessions() as session:
        watch = drift_watch(session, SUPERVISOR, load_taxonomy(), None)
    for week in watch.weeks:
        cases = [
            r
            for r in rows
            if r["category"] is not None
            and week.start <= r["received_at"].date() < week.start + timedelta(days=7)
        ]
        assert week.n == len(cases)
        if cases:
            assert week.out_share == sum(r["category"] == OUT_CODE for r in cases) / len(cases)
            scored = [r["confidence"] for r in cases if r["confidence"] is not None]
            low = sum(c < watch.review_threshold for c in scored) / len(scored) if scored else None
            assert week.low_share == low
    assert sum(w.n for w in watch.weeks) > 300


def test_counts_are_kept_a_minute_per_scope(seeded, monkeypatch):
    sessions, rows = seeded
    monkeypatch.setenv("HOTLINE_STATS_CACHE_SECONDS", "60")
    taxonomy = load_taxonomy()
    period = stats.Period(today() - timedelta(days=83), today())
    with sessions() as session:
        before = stats.dashboard(session, SUPERVISOR, taxonomy, period, None).overall["total"]
        extra = {**rows[0], "number": "19999999", "public_id": secrets.token_hex(8)}
        extra.update(received_at=datetime.now(CST), state=State.ACCEPTED.value)
        session.add(Case(**extra))
        session.commit()
        try:
            cached = stats.dashboard(session, SUPERVISOR, taxonomy, period, None)
            assert cached.overall["total"] == before  # counted less than a minute ago
            handler = User(username="h", display_name="h", role="handler", password_hash="x")
            handler.id, handler.unit_id = 99, 1
            mine = stats.dashboard(session, handler, taxonomy, period, None)
            assert mine.overall["total"] == 0  # another scope is never served the cached numbers
            cache.clear()
            fresh = stats.dashboard(session, SUPERVISOR, taxonomy, period, None)
            assert fresh.overall["total"] == before + 1
        finally:
            session.delete(session.scalars(select(Case).where(Case.number == "19999999")).one())
            session.commit()
