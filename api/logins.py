"""Staff login, shared by the token route and the workbench's login form.

Wrong passwords are limited per account and per client (``api.throttle``); a locked account is
refused even with the right password until the lock ends or a supervisor lifts it. An unknown
username costs the same argon2 verification as a known one, so timing does not tell which
accounts exist.
"""

from __future__ import annotations

import secrets
from functools import lru_cache

from fastapi import HTTPException, Request
from sqlalchemy import select

from api.auth import hash_password, issue_token, verify_password
from api.context import ServiceContext
from api.models import User
from api.schemas import Login, Token
from api.throttle import ACCOUNT, LOGIN_CLIENT, check, clear, fail

WRONG = "用户名或密码不正确"


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def login_client(request: Request) -> str:
    return "addr:" + (request.client.host if request.client else "unknown")


def account_key(username: str) -> str:
    return username.strip().lower()


def authenticate(context: ServiceContext, username: str, password: str, client: str) -> User:
    """The active user these credentials open; raises ``Locked`` (429) or HTTPException(401)."""
    keys = [(ACCOUNT, account_key(username)), (LOGIN_CLIENT, client)]
    check(context.read_sessions, keys)
    with context.sessions() as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        session.expunge_all()
    stored = user.password_hash if user is not None else _dummy_hash()
    ok = verify_password(stored, password) and user is not None and user.active
    if not ok:
        fail(context.sessions, keys)
        raise HTTPException(401, WRONG)
    return user


def token_for(context: ServiceContext, body: Login, client: str) -> tuple[User, Token]:
    """Check the credentials (throttled) and issue a token: the API's token route and the
    workbench's login form both log in through here."""
    user = authenticate(context, body.username, body.password, client)
    token, expires = issue_token(
        user.id, context.settings.secret_key, context.settings.token_minutes
    )
    return user, Token(access_token=token, expires_at=expires, role=user.role)


def unlock(context: ServiceContext, username: str) -> bool:
    """Lift an account's lock and forget its failed tries (a supervisor's decision)."""
    return clear(context.sessions, ACCOUNT.scope, account_key(username))


def unlock_client(context: ServiceContext, client: str) -> bool:
    return clear(context.sessions, LOGIN_CLIENT.scope, client)


def warm_dummy_hash() -> None:
    _dummy_hash()
