"""The workbench's queues: which cases each tab holds, in which order, how many, with filters.

Every query goes through ``api.access.visible`` (a handler sees only their unit's cases, a grid
worker only what they filed) and reads plain columns, never ORM objects, so a page of 50 rows is
one round trip. Each tab's condition matches an index of migration 0003 (or 0001's state/due
index), so the counts on every tab stay index range scans with tens of thousands of cases.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time

from sqlalchemy import and_, case, distinct, false, func, or_, select, true, union
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from api.access import visible
from api.clean import parse_day
from api.clock import CST, now, today
from api.deadlines import add_working_days
from api.lifecycle import OPEN_STATES, State
from api.models import Case, CaseCount, Unit, User
from api.rules import Rules
from api.staff_words import CHANNEL_NAMES
from classifiers.taxonomy import OUT_CODE

PAGE_SIZE = 50
OPEN = [s.value for s in OPEN_STATES]
CHANNELS = CHANNEL_NAMES  # one mapping of internal names to Chinese (api.staff_words)


@dataclass(frozen=True)
class Filters:
    """The filter bar: township, village, item, channel, received between two dates."""

    township: str | None = None
    village: str | None = None
    category: str | None = None
    channel: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_params(cls, params) -> Filters:
        def text(name: str) -> str | None:
            value = (params.get(name) or "").strip()
            return value[:50] or None

        def day(name: str) -> date | None:
            return parse_day(params.get(name))

        return cls(
            township=text("township"),
            village=text("village"),
            category=text("category"),
            channel=text("channel"),
            date_from=day("from"),
            date_to=day("to"),
        )

    def where(self) -> list[ColumnElement[bool]]:
        clauses = []
        for column, value in (
            (Case.township, self.township),
            (Case.village, self.village),
            (Case.category, self.category),
            (Case.channel, self.channel),
        ):
            if value is not None:
                clauses.append(column == value)
        if self.date_from is not None:
            clauses.append(Case.received_at >= start_of(self.date_from))
        if self.date_to is not None:
            clauses.append(Case.received_at < start_of(self.date_to + timedelta(days=1)))
        return clauses

    def params(self) -> dict[str, str]:
        """As query-string parameters (for tab links, paging and CSV export)."""
        names = {"date_from": "from", "date_to": "to"}
        return {
            names.get(k, k): v.isoformat() if isinstance(v, date) else v
            for k, v in asdict(self).items()
            if v is not None
        }

    @property
    def active(self) -> bool:
        return bool(self.params())


def start_of(day: date) -> datetime:
    """Midnight in China Standard Time: how received_at is stored."""
    return datetime.combine(day, clock_time(), CST)


@dataclass(frozen=True)
class Window:
    """The dates the deadline tabs are measured against (today, and the due-soon horizon)."""

    day: date
    horizon: date

    @classmethod
    def for_rules(cls, rules: Rules) -> Window:
        day = today()
        return cls(day, add_working_days(day, rules.due_soon_working_days))


RECORDING = "recording"  # a voicemail nobody has listened to yet (api.voicemail)


def tab_where(tab: str, window: Window) -> ColumnElement[bool]:
    if tab == "recordings":  # 待听录音: no item, no deadline until someone types what was said
        return and_(Case.triage_status == RECORDING, Case.state.in_(OPEN))
    if tab == "review":
        return and_(
            Case.state == State.ACCEPTED.value,
            Case.needs_review.is_(True),
            Case.triage_status != RECORDING,
        )
    if tab == "assign":
        return and_(
            Case.state == State.ACCEPTED.value,
            Case.needs_review.is_(False),
            Case.triage_status != RECORDING,
        )
    if tab == "due_soon":
        return and_(
            Case.state.in_(OPEN), Case.due_date >= window.day, Case.due_date <= window.horizon
        )
    if tab == "overdue":
        return and_(Case.state.in_(OPEN), Case.due_date < window.day)
    if tab == "escalated":  # escalated, or other cases were joined to it as repeats
        flagged = union(
            select(Case.id).where(Case.escalation_level > 0),
            select(Case.repeat_of_id).where(Case.repeat_of_id.is_not(None)),
        )
        return and_(Case.id.in_(flagged), Case.state.in_(OPEN))
    if tab == "mine":
        return Case.state.in_(OPEN)
    if tab == "filed":
        return true()
    if tab == "joint":
        return and_(Case.joint_review.is_(True), Case.event_id.is_not(None), Case.state.in_(OPEN))
    return false()


def _order(tab: str) -> list:
    if tab == "review":  # 清单外 first, then the least confident
        return [
            case((Case.category == OUT_CODE, 0), else_=1),
            Case.confidence.asc().nulls_first(),
            Case.received_at,
            Case.id,
        ]
    if tab in ("due_soon", "overdue", "mine"):
        return [Case.due_date.asc().nulls_last(), Case.id]
    if tab == "escalated":
        return [Case.escalation_level.desc(), Case.received_at, Case.id]
    if tab == "filed":
        return [Case.received_at.desc(), Case.id.desc()]
    return [Case.received_at, Case.id]


def count_tab(session: Session, user: User, tab: str, filters: Filters, window: Window) -> int:
    if tab == "joint":
        query = select(func.count(distinct(Case.event_id)))
    else:
        query = select(func.count()).select_from(Case)
    query = visible(query.where(tab_where(tab, window), *filters.where()), user)
    return session.scalar(query) or 0


def count_tabs(
    session: Session, user: User, tabs: tuple[str, ...], filters: Filters, window: Window
) -> dict[str, int]:
    return {tab: count_tab(session, user, tab, filters, window) for tab in tabs}


ROW_COLUMNS = (
    Case.number,
    Case.received_at,
    Case.channel,
    Case.township,
    Case.village,
    Case.category,
    Case.confidence,
    Case.top,  # the classifier's top 3, shown for cases sent to review (issue 16)
    Case.needs_review,
    Case.category_confirmed,
    Case.triage_status,
    Case.state,
    Case.due_date,
    Case.escalation_level,
    Case.event_id,
    Case.event_reporters,
    Case.joint_review,
    func.substr(Case.text, 1, 90).label("snippet"),
    Unit.name.label("unit_name"),
)


def _rows(session: Session, query) -> list:
    return session.execute(query).all()


def list_tab(
    session: Session, user: User, tab: str, filters: Filters, window: Window, page: int
) -> list:
    query = (
        select(*ROW_COLUMNS)
        .select_from(Case)
        .outerjoin(Unit, Unit.id == Case.unit_id)
        .where(tab_where(tab, window), *filters.where())
        .order_by(*_order(tab))
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return _rows(session, visible(query, user))


def pages(total: int) -> int:
    return max(1, math.ceil(total / PAGE_SIZE))


# -- events (多人反映同一问题) -------------------------------------------------------------------
@dataclass
class EventRow:
    event_id: str
    cases: int
    reporters: int
    open_cases: int
    recent: int  # cases in the last 7 days: how fast it grows
    first_at: datetime
    last_at: datetime
    number: str = ""
    snippet: str = ""
    category: str | None = None
    township: str | None = None
    village: str | None = None


def list_events(
    session: Session, user: User, filters: Filters, window: Window, page: int
) -> list[EventRow]:
    """Events flagged for joint review with open cases: most reporters, then fastest growing."""
    week_ago = now() - timedelta(days=7)
    recent = func.sum(case((Case.received_at >= week_ago, 1), else_=0))
    query = (
        select(
            Case.event_id,
            func.count(),
            func.max(Case.event_reporters),
            func.sum(case((Case.state.in_(OPEN), 1), else_=0)),
            recent,
            func.min(Case.received_at),
            func.max(Case.received_at),
        )
        .where(Case.joint_review.is_(True), Case.event_id.is_not(None), *filters.where())
        .group_by(Case.event_id)
        .having(func.sum(case((Case.state.in_(OPEN), 1), else_=0)) > 0)
        .order_by(func.max(Case.event_reporters).desc(), recent.desc(), func.max(Case.id).desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    rows = [EventRow(*r) for r in session.execute(visible(query, user)).all()]
    describe_events(session, user, rows)
    return rows


def describe_events(session: Session, user: User, rows: list) -> None:
    """Fill in each event row's first case (number, snippet, item, place): what it is about."""
    if not rows:
        return
    first_ids = (
        select(func.min(Case.id))
        .where(Case.event_id.in_([r.event_id for r in rows]))
        .group_by(Case.event_id)
    )
    found = session.execute(
        visible(
            select(
                Case.event_id,
                Case.number,
                func.substr(Case.text, 1, 90),
                Case.category,
                Case.township,
                Case.village,
            ).where(Case.id.in_(first_ids)),
            user,
        )
    ).all()
    by_event = {r[0]: r for r in found}
    for row in rows:
        if row.event_id in by_event:
            _, row.number, row.snippet, row.category, row.township, row.village = by_event[
                row.event_id
            ]


