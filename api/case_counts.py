"""The counts behind 统计 and 周报, kept as cases change (issue 17, revision 0012).

Counting a quarter of a 500,000-case county afresh took PostgreSQL 0.5-1.5 s per page load.
``case_counts`` holds the same counts already added up per group, so the dashboard reads a few
thousand rows instead of scanning the cases. The rules are the office's (``api.metrics.rules``);
this module keeps them in Python as well, for the rows a change touches, and
``tests/test_case_counts.py`` checks the two agree on both databases.

Kinds of row (``case_counts.kind``), each keyed by the groups its readers need, with who may
see the cases (``unit_id``, ``filed_by_id``, as ``api.access.visible``) where roles differ:

- ``received``: by the Beijing week a case came in, township, item, unit and filer: the
  ``Tally`` counts and ``open_due``, the open cases with a deadline;
- ``channel``: the cases by the same groups and channel (the weekly report);
- ``due``: the open cases with a deadline again, by deadline (``day``): overdue = ``open_due``
  minus those not yet due, so nothing kept here depends on today's date; ``deadline``: the same
  by deadline alone (``week`` 9999-12-31), for the count of every overdue case;
- ``closed``: by the Beijing week a case was closed: the ``Tally`` counts of the cases closed
  that week and ``timely`` (closed by the deadline, whatever the state now); ``day`` is the
  deadline of a case that is open again but still has a closing time (old or hand-made data);
- ``confidence``: by week, item and the model's confidence in hundredths (``bucket``): the drift
  watch.

How they are kept: every write to a case goes through a SQLAlchemy session (``history.move``,
``intake.accept``, triage, the workflow). After each flush, what each changed case counted for
before and counts for now becomes a delta per row; at the transaction's commit the deltas are
added, in key order, by one upsert per row, in that same transaction. Adding them last, in one
order, keeps row locks short and two transactions from ever waiting on each other in a circle;
inside a savepoint they are added at once, so they roll back with it. Whatever writes cases
without the ORM (a bulk load with COPY or ``insert(Case)``) must call ``rebuild`` afterwards.

Stripes (revision 0013): every new web case of a week adds to the same two rows, so on
PostgreSQL concurrent filings queued on those rows' locks (a quarter of intake throughput, issue
15). Each group is kept in ``STRIPES`` rows (``stripe``), a transaction adding to one stripe
picked at random, and every reader sums over them, as it already sums over groups. SQLite has
one writer at a time, so it keeps stripe 0 only.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Connection, Integer, case, delete, event, func, insert, inspect, literal
from sqlalchemy import select as sql_select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from api.clock import aware
from api.lifecycle import CLOSED_STATES, State
from api.models import Case, CaseCount

TABLE = CaseCount.__table__
KEY = ("kind", "week", "day", "township", "category", "channel", "unit_id", "filed_by_id", "bucket")
COUNTERS = (
    "cases",
    "total",
    "closed",
    "on_time",
    "timely",
    "rated",
    "satisfied",
    "referred",
    "merged",
    "open_due",
)
NO_DAY = date(9999, 12, 31)  # never before today: no deadline counted
NO_BUCKET = -1  # no confidence, or a kind without it
COUNTED_OUT = {State.MERGED.value, State.REFERRED.value}
CLOSED = {s.value for s in CLOSED_STATES}
SATISFIED = {"满意", "基本满意"}
_PENDING = "case_counts.pending"
STRIPES = 8  # rows per group on PostgreSQL; readers sum over them

Key = tuple  # (kind, week, day, township, category, channel, unit_id, filed_by_id, bucket)
Deltas = dict[Key, dict[str, int]]


class confidence_bucket(FunctionElement):
    """A confidence's hundredths, truncated (0.437 -> 43): the same on both databases and in
    Python (``int(c * 100)``), all three multiplying the same double."""

    type = Integer()
    inherit_cache = True
    name = "confidence_bucket"


@compiles(confidence_bucket)
def _bucket_sqlite(element, compiler, **kw):
    return f"CAST(({compiler.process(element.clauses, **kw)}) * 100 AS INTEGER)"


@compiles(confidence_bucket, "postgresql")
def _bucket_pg(element, compiler, **kw):
    return f"CAST(trunc(({compiler.process(element.clauses, **kw)}) * 100) AS INTEGER)"


# -- one case's part of the counts, in Python ---------------------------------------------------
class Snapshot(NamedTuple):
    """What a case's counts depend on."""

    received_at: datetime
    township: str | None
    category: str | None
    channel: str | None
    unit_id: int | None
    filed_by_id: int | None
    state: str
    rating: str | None
    due_date: date | None
    closed_at: datetime | None
    confidence: float | None


FIELDS = Snapshot._fields


