"""The workbench's pages (GET): login, queues, a case, an event, the dashboard, the weekly
report. Each reads through the case service's own functions and access rules."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from fastapi import HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import case_service as cases
from api.access import DB, Ctx
from api.auth import read_token
from api.clean import parse_day
from api.clock import today
from api.context import ServiceContext
from api.lifecycle import OPEN_STATES, State
from api.models import Unit, User
from api.schemas import CaseOut, ContactOut
from api.voicemail import RECORDING_HOSTS
from api.workbench import drift, policy, queries, stats
from api.workbench.render import page, redirect
from api.workbench.replies import case_values, fill, load_replies
from api.workbench.routing import router
from api.workbench.session import (
    PREFIX,
    SESSION_COOKIE,
    PageUser,
    new_login_csrf,
    safe_next,
    set_login_csrf,
)

OPEN = {s.value for s in OPEN_STATES}


def home_url(user: User) -> str:
    tab = policy.home_tab(user)
    if tab is not None:
        return f"{PREFIX}/queues/{tab}"
    return f"{PREFIX}/dashboard"


@router.get("/")
def home(user: PageUser):
    return redirect(home_url(user))


@router.get("/login")
def login_page(request: Request, context: Ctx, session: DB, next: str | None = None):
    token = request.cookies.get(SESSION_COOKIE)
    user_id = read_token(token, context.settings.secret_key) if token else None
    user = session.get(User, user_id) if user_id is not None else None
    if user is not None and user.active:
        return redirect(safe_next(next) if next else home_url(user))
    value = new_login_csrf()
    response = page(request, "login.html", None, login_csrf=value, next=safe_next(next), error="")
    set_login_csrf(request, response, value)
    return response


def item_names(context: ServiceContext) -> dict[str, str]:
    return {item.code: item.name for item in context.taxonomy.items}


def item_choices(context: ServiceContext) -> list[tuple[str, list[tuple[str, str]]]]:
    """Items grouped for a <select> with <optgroup>s."""
    taxonomy = context.taxonomy
    groups: dict[str, list[tuple[str, str]]] = {}
    for item in taxonomy.items:
        groups.setdefault(taxonomy.groups.get(item.group, item.group), []).append(
            (item.code, item.name)
        )
    return list(groups.items())


@router.get("/queues/{tab}")
def queue(tab: str, request: Request, context: Ctx, session: DB, user: PageUser):
    tabs = policy.tabs(user)
    if tab not in tabs:
        raise HTTPException(404, "没有这个工作队列")
    filters = queries.Filters.from_params(request.query_params)
    window = queries.Window.for_rules(context.rules)
    counts = queries.count_tabs(session, user, tabs, filters, window)
    total = counts[tab]
    last = queries.pages(total)
    try:
        page_no = min(max(int(request.query_params.get("page", "1")), 1), last)
    except ValueError:
        page_no = 1
    if tab == "joint":
        rows = queries.list_events(session, user, filters, window, page_no)
    else:
        rows = queries.list_tab(session, user, tab, filters, window, page_no)
    return page(
        request,
        "queue.html",
        user,
        tab=tab,
        counts=counts,
        rows=rows,
        total=total,
        page_no=page_no,
        last_page=last,
        filters=filters,
        filter_params=filters.params(),
        window=window,
        names=item_names(context),
        choices=item_choices(context),
        townships=queries.townships(session),
        channels=queries.CHANNELS,
    )


def _units(session: Session, context: ServiceContext, out: CaseOut) -> list[tuple[Unit, bool]]:
    """Units for the assign form, the ones fitting the item (and the township) first."""
    item = context.taxonomy.by_code.get(out.category or "")
    kind = item.unit if item is not None else None
    units = session.scalars(select(Unit).order_by(Unit.name)).all()

    def fit(unit: Unit) -> tuple[int, int]:
        return (unit.kind == kind, bool(out.township) and unit.township == out.township)

    ranked = sorted(units, key=fit, reverse=True)
    return [(u, u.kind == kind) for u in ranked]


def values_for(context: ServiceContext, out: CaseOut) -> dict[str, str | None]:
    """What a reply template's placeholders stand for, for this case."""
    item = context.taxonomy.by_code.get(out.category or "")
    return case_values(
        out.number,
        item.name if item else None,
        out.unit.name if out.unit else None,
        out.village,
        out.township,
        out.due_date,
    )


def reply_options(context: ServiceContext, out: CaseOut) -> dict[str, list[tuple[str, str]]]:
    """Filled-in reply templates for this case, by target state."""
    replies, values = load_replies(), values_for(context, out)
    return {
        state: [
            (t.title, fill(t, values))
            for t in replies.for_case(out.category, context.taxonomy, state)
        ]
        for state in (State.IN_PROGRESS.value, State.DONE.value, State.REFERRED.value)
    }


