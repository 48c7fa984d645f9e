"""Numbers for the dashboard and the weekly report.

Rates are the office's own (``api.metrics``: 办结率, 按期办结率, 满意率); this module only picks
the cases (visible to the user, received in the chosen dates) and groups them by week, item
group and township for charts, tables and CSV files.

The counts are kept as cases change (``api.case_counts``, issue 17: counting a quarter of
500,000 cases afresh took 0.5-1.5 s a load): the dashboard adds up the kept counts by township
and item, and by township, item and week, for the whole weeks of the period, and counts the cases
of a week the period cuts (a few days at most) directly; the weekly report reads a week's kept
counts plus the 300 cases it publishes. No query returns one row per case, and every number is
what one ``GROUP BY`` over the cases would give.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from api.access import sees_every_case, visible, visible_counts
from api.clean import parse_day
from api.clock import local_date, now, today
from api.csv_export import to_csv
from api.lifecycle import OPEN_STATES, State
from api.metrics import Tally, tally_columns, week_start
from api.models import Case, CaseCount, CaseEvent, User
from api.workbench import cache
from api.workbench.queries import CHANNELS, describe_events, start_of
from classifiers.taxonomy import Taxonomy

OPEN = [s.value for s in OPEN_STATES]
TALLY_COUNTS = [f.name for f in fields(Tally) if f.name != "overdue_open"]
TOP_TOWNSHIPS = 8


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @classmethod
    def from_params(cls, params, default_days: int = 84) -> Period:
        def day(name: str) -> date | None:
            return parse_day(params.get(name))

        end = day("to") or today()
        start = day("from") or end - timedelta(days=default_days - 1)
        if start > end:
            start, end = end, start
        start = max(start, end - timedelta(days=3 * 366))  # charts stay readable
        return cls(start, end)

    def where(self) -> list:
        return [
            Case.received_at >= start_of(self.start),
            Case.received_at < start_of(self.end + timedelta(days=1)),
        ]

    def weeks(self) -> list[date]:
        first, weeks = monday(self.start), []
        while first <= self.end:
            weeks.append(first)
            first += timedelta(days=7)
        return weeks


@dataclass
class Group:
    """One (township, item, week) group: its cases and their counts."""

    township: str
    category: str
    week: date
    cases: int = 0
    tally: Tally = field(default_factory=Tally)


@dataclass
class PeriodCounts:
    """What the dashboard is drawn from: the counts by township and item over the period, and
    the cases by township, item and week. Townships and items with no case are left out ('' for
    none: both read 未填写 / 待分类)."""

    tallies: dict[tuple[str, str], Tally] = field(default_factory=dict)
    cases: dict[tuple[str, str, date], int] = field(default_factory=dict)

    def add(self, groups: Iterable[Group], sign: int = 1) -> None:
        for g in groups:
            key = (g.township, g.category)
            mine = self.tallies.get(key)
            if mine is None:
                mine = self.tallies[key] = Tally()
            mine.add(g.tally, sign)
            week = (g.township, g.category, g.week)
            self.cases[week] = self.cases.get(week, 0) + sign * g.cases

    def without_empty(self) -> PeriodCounts:
        return PeriodCounts(
            {k: t for k, t in self.tallies.items() if any(t.__dict__.values())},
            {k: n for k, n in self.cases.items() if n},
        )


def period_counts(
    session: Session, user: User, period: Period, township: str | None
) -> PeriodCounts:
    """The period's counts: whole weeks from ``case_counts``; a week the period cuts is counted
    from the cases for the days inside it, or, when more days are inside than out, taken whole
    less the days outside. Every count equals what one ``GROUP BY`` over the period's cases gives
    (``grouped_directly``)."""
    out = PeriodCounts()
    whole: list[date] = []
    for week in period.weeks():
        first, last = max(period.start, week), min(period.end, week + timedelta(days=6))
        inside = (last - first).days + 1
        if inside == 7:
            whole.append(week)
        elif inside <= 3:
            out.add(grouped_directly(session, user, first, last, township))
        else:
            whole.append(week)
            if first > week:
                before = grouped_directly(session, user, week, first - timedelta(days=1), township)
                out.add(before, -1)
            if last < week + timedelta(days=6):
                after = grouped_directly(
                    session, user, last + timedelta(days=1), week + timedelta(days=6), township
                )
                out.add(after, -1)
    if whole:
        _add_counted(out, session, user, whole[0], whole[-1], township)
    return out.without_empty()


def _add_counted(
    out: PeriodCounts, session: Session, user: User, first: date, last: date, township: str | None
) -> None:
    """Add the weeks ``first``..``last`` (Mondays) as ``case_counts`` keeps them: the counts by
    township and item (overdue = open with a deadline less those whose deadline is not past),
    and the cases by township, item and week."""
    t = CaseCount

    def query(kind: str, *columns, by_week: bool = False, where=()):
        keys = [t.township, t.category, *([t.week] if by_week else [])]
        q = select(*keys, *columns).where(t.kind == kind, t.week >= first, t.week <= last, *where)
        if township:
            q = q.where(t.township == township)
        return session.execute(visible_counts(q.group_by(*keys), user))

    not_due = {
        (town, item): n
        for town, item, n in query("due", func.sum(t.cases), where=[t.day >= today()])
    }
    sums = [func.sum(getattr(t, name)) for name in (*TALLY_COUNTS, "open_due")]
    for town, item, *counts in query("received", *sums):
        tally = Tally(**dict(zip(TALLY_COUNTS, counts, strict=False)))
        tally.overdue_open = counts[-1] - not_due.get((town, item), 0)
        key = (town, item)
        if key in out.tallies:
            out.tallies[key].add(tally)
        else:
            out.tallies[key] = tally
    cases = out.cases
    for town, item, week, n in query("received", func.sum(t.cases), by_week=True):
        key = (town, item, _as_date(week))
        cases[key] = cases.get(key, 0) + n


def grouped_directly(
    session: Session, user: User, first: date, last: date, township: str | None
) -> list[Group]:
    """(township, item, week) groups of the cases received from ``first`` to ``last`` (Beijing
    dates, inclusive), counted from the cases by one ``GROUP BY``."""
    week = week_start(Case.received_at).label("week")
    query = (
        select(Case.township, Case.category, week, func.count().label("cases"))
        .add_columns(*tally_columns(today()))
        .where(Case.received_at >= start_of(first))
        .where(Case.received_at < start_of(last + timedelta(days=1)))
        .group_by(Case.township, Case.category, week)
    )
    if township:
        query = query.where(Case.township == township)
    return [
        Group(r.township or "", r.category or "", _as_date(r.week), r.cases, Tally.of(r))
        for r in session.execute(visible(query, user))
    ]


@dataclass
class Growth:
    event_id: str
    recent: int
    previous: int
    reporters: int
    number: str = ""
    snippet: str = ""
    category: str | None = None
    township: str | None = None
    village: str | None = None


def growing_events(session: Session, user: User, limit: int = 10) -> list[Growth]:
    """Events with the most new cases in the last 7 days compared with the 7 before."""
    moment = now()
    week_ago = moment - timedelta(days=7)
    recent = func.sum(case((Case.received_at >= week_ago, 1), else_=0))
    previous = func.sum(case((Case.received_at < week_ago, 1), else_=0))
    query = (
        select(Case.event_id, recent, previous, func.max(Case.event_reporters))
        .where(Case.event_id.is_not(None), Case.received_at >= moment - timedelta(days=14))
        .group_by(Case.event_id)
        .having(recent > 0)
        .order_by((recent - previous).desc(), recent.desc(), Case.event_id)
        .limit(limit)
    )
    rows = [Growth(*r) for r in session.execute(visible(query, user)).all()]
    rows = [r for r in rows if r.recent + r.previous > 1]  # one complaint is no event yet
    describe_events(session, user, rows)
    return rows


@dataclass
class Dashboard:
    period: Period
    overall: dict
    by_township: list[tuple[str, dict]]
    by_group: list[tuple[str, dict]]
    by_item: list[tuple[str, str, dict]]
    weeks: list[date]
    weekly_groups: dict[str, list[int]] = field(default_factory=dict)
    weekly_townships: dict[str, list[int]] = field(default_factory=dict)
    growing: list[Growth] = field(default_factory=list)

    def chart_data(self) -> dict:
        """What the page's charts draw (embedded as JSON, read by static/workbench.js)."""
        labels = [w.strftime("%m-%d") for w in self.weeks]
        return {
            "groups": {"labels": labels, "series": self.weekly_groups},
            "townships": {"labels": labels, "series": self.weekly_townships},
            "rates": {
                "labels": [name for name, _ in self.by_township],
                "completion": [_pct100(t["completion_rate"]) for _, t in self.by_township],
                "on_time": [_pct100(t["on_time_rate"]) for _, t in self.by_township],
                "satisfaction": [_pct100(t["satisfaction_rate"]) for _, t in self.by_township],
            },
        }