def _day(moment: datetime, sqlite: bool) -> date:
    """The Beijing date as the database's SQL reads it (``api.metrics.local_day``): SQLite keeps
    the wall-clock time as written, PostgreSQL an instant."""
    return moment.date() if sqlite else aware(moment).date()


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def contributions(case: Snapshot, sqlite: bool) -> Iterator[tuple[Key, dict[str, int]]]:
    """The rows one case counts in, and what it adds to each."""
    state = str(case.state)
    counted = state not in COUNTED_OUT
    closed = state in CLOSED
    closed_day = _day(case.closed_at, sqlite) if case.closed_at is not None else None
    timely = case.due_date is None or (closed_day is not None and closed_day <= case.due_date)
    rated = counted and case.rating not in (None, "")
    open_due = counted and not closed and case.due_date is not None
    tally = {
        "cases": 1,
        "total": int(counted),
        "closed": int(closed),
        "on_time": int(closed and timely),
        "rated": int(rated),
        "satisfied": int(rated and case.rating in SATISFIED),
        "referred": int(state == State.REFERRED.value),
        "merged": int(state == State.MERGED.value),
    }
    week = _monday(_day(case.received_at, sqlite))
    town, item = case.township or "", case.category or ""
    unit, filer = case.unit_id or 0, case.filed_by_id or 0
    yield (
        ("received", week, NO_DAY, town, item, "", unit, filer, NO_BUCKET),
        {**tally, "open_due": int(open_due)},
    )
    channel = case.channel or ""
    yield ("channel", week, NO_DAY, town, item, channel, unit, filer, NO_BUCKET), {"cases": 1}
    if open_due:
        yield ("due", week, case.due_date, town, item, "", unit, filer, NO_BUCKET), {"cases": 1}
        yield ("deadline", NO_DAY, case.due_date, "", "", "", unit, filer, NO_BUCKET), {"cases": 1}
    if closed_day is not None:
        day = case.due_date if open_due else NO_DAY
        yield (
            ("closed", _monday(closed_day), day, town, item, "", unit, filer, NO_BUCKET),
            {**tally, "timely": int(timely)},
        )
    if case.category is not None:
        bucket = NO_BUCKET if case.confidence is None else int(float(case.confidence) * 100)
        yield ("confidence", week, NO_DAY, "", case.category, "", 0, 0, bucket), {"cases": 1}


def _add(deltas: Deltas, case: Snapshot, sign: int, sqlite: bool) -> None:
    for key, counts in contributions(case, sqlite):
        row = deltas.setdefault(key, defaultdict(int))
        for name, n in counts.items():
            row[name] += sign * n


# -- keeping them: session events ----------------------------------------------------------------
def _now(obj: Case) -> Snapshot:
    return Snapshot(*(getattr(obj, name) for name in FIELDS))


def _before(obj: Case) -> Snapshot:
    """The values the last flush started from (the columns keep active history, so a value set
    before it was ever loaded still has its old one)."""
    attrs = inspect(obj).attrs
    values = []
    for name in FIELDS:
        history = attrs[name].history
        if history.deleted:
            values.append(history.deleted[0])
        elif history.unchanged:
            values.append(history.unchanged[0])
        else:  # not loaded and not changed: what the database holds
            values.append(getattr(obj, name))
    return Snapshot(*values)


def _flush_deltas(session: Session) -> Deltas:
    new = [obj for obj in session.new if isinstance(obj, Case)]
    dirty = [obj for obj in session.dirty if isinstance(obj, Case)]
    deleted = [obj for obj in session.deleted if isinstance(obj, Case)]
    if not (new or dirty or deleted):
        return {}
    deltas: Deltas = {}
    sqlite = session.get_bind(Case.__mapper__).dialect.name == "sqlite"
    for obj in new:
        _add(deltas, _now(obj), 1, sqlite)
    for obj in dirty:
        before, after = _before(obj), _now(obj)
        if before != after:
            _add(deltas, before, -1, sqlite)
            _add(deltas, after, 1, sqlite)
    for obj in deleted:
        _add(deltas, _before(obj), -1, sqlite)
    return {key: dict(row) for key, row in deltas.items() if any(row.values())}


def apply(connection: Connection, deltas: Deltas) -> None:
    """Add the deltas to their rows (created when new), in key order, all in one stripe."""
    postgresql = connection.dialect.name == "postgresql"
    stripe = random.randrange(STRIPES) if postgresql else 0
    rows = [
        {
            **dict(zip(KEY, key, strict=True)),
            "stripe": stripe,
            **{c: row.get(c, 0) for c in COUNTERS},
        }
        for key, row in sorted(deltas.items())
        if any(row.values())
    ]
    if not rows:
        return
    if postgresql:
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    stmt = upsert(TABLE)
    stmt = stmt.on_conflict_do_update(
        index_elements=[*KEY, "stripe"],
        set_={c: TABLE.c[c] + stmt.excluded[c] for c in COUNTERS},
    )
    connection.execute(stmt, rows)


@event.listens_for(Session, "after_flush")
def _count_flush(session: Session, _context) -> None:
    deltas = _flush_deltas(session)
    if not deltas:
        return
    if session.in_nested_transaction():
        apply(session.connection(), deltas)  # rolled back with the savepoint, if it is
        return
    pending: Deltas = session.info.setdefault(_PENDING, {})
    for key, row in deltas.items():
        mine = pending.setdefault(key, defaultdict(int))
        for name, n in row.items():
            mine[name] += n


