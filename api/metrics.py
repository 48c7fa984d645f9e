"""Office metrics: completion rate (办结率), on-time rate (按期办结率), satisfaction, by group."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from api.clock import local_date
from api.lifecycle import State

COUNTED_OUT = {State.MERGED, State.REFERRED}  # joined or sent elsewhere: not counted twice here
CLOSED = {State.DONE, State.RATED}
SATISFIED = {"满意", "基本满意"}


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


@dataclass
class Row:
    township: str | None
    category: str | None
    received_at: datetime
    state: str
    due_date: date | None
    closed_at: datetime | None
    rating: str | None


@dataclass
class Metrics:
    overall: Tally = field(default_factory=Tally)
    groups: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))


def group_key(row: Row, by: str) -> str:
    if by == "township":
        return row.township or "未填写"
    if by == "category":
        return row.category or "待分类"
    return local_date(row.received_at).strftime("%Y-%m")


def compute(rows: Iterable[Row], by: str, today: date) -> Metrics:
    metrics = Metrics()
    for row in rows:
        for tally in (metrics.overall, metrics.groups[group_key(row, by)]):
            _count(tally, row, today)
    return metrics


def _count(t: Tally, row: Row, today: date) -> None:
    state = State(row.state)
    if state == State.MERGED:
        t.merged += 1
        return
    if state == State.REFERRED:
        t.referred += 1
        return
    t.total += 1
    if state in CLOSED:
        t.closed += 1
        if row.due_date is None or (row.closed_at and local_date(row.closed_at) <= row.due_date):
            t.on_time += 1
    elif row.due_date is not None and row.due_date < today:
        t.overdue_open += 1
    if row.rating:
        t.rated += 1
        t.satisfied += row.rating in SATISFIED
