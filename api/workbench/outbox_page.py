"""短信外发: the text messages to residents, newest first, by status (supervisors)."""

from __future__ import annotations

from fastapi import HTTPException, Request

from api import outbox
from api.access import DB, Ctx
from api.routes.outbox import item_out
from api.workbench import policy, queries
from api.workbench.render import page
from api.workbench.routing import router
from api.workbench.session import PageUser


@router.get("/outbox")
def outbox_view(request: Request, context: Ctx, session: DB, user: PageUser):
    if not policy.can_see_outbox(user):
        raise HTTPException(403, "您的角色无权查看短信外发记录")
    status = request.query_params.get("status") or None
    if status not in outbox.STATUSES:
        status = None
    counts = outbox.counts(session)
    total = counts[status] if status else sum(counts.values())
    last = queries.pages(total)
    try:
        page_no = min(max(int(request.query_params.get("page", "1")), 1), last)
    except ValueError:
        page_no = 1
    rows = outbox.listing(session, status, queries.PAGE_SIZE, (page_no - 1) * queries.PAGE_SIZE)
    return page(
        request,
        "outbox.html",
        user,
        selected=status,
        counts=counts,
        total=total,
        all_count=sum(counts.values()),
        statuses=outbox.STATUSES,
        items=[item_out(message, number) for message, number in rows],
        page_no=page_no,
        last_page=last,
        live=context.settings.sms_live,
    )