@event.listens_for(Session, "before_commit")
def _count_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()  # the last changes count too
    pending = session.info.pop(_PENDING, None)
    if pending:
        apply(session.connection(), pending)


@event.listens_for(Session, "after_transaction_end")
def _count_end(session: Session, transaction) -> None:
    if transaction.parent is None:  # committed (added above) or rolled back: nothing pending
        session.info.pop(_PENDING, None)


# -- counting afresh ---------------------------------------------------------------------------
def _fresh_selects() -> list:
    """The rows of every kind, counted by the database from the cases (``api.metrics.rules``)."""
    from api.metrics import closed_on_time, open_with_due, rules, week_start

    def flag(condition):
        return case((condition, 1), else_=0)

    tally = {name: flag(condition) for name, condition in rules().items()}
    none = ""
    dims = {
        "township": func.coalesce(Case.township, none),
        "category": func.coalesce(Case.category, none),
        "unit_id": func.coalesce(Case.unit_id, 0),
        "filed_by_id": func.coalesce(Case.filed_by_id, 0),
    }

    def grouped(kind: str, columns: dict, counts: dict, where=None):
        columns = {
            "week": columns["week"],
            "day": columns.get("day", literal(NO_DAY)),
            "township": columns.get("township", literal(none)),
            "category": columns.get("category", literal(none)),
            "channel": columns.get("channel", literal(none)),
            "unit_id": columns.get("unit_id", literal(0)),
            "filed_by_id": columns.get("filed_by_id", literal(0)),
            "bucket": columns.get("bucket", literal(NO_BUCKET)),
        }
        inner = sql_select(
            *(c.label(name) for name, c in columns.items()),
            *(c.label(name) for name, c in counts.items()),
        )
        if where is not None:
            inner = inner.where(where)
        inner = inner.subquery()
        keys = [inner.c[name] for name in columns]
        return sql_select(
            literal(kind).label("kind"),
            *keys,
            *(
                func.sum(inner.c[c]).label(c)
                if c in counts
                else (func.count() if c == "cases" else literal(0)).label(c)
                for c in COUNTERS
            ),
        ).group_by(*keys)

    received_week = week_start(Case.received_at)
    open_due = open_with_due()
    visibility = {name: dims[name] for name in ("unit_id", "filed_by_id")}
    return [
        grouped("received", {"week": received_week, **dims}, {**tally, "open_due": flag(open_due)}),
        grouped(
            "channel",
            {"week": received_week, **dims, "channel": func.coalesce(Case.channel, none)},
            {},
        ),
        grouped("due", {"week": received_week, "day": Case.due_date, **dims}, {}, open_due),
        grouped(
            "deadline", {"week": literal(NO_DAY), "day": Case.due_date, **visibility}, {}, open_due
        ),
        grouped(
            "closed",
            {
                "week": week_start(Case.closed_at),
                "day": case((open_due, Case.due_date), else_=literal(NO_DAY)),
                **dims,
            },
            {**tally, "timely": flag(closed_on_time())},
            Case.closed_at.is_not(None),
        ),
        grouped(
            "confidence",
            {
                "week": received_week,
                "category": Case.category,
                "bucket": case(
                    (Case.confidence.is_(None), NO_BUCKET), else_=confidence_bucket(Case.confidence)
                ),
            },
            {},
            Case.category.is_not(None),
        ),
    ]


def fresh(connection: Connection) -> dict[Key, dict[str, int]]:
    """Every row as counted afresh from the cases, without writing (tests compare)."""
    out = {}
    for query in _fresh_selects():
        for row in connection.execute(query).mappings():
            out[_key(row)] = {c: int(row[c]) for c in COUNTERS if row[c]}
    return out


def stored(connection: Connection) -> dict[Key, dict[str, int]]:
    """Every group as kept, its stripes added up, leaving out groups whose counts are all 0."""
    sums: dict[Key, dict[str, int]] = {}
    for row in connection.execute(sql_select(TABLE)).mappings():
        group = sums.setdefault(_key(row), dict.fromkeys(COUNTERS, 0))
        for c in COUNTERS:
            group[c] += int(row[c])
    out = {}
    for key, group in sums.items():
        counts = {c: n for c, n in group.items() if n}
        if counts:
            out[key] = counts
    return out


def _key(row) -> Key:
    def as_date(value) -> date:
        return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])

    return tuple(as_date(row[name]) if name in ("week", "day") else row[name] for name in KEY)


def rebuild(connection: Connection) -> None:
    """Count every row afresh (into stripe 0): after a bulk load that bypassed the ORM, and the
    backfill of revision 0012. Run it while nothing else writes cases (it replaces the whole
    table)."""
    connection.execute(delete(TABLE))
    names = ["kind", *KEY[1:], *COUNTERS]
    for query in _fresh_selects():
        connection.execute(insert(TABLE).from_select(names, query))
