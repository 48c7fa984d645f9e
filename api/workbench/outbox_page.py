"""短信外发: the text messages to residents, newest first, by status (supervisors)."""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Path, Request

from api import outbox
from api.access import DB, Ctx
from api.clean import MAX_ID
from api.routes.outbox import item_out
from api.routes.phone import resend_text
from api.workbench import policy, queries
from api.workbench.render import page, redirect
from api.workbench.routing import router
from api.workbench.session import PREFIX, CheckedForm, PageUser, flash


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


@router.post("/outbox/{message_id}/resend")
def resend_view(
    message_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    request: Request,
    form: CheckedForm,
    session: DB,
    user: PageUser,
):
    """重发: the same as ``POST /api/v1/outbox/{id}/resend`` (supervisors, failed texts)."""
    try:
        resend_text(message_id, request, session, user)
        message, kind = "已重新排队发送", "ok"
    except HTTPException as exc:
        session.rollback()
        message, kind = str(exc.detail), "error"
    response = redirect(f"{PREFIX}/outbox")
    flash(request, response, kind, message)
    return response
