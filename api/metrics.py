"""Office metrics: completion rate (办结率), on-time rate (按期办结率), satisfaction, by group.

The counts behind the rates are computed by the database (one ``SUM(CASE …)`` per count, see
``tally_columns``): loading every case into Python took 260-500 ms at 50,000 cases (issue 17).
The rules, in one place:

- a merged case (已合并) or one referred elsewhere (清单外转办) is counted apart, not in the total;
- 办结 is 已办结 or 已评价; on time when it closed (its Beijing date) by its due date, or it had
  none;
- an open case past its due date is 超期未办结;
- a rating (满意, 基本满意, 不满意) counts as rated; 满意 and 基本满意 as satisfied.

Dates: cases store Beijing time; SQLite keeps the wall-clock time as written, PostgreSQL an
instant, so ``local_day``/``week_start``/``local_month`` read the Beijing date on both.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date

from sqlalchemy import Date, String, and_, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from api.access import visible
from api.lifecycle import State
from api.models import Case, User

COUNTED_OUT = {State.MERGED, State.REFERRED}  # joined or sent elsewhere: not counted twice here
CLOSED = {State.DONE, State.RATED}
SATISFIED = {"满意", "基本满意"}
ZONE = "Asia/Shanghai"


# -- Beijing dates in SQL ----------------------------------------------------------------------
class local_day(FunctionElement):
    """The Beijing date of a timestamp column."""

    type = Date()
    inherit_cache = True
    name = "local_day"


class week_start(FunctionElement):
    """The Monday (Beijing date) of a timestamp column's week."""

    type = Date()
    inherit_cache = True
    name = "week_start"


class local_month(FunctionElement):
    """'YYYY-MM' of a timestamp column's Beijing date."""

    type = String()
    inherit_cache = True
    name = "local_month"


@compiles(local_day)
def _day_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(local_day, "postgresql")
def _day_pg(element, compiler, **kw):
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE '{ZONE}') AS DATE)"


@compiles(week_start)
def _week_sqlite(element, compiler, **kw):
    # 'weekday 0' moves on to the Sunday ending the week (or stays on it); 6 days back is Monday.
    return f"date({compiler.process(element.clauses, **kw)}, 'weekday 0', '-6 days')"


@compiles(week_start, "postgresql")
def _week_pg(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    return f"CAST(date_trunc('week', {column} AT TIME ZONE '{ZONE}') AS DATE)"


@compiles(local_month)
def _month_sqlite(element, compiler, **kw):
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(local_month, "postgresql")
def _month_pg(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE '{ZONE}', 'YYYY-MM')"


# -- the counts ----------------------------------------------------------------------------------
@dataclass
class Tally:
    total: int = 0
    closed: int = 0
    on_time: int = 0
    rated: int = 0
    satisfied: int = 0
    overdue_open: int = 0
    referred: int = 0
    merged: int = 0

    def add(self, other: Tally, sign: int = 1) -> None:
        """Add (``sign`` -1: take away) another group's counts: counts of disjoint groups add.
        (The dashboard adds up a few thousand groups four ways: plain dict arithmetic.)"""
        mine, theirs = self.__dict__, other.__dict__
        for name in TALLY_FIELDS:
            mine[name] += sign * theirs[name]

    @classmethod
    def of(cls, row) -> Tally:
        """From a result row holding ``tally_columns``."""
        m = row._mapping
        return cls(**{f.name: int(m[f.name] or 0) for f in fields(cls)})

    def as_dict(self) -> dict:
        def rate(num: int, den: int) -> float | None:
            return round(num / den, 4) if den else None

        return {
            "total": self.total,
            "closed": self.closed,
            "completion_rate": rate(self.closed, self.total),
            "on_time_rate": rate(self.on_time, self.closed),
            "satisfaction_rate": rate(self.satisfied, self.rated),
            "rated": self.rated,
            "overdue_open": self.overdue_open,
            "referred_out_of_list": self.referred,
            "merged": self.merged,
        }


TALLY_FIELDS = tuple(f.name for f in fields(Tally))


def _count(condition) -> object:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def closed_on_time():
    """Closed (its Beijing date) by the due date, or no due date: whatever the state now."""
    return or_(Case.due_date.is_(None), local_day(Case.closed_at) <= Case.due_date)


def rules() -> dict[str, object]:
    """The office's rules as SQL conditions on one case, by ``Tally`` field, except
    ``overdue_open`` (it depends on today's date: ``open_with_due`` and a deadline before today).
    ``api.case_counts`` keeps the same counts in Python as cases change."""
    states = Case.state
    counted = states.not_in([s.value for s in COUNTED_OUT])
    closed = states.in_([s.value for s in CLOSED])
    rated = and_(counted, Case.rating.is_not(None), Case.rating != "")
    return {
        "total": counted,
        "closed": closed,
        "on_time": and_(closed, closed_on_time()),
        "rated": rated,
        "satisfied": and_(rated, Case.rating.in_(SATISFIED)),
        "referred": states == State.REFERRED.value,
        "merged": states == State.MERGED.value,
    }


def open_with_due():
    """Counted, not closed, with a deadline: overdue once the deadline has passed."""
    return and_(
        Case.state.not_in([s.value for s in COUNTED_OUT | CLOSED]), Case.due_date.is_not(None)
    )


def tally_columns(today: date) -> list:
    """The ``Tally`` counts as SQL aggregates, labelled by field name (add to a grouped select)."""
    columns = [_count(condition).label(name) for name, condition in rules().items()]
    overdue = and_(open_with_due(), Case.due_date < today)
    return [*columns, _count(overdue).label("overdue_open")]


@dataclass
class Metrics:
    overall: Tally = field(default_factory=Tally)
    groups: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))


GROUPINGS = ("township", "category", "month")


def _group_column(by: str):
    if by == "township":
        return Case.township
    if by == "category":
        return Case.category
    return local_month(Case.received_at)


def group_name(value: str | None, by: str) -> str:
    if by == "township":
        return value or "未填写"
    if by == "category":
        return value or "待分类"
    return value or ""


def metrics_by(session: Session, user: User, by: str, today: date) -> Metrics:
    """The office's rates over every case the user may see, overall and by ``by``."""
    key = _group_column(by).label("key")
    query = select(key, *tally_columns(today)).group_by(key)
    out = Metrics()
    for row in session.execute(visible(query, user)).all():
        tally = Tally.of(row)
        out.overall.add(tally)
        out.groups[group_name(row.key, by)].add(tally)
    return out