def event_members(session: Session, user: User, event_id: str, limit: int = 200) -> list:
    query = (
        select(*ROW_COLUMNS, Case.lead_case_id)
        .select_from(Case)
        .outerjoin(Unit, Unit.id == Case.unit_id)
        .where(Case.event_id == event_id)
        .order_by(Case.received_at, Case.id)
        .limit(limit)
    )
    return _rows(session, visible(query, user))


def lead_numbers(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Case.id, Case.number).where(Case.id.in_(ids))).all())


def joined_cases(session: Session, user: User, number: str) -> list:
    """Cases merged into this one (repeats and staff merges)."""
    lead_id = select(Case.id).where(Case.number == number).scalar_subquery()
    query = (
        select(*ROW_COLUMNS)
        .select_from(Case)
        .outerjoin(Unit, Unit.id == Case.unit_id)
        .where(Case.lead_case_id == lead_id)
        .order_by(Case.received_at)
        .limit(100)
    )
    return _rows(session, visible(query, user))


def similar_cases(
    session: Session,
    user: User,
    number: str,
    category: str | None,
    village: str | None,
    township: str | None,
    event_id: str | None,
) -> list:
    """Recent cases on the same item in the same village (else township), outside this case's
    event: candidates for a merge the clustering did not make."""
    if category is None or not (village or township):
        return []
    place = Case.village == village if village else Case.township == township
    query = (
        select(*ROW_COLUMNS)
        .select_from(Case)
        .outerjoin(Unit, Unit.id == Case.unit_id)
        .where(
            Case.category == category,
            place,
            Case.number != number,
            Case.received_at >= now() - timedelta(days=180),
        )
        .order_by(Case.received_at.desc())
        .limit(5)
    )
    if event_id is not None:
        query = query.where(or_(Case.event_id.is_(None), Case.event_id != event_id))
    return _rows(session, visible(query, user))


# -- filter choices ----------------------------------------------------------------------------
_TOWNSHIPS: dict[int, tuple[float, list[str]]] = {}
TOWNSHIP_CACHE_SECONDS = 60.0


def townships(session: Session) -> list[str]:
    """Township names for the filter (cached a minute: they change when a new place reports)."""
    key = id(session.get_bind())
    cached = _TOWNSHIPS.get(key)
    if cached is not None and time.monotonic() - cached[0] < TOWNSHIP_CACHE_SECONDS:
        return cached[1]
    # From the received counts (issue 17): a few rows per township and week, not every case.
    names = list(
        session.scalars(
            select(CaseCount.township)
            .where(CaseCount.kind == "received", CaseCount.township != "")
            .group_by(CaseCount.township)
            .having(func.sum(CaseCount.cases) > 0)
            .order_by(CaseCount.township)
            .limit(300)
        )
    )
    _TOWNSHIPS[key] = (time.monotonic(), names)
    return names
