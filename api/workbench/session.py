"""The workbench's login session and form protection.

The session is the case service's own JWT (the one ``POST /api/v1/auth/token`` issues), kept in
an HttpOnly, SameSite=Strict cookie scoped to /workbench, so page scripts never see it and the
JSON API (Bearer tokens only) never accepts it. Every POST form carries a CSRF token: an HMAC of
the session cookie under the service's secret, so it is worthless without the cookie and dies
with it. The login form, which has no session yet, uses a double-submit cookie instead.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qs, quote, unquote

from fastapi import Depends, Request, Response

from api.access import DB
from api.auth import read_token
from api.models import User

PREFIX = "/workbench"
SESSION_COOKIE = "hotline_session"
LOGIN_CSRF_COOKIE = "hotline_login_csrf"
FLASH_COOKIE = "hotline_flash"
CSRF_FIELD = "csrf"


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to the login page."""


class CsrfRejected(Exception):
    """A POST without the right CSRF token (a forged cross-site form, or an expired page)."""


def _secret(request: Request) -> bytes:
    return request.app.state.ctx.settings.secret_key.encode("utf-8")


def _sign(request: Request, value: str) -> str:
    return hmac.new(_secret(request), b"csrf|" + value.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The token the logged-in user's forms carry."""
    return _sign(request, request.cookies.get(SESSION_COOKIE, ""))


async def page_user(request: Request, session: DB) -> User:
    """The logged-in staff member, from the session cookie; the role comes from the database."""
    token = request.cookies.get(SESSION_COOKIE)
    user_id = read_token(token, request.app.state.ctx.settings.secret_key) if token else None
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active:
        raise LoginRequired
    return user


PageUser = Annotated[User, Depends(page_user)]


@dataclass(frozen=True)
class Form:
    """An urlencoded form body (the workbench's forms post nothing else)."""

    fields: dict[str, list[str]]

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return self.fields.get(name, [])


async def _parse(request: Request) -> Form:
    body = (await request.body()).decode("utf-8", errors="replace")
    return Form(parse_qs(body, keep_blank_values=True, max_num_fields=200))


async def checked_form(request: Request, user: PageUser) -> Form:
    """The posted form of a logged-in user, after its CSRF token is checked."""
    form = await _parse(request)
    if not hmac.compare_digest(form.get(CSRF_FIELD), csrf_token(request)):
        raise CsrfRejected
    return form


async def login_form(request: Request) -> Form:
    """The login form, checked against its double-submit cookie."""
    form = await _parse(request)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(form.get(CSRF_FIELD), cookie):
        raise CsrfRejected
    return form


CheckedForm = Annotated[Form, Depends(checked_form)]
LoginForm = Annotated[Form, Depends(login_form)]


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_login_csrf(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        value,
        max_age=3600,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def start_session(request: Request, response: Response, token: str, minutes: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=minutes * 60,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)


def safe_next(target: str | None) -> str:
    """Where to go after login: only a path inside the workbench (no open redirect)."""
    if target and target.startswith(PREFIX + "/") and "//" not in target and "\\" not in target:
        return target
    return PREFIX + "/"


# -- one-shot messages after an action (Post/Redirect/Get) --------------------------------------
def flash(request: Request, response: Response, kind: str, text: str) -> None:
    value = quote(json.dumps({"kind": kind, "text": text[:600]}, ensure_ascii=False))
    response.set_cookie(
        FLASH_COOKIE,
        value,
        max_age=60,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def read_flash(request: Request) -> dict | None:
    """The message the previous action left, if any (the page that shows it clears it)."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data = json.loads(unquote(raw))
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("kind") not in ("ok", "error"):
        return None
    return {"kind": data["kind"], "text": str(data.get("text", ""))}


def clear_flash(request: Request, response: Response) -> None:
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path=PREFIX)