def case_page(
    request: Request,
    context: ServiceContext,
    session: Session,
    user: User,
    number: str,
    contact: ContactOut | None = None,
):
    out = cases.get_case(number, context, session, user)  # 404 unless this user may see it
    names = item_names(context)
    top = [(code, names.get(code, code), p) for code, p in (out.top or [])[:3]]
    members = queries.event_members(session, user, out.event_id) if out.event_id else []
    return page(
        request,
        "case.html",
        user,
        case=out,
        names=names,
        top=top,
        members=members,
        joined=queries.joined_cases(session, user, out.number),
        similar=queries.similar_cases(
            session, user, out.number, out.category, out.village, out.township, out.event_id
        ),
        contact=contact,
        is_open=out.state in OPEN,
        can_triage=policy.can_triage(user),
        can_work=policy.can_work(user),
        can_contact=policy.can_see_contact(user),
        moves=policy.moves(user, out.state),
        units=_units(session, context, out) if policy.can_triage(user) else [],
        choices=item_choices(context),
        replies=reply_options(context, out),
        channels=queries.CHANNELS,
        audio_ok=bool(out.audio_url) and out.audio_url.startswith(RECORDING_HOSTS),
    )


@router.get("/cases/{number}")
def case_view(number: str, request: Request, context: Ctx, session: DB, user: PageUser):
    return case_page(request, context, session, user, number)


@router.get("/events/{event_id}")
def event_view(event_id: str, request: Request, context: Ctx, session: DB, user: PageUser):
    members = queries.event_members(session, user, event_id[:20])
    if not members:
        raise HTTPException(404, "没有找到这个事件，或其中没有您可以查看的案件")
    leads = queries.lead_numbers(session, {m.lead_case_id for m in members if m.lead_case_id})
    names = item_names(context)
    open_members = [m for m in members if m.state in OPEN and m.lead_case_id is None]
    items = Counter(names.get(m.category or "", "待分类") for m in members)
    return page(
        request,
        "event.html",
        user,
        event_id=event_id,
        members=members,
        leads=leads,
        names=names,
        items=items.most_common(),
        reporters=max(m.event_reporters for m in members),
        first_at=members[0].received_at,
        last_at=members[-1].received_at,
        default_lead=open_members[0].number if open_members else members[0].number,
        open_count=len(open_members),
        can_triage=policy.can_triage(user),
        can_work=policy.can_work(user),
        units=session.scalars(select(Unit).order_by(Unit.name)).all()
        if policy.can_triage(user)
        else [],
        choices=item_choices(context),
        done_replies=load_replies().for_case(members[0].category, context.taxonomy, "已办结"),
    )


def _dashboard_for(request: Request, context: ServiceContext, session: Session, user: User):
    if not policy.can_see_dashboard(user):
        raise HTTPException(403, "您的角色无权查看统计")
    period = stats.Period.from_params(request.query_params)
    township = (request.query_params.get("township") or "").strip()[:50] or None
    return stats.dashboard(session, user, context.taxonomy, period, township), township


@router.get("/dashboard")
def dashboard(request: Request, context: Ctx, session: DB, user: PageUser):
    board, township = _dashboard_for(request, context, session, user)
    params = {"from": board.period.start.isoformat(), "to": board.period.end.isoformat()}
    if township:
        params["township"] = township
    return page(
        request,
        "dashboard.html",
        user,
        board=board,
        township=township,
        params=params,
        townships=queries.townships(session),
        names=item_names(context),
        drift=drift.for_dashboard(session, user, context),
    )


@router.get("/dashboard/export.csv")
def dashboard_csv(request: Request, context: Ctx, session: DB, user: PageUser, table: str):
    board, _ = _dashboard_for(request, context, session, user)
    found = stats.export(board, table)
    if found is None:
        raise HTTPException(404, "没有这个统计表")
    name, text = found
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/reports/weekly")
def weekly(request: Request, context: Ctx, session: DB, user: PageUser, week: str | None = None):
    if not policy.can_see_report(user):
        raise HTTPException(403, "您的角色无权查看周报")
    day = parse_day(week) or today()
    first = stats.monday(day)
    report = stats.weekly_report(session, user, context.taxonomy, first)
    return page(
        request,
        "report.html",
        user,
        report=report,
        previous=(first - timedelta(days=7)).isoformat(),
        following=(first + timedelta(days=7)).isoformat()
        if first < stats.monday(today())
        else None,
    )
