"""代群众反映: a grid worker files for a resident who has no phone or cannot use one.

The form posts to the intake the JSON API uses (``api.routes.public.receive``, channel
grid_worker, filed by the worker), classified at once so the worker can tell the resident the
item and any earlier case it was joined to. The receipt text goes to the resident's phone if
they gave one, else to the worker's own. A hidden idempotency key makes a double submit (or a
resubmitted page) file once."""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import case_service as cases
from api import outbox
from api.access import DB, Ctx
from api.context import ServiceContext
from api.models import Case, OutboundSms, User
from api.routes import public
from api.schemas import Channel, ComplaintIn
from api.workbench import policy, queries
from api.workbench.actions import why
from api.workbench.render import page, redirect
from api.workbench.routing import router
from api.workbench.session import PREFIX, CheckedForm, PageUser

FIELDS = ("name", "phone", "township", "village", "text")


def _allowed(user: User) -> None:
    if not policy.can_file_for_residents(user):
        raise HTTPException(403, "只有网格员可以代群众反映")


def _receipt(session: Session, number: str, user: User) -> dict | None:
    """Where the case's receipt text went: the resident's phone or the worker's own."""
    found = session.execute(
        select(OutboundSms.to_phone, OutboundSms.status)
        .join(Case, Case.id == OutboundSms.case_id)
        .where(Case.number == number, OutboundSms.kind == "receipt")
    ).first()
    if found is None:
        return None
    to, status = found
    return {
        "to": outbox.masked(to),
        "to_worker": to == outbox.sms_number(user.phone),
        "status": outbox.STATUSES.get(status, status),
    }


def _form_page(
    request: Request,
    context: ServiceContext,
    session: Session,
    user: User,
    *,
    values: dict[str, str] | None = None,
    anonymous: bool = False,
    error: str = "",
    filed: str | None = None,
    status: int = 200,
):
    found = None
    if filed:
        found = cases.get_case(filed, context, session, user)  # 404 unless this worker's case
    return page(
        request,
        "file.html",
        user,
        status=status,
        values=values or dict.fromkeys(FIELDS, ""),
        anonymous=anonymous,
        error=error,
        key=secrets.token_urlsafe(18),
        filed=found,
        receipt=_receipt(session, found.number, user) if found else None,
        has_phone=outbox.sms_number(user.phone) is not None,
        townships=queries.townships(session),
    )


@router.get("/file")
def file_form(
    request: Request, context: Ctx, session: DB, user: PageUser, filed: str | None = None
):
    _allowed(user)
    return _form_page(request, context, session, user, filed=filed)


@router.post("/file")
def file_for_resident(
    request: Request, form: CheckedForm, context: Ctx, session: DB, user: PageUser
):
    _allowed(user)
    values = {name: form.get(name).strip() for name in FIELDS}
    anonymous = form.get("anonymous") == "1"
    try:
        body = ComplaintIn(
            text=values["text"],
            channel=Channel.GRID_WORKER,
            phone=values["phone"] or None,
            name=None if anonymous else values["name"] or None,
            anonymous=anonymous,
            township=values["township"] or None,
            village=values["village"] or None,
            idempotency_key=form.get("key").strip() or None,
        )
        accepted, _ = public.receive(
            context,
            body,
            user,
            key=body.idempotency_key,
            classify_now=True,
            wake=request.app.state.wake_worker,
            wake_sender=request.app.state.wake_sender,
        )
    except (ValidationError, HTTPException) as exc:
        return _form_page(
            request,
            context,
            session,
            user,
            values=values,
            anonymous=anonymous,
            error=why(exc),
            status=422,
        )
    return redirect(f"{PREFIX}/file?filed={accepted.number}")
