"""Rendering workbench pages: one Jinja2 environment with autoescape always on, the filters the
templates use, and the headers every page carries."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from api import outbox
from api.clock import aware
from api.models import User
from api.permissions import Action, may
from api.staff_words import (
    ACTION_NAMES,
    ROLE_NAMES,
    actor_name,
    beijing,
    channel_name,
    history_note,
)
from api.workbench import policy
from api.workbench.session import PREFIX, clear_flash, csrf_token, read_flash

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"

# Complaints contain anything: no inline script or style runs, whatever got into a page.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        # voicemails: the phone provider's recordings (api.voicemail.RECORDING_HOSTS)
        "media-src 'self' https://api.twilio.com; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _dt(value: datetime | str | None) -> str:
    """Beijing time, whatever the value's zone (api.staff_words)."""
    return beijing(value)


def _d(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = aware(value).date()
    return value.isoformat()


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _short(value: str | None, n: int = 80) -> str:
    text = " ".join((value or "").split())
    return text if len(text) <= n else text[:n] + "…"


env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,  # every template, whatever its name: user text is never trusted
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters.update(
    dt=_dt, d=_d, pct=_pct, short=_short, actor=actor_name, note=history_note, channel=channel_name
)
env.globals.update(
    prefix=PREFIX, tab_labels=policy.TAB_LABELS, role_names=ROLE_NAMES, action_names=ACTION_NAMES
)


def secure(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _outbox_waiting(request: Request) -> int:
    """The count on the 短信外发 menu entry: messages not out yet (one index range count)."""
    with request.app.state.ctx.read_sessions() as session:
        return outbox.waiting(session)


def page(
    request: Request,
    template: str,
    user: User | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page for ``user`` (None on the login and error pages)."""
    nav = None
    if user is not None:
        nav = {
            "tabs": policy.tabs(user),
            "dashboard": policy.can_see_dashboard(user),
            "report": policy.can_see_report(user),
            "outbox": policy.can_see_outbox(user),
            "outbox_waiting": _outbox_waiting(request) if policy.can_see_outbox(user) else 0,
            "file": policy.can_file_for_residents(user),
            "labels": may(user.role, Action.LABEL_CASES),
            "ops": policy.can_see_operations(user),
        }
    html = env.get_template(template).render(
        user=user,
        nav=nav,
        csrf=csrf_token(request) if user is not None else "",
        flash=read_flash(request),
        path=request.url.path,
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    clear_flash(request, response)
    return secure(response)


def redirect(url: str) -> RedirectResponse:
    """After a POST: see the result with a GET (303)."""
    return RedirectResponse(url, status_code=303)