def _pct100(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def dashboard(
    session: Session, user: User, taxonomy: Taxonomy, period: Period, township: str | None
) -> Dashboard:
    key = ("dashboard", id(session.get_bind()), cache.scope(user), period, township, today())
    return cache.cached(key, lambda: _dashboard(session, user, taxonomy, period, township))


def _dashboard(
    session: Session, user: User, taxonomy: Taxonomy, period: Period, township: str | None
) -> Dashboard:
    group_name = {item.code: taxonomy.groups.get(item.group, item.group) for item in taxonomy.items}
    weeks = period.weeks()
    index = {w: k for k, w in enumerate(weeks)}
    overall = Tally()
    by_town: dict[str, Tally] = defaultdict(Tally)
    by_item: dict[str, Tally] = defaultdict(Tally)
    by_group: dict[str, Tally] = defaultdict(Tally)
    weekly_groups: dict[str, list[int]] = defaultdict(lambda: [0] * len(weeks))
    town_weeks: dict[str, list[int]] = defaultdict(lambda: [0] * len(weeks))
    town_total: Counter[str] = Counter()
    counts = period_counts(session, user, period, township)
    for (town, item), tally in counts.tallies.items():
        by_town[town or "未填写"].add(tally)
        by_item[item or "待分类"].add(tally)
    for code, tally in by_item.items():  # an item's group and the whole: sums of items
        by_group[group_name.get(code, "待分类")].add(tally)
        overall.add(tally)
    for (town, item, week), n in counts.cases.items():
        k = index.get(week)
        if k is None:
            continue
        town = town or "未填写"
        weekly_groups[group_name.get(item, "待分类")][k] += n
        town_weeks[town][k] += n
        town_total[town] += n
    top = [t for t, _ in sorted(town_total.items(), key=lambda kv: (-kv[1], kv[0]))]
    top = top[:TOP_TOWNSHIPS]
    weekly_towns = {t: town_weeks[t] for t in top}
    rest = [t for t in town_weeks if t not in top]
    if rest:
        weekly_towns["其他"] = [sum(town_weeks[t][k] for t in rest) for k in range(len(weeks))]
    names = {item.code: item.name for item in taxonomy.items}
    return Dashboard(
        period=period,
        overall=overall.as_dict(),
        by_township=[(k, v.as_dict()) for k, v in sorted(by_town.items())],
        by_group=[(k, v.as_dict()) for k, v in sorted(by_group.items())],
        by_item=[(code, names.get(code, code), v.as_dict()) for code, v in sorted(by_item.items())],
        weeks=weeks,
        weekly_groups=dict(sorted(weekly_groups.items())),
        weekly_townships=weekly_towns,
        growing=growing_events(session, user),
    )


def _as_date(value) -> date | None:
    """A week start as the driver returns it (a date; text on some SQLite paths)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# -- CSV ---------------------------------------------------------------------------------------
_RATE_HEADER = [
    "受理",
    "办结",
    "办结率",
    "按期办结率",
    "已评价",
    "满意率",
    "超期未办结",
    "清单外转办",
    "合并",
]


def _rate_cells(t: dict) -> list:
    def pct(v: float | None) -> str:
        return "" if v is None else f"{v * 100:.1f}%"

    return [
        t["total"],
        t["closed"],
        pct(t["completion_rate"]),
        pct(t["on_time_rate"]),
        t["rated"],
        pct(t["satisfaction_rate"]),
        t["overdue_open"],
        t["referred_out_of_list"],
        t["merged"],
    ]


def export(board: Dashboard, table: str) -> tuple[str, str] | None:
    """(file name, CSV text) of one of the dashboard's tables, or None for an unknown table."""
    span = f"{board.period.start:%Y%m%d}-{board.period.end:%Y%m%d}"
    if table == "township":
        rows = [[name, *_rate_cells(t)] for name, t in board.by_township]
        return f"township-{span}.csv", to_csv(["乡镇", *_RATE_HEADER], rows)
    if table == "group":
        rows = [[name, *_rate_cells(t)] for name, t in board.by_group]
        return f"item-group-{span}.csv", to_csv(["事项分组", *_RATE_HEADER], rows)
    if table == "item":
        rows = [[code, name, *_rate_cells(t)] for code, name, t in board.by_item]
        return f"item-{span}.csv", to_csv(["事项编号", "事项名称", *_RATE_HEADER], rows)
    if table == "weekly":
        series = {**{f"事项:{k}": v for k, v in board.weekly_groups.items()}}
        series.update({f"乡镇:{k}": v for k, v in board.weekly_townships.items()})
        rows = [
            [week.isoformat(), *(values[k] for values in series.values())]
            for k, week in enumerate(board.weeks)
        ]
        return f"weekly-{span}.csv", to_csv(["周一", *series], rows)
    if table == "events":
        rows = [
            [
                g.event_id,
                g.recent,
                g.previous,
                g.reporters,
                g.number,
                g.township,
                g.village,
                g.snippet,
            ]
            for g in board.growing
        ]
        header = ["事件", "近7天", "前7天", "反映人数", "首件案件", "乡镇", "村", "摘要"]
        return f"growing-events-{span}.csv", to_csv(header, rows)
    return None


# -- the weekly 信息公开/办理 report ------------------------------------------------------------
@dataclass
class WeeklyReport:
    start: date
    end: date
    received: int
    by_channel: list[tuple[str, int]]
    closed: dict
    escalated: int
    referred: int
    overdue_open: int
    by_group: list[tuple[str, int, int]]
    by_township: list[tuple[str, int, int, int]]
    published: list[dict]


PUBLISHED = 300  # closed cases listed in the report, earliest closed first


def weekly_report(session: Session, user: User, taxonomy: Taxonomy, first: date) -> WeeklyReport:
    key = ("weekly", id(session.get_bind()), cache.scope(user), first, today())
    return cache.cached(key, lambda: _weekly_report(session, user, taxonomy, first))


def _weekly_report(session: Session, user: User, taxonomy: Taxonomy, first: date) -> WeeklyReport:
    start, end = start_of(first), start_of(first + timedelta(days=7))
    group_name = {item.code: taxonomy.groups.get(item.group, item.group) for item in taxonomy.items}
    names = {item.code: item.name for item in taxonomy.items}
    t = CaseCount
    # Received and closed this week, and open past the deadline: from case_counts.
    received = session.execute(
        visible_counts(
            select(t.channel, t.category, t.township, func.sum(t.cases).label("n"))
            .where(t.kind == "channel", t.week == first)
            .group_by(t.channel, t.category, t.township),
            user,
        )
    ).all()
    received = [r for r in received if r.n]
    past_due = case((t.day < today(), t.cases), else_=0)
    closed_groups = session.execute(
        visible_counts(
            select(
                t.township,
                t.category,
                func.sum(t.cases).label("n"),
                func.sum(t.timely).label("timely"),
                *(func.sum(getattr(t, name)).label(name) for name in TALLY_COUNTS),
                func.sum(past_due).label("overdue_open"),
            )
            .where(t.kind == "closed", t.week == first)
            .group_by(t.township, t.category),
            user,
        )
    ).all()
    closed_groups = [r for r in closed_groups if r.n]
    closed_in_week = (Case.closed_at >= start, Case.closed_at < end)
    published_rows = session.execute(
        visible(
            select(
                Case.id,
                Case.number,
                Case.township,
                Case.village,
                Case.category,
                Case.closed_at,
                Case.due_date,
            )
            .where(*closed_in_week)
            .order_by(Case.closed_at, Case.id)
            .limit(PUBLISHED),
            user,
        )
    ).all()
    events = select(CaseEvent.action, CaseEvent.to_state, func.count())
    if not sees_every_case(user):  # whose case it is decides who sees the event
        events = visible(events.join(Case, Case.id == CaseEvent.case_id), user)
    events = session.execute(
        events.where(CaseEvent.at >= start, CaseEvent.at < end)
        .where(
            (CaseEvent.action == "escalated")
            | ((CaseEvent.action == "state") & (CaseEvent.to_state == State.REFERRED.value))
        )
        .group_by(CaseEvent.action, CaseEvent.to_state)
    ).all()
    counts = {action: n for action, _, n in events}
    overdue_open = (
        session.scalar(
            visible_counts(
                select(func.sum(t.cases)).where(t.kind == "deadline", t.day < today()), user
            )
        )
        or 0
    )
    channels = _counter(received, lambda r: CHANNELS.get(r.channel, r.channel))
    groups_in = _counter(received, lambda r: group_name.get(r.category or "", "待分类"))
    towns_in = _counter(received, lambda r: r.township or "未填写")
    groups_done = _counter(closed_groups, lambda r: group_name.get(r.category or "", "待分类"))
    towns_done = _counter(closed_groups, lambda r: r.township or "未填写")
    towns_on_time: Counter[str] = Counter()
    closed = Tally()
    for r in closed_groups:
        towns_on_time[r.township or "未填写"] += r.timely
        closed.add(Tally.of(r))
    replies = _last_replies(session, [r.id for r in published_rows])
    return WeeklyReport(
        start=first,
        end=first + timedelta(days=6),
        received=sum(r.n for r in received),
        by_channel=channels.most_common(),
        closed=closed.as_dict(),
        escalated=counts.get("escalated", 0),
        referred=counts.get("state", 0),
        overdue_open=overdue_open,
        by_group=[(g, groups_in[g], groups_done[g]) for g in sorted(groups_in | groups_done)],
        by_township=[
            (t, towns_in[t], towns_done[t], towns_on_time[t]) for t in sorted(towns_in | towns_done)
        ],
        published=[
            {
                "number": r.number,
                "place": "".join(p for p in (r.township, r.village) if p),
                "item": names.get(r.category or "", "待分类"),
                "closed_at": r.closed_at,
                "on_time": r.due_date is None or local_date(r.closed_at) <= r.due_date,
                "reply": replies.get(r.id, ""),
            }
            for r in published_rows
        ],
    )


def _counter(rows: Iterable, key) -> Counter[str]:
    """Add up grouped counts (``n``) under ``key(row)``."""
    out: Counter[str] = Counter()
    for r in rows:
        out[key(r)] += r.n
    return out


def _last_replies(session: Session, case_ids: list[int]) -> dict[int, str]:
    """Each case's latest reply to the resident (what the report makes public)."""
    found: dict[int, str] = {}
    for start in range(0, len(case_ids), 500):
        chunk = case_ids[start : start + 500]
        for case_id, note in session.execute(
            select(CaseEvent.case_id, CaseEvent.note)
            .where(CaseEvent.case_id.in_(chunk), CaseEvent.action == "reply")
            .order_by(CaseEvent.id)
        ).all():
            found[case_id] = note or ""
    return found
