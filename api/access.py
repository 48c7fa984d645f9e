"""Who is asking, and which cases they may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Select
from sqlalchemy.orm import Session

from api.auth import Role, read_token
from api.context import ServiceContext
from api.models import Case, CaseCount, User
from api.permissions import Action, roles_for

_bearer = HTTPBearer(auto_error=False)


async def ctx(request: Request) -> ServiceContext:
    return request.app.state.ctx


async def db(request: Request):
    """A session per request. The dependencies are async on purpose: opening a session touches
    no database, and a sync dependency would cost two extra thread hand-offs per request, which
    under load cost more than the work itself."""
    with request.app.state.ctx.sessions() as session:
        yield session


Ctx = Annotated[ServiceContext, Depends(ctx)]
DB = Annotated[Session, Depends(db)]


async def optional_user(
    request: Request,
    session: DB,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User | None:
    if creds is None:
        return None
    user_id = read_token(creds.credentials, request.app.state.ctx.settings.secret_key)
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active:
        raise HTTPException(401, "登录已过期或无效，请重新登录")
    return user


async def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise HTTPException(401, "请先登录")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]


def require(user: User, *what: Role | Action) -> None:
    """403 unless the user's role is one named, or one the permission table
    (``api.permissions``) allows for a named action. Routes name actions; naming roles
    directly still works for older callers."""
    allowed: set[str] = set()
    for item in what:
        allowed |= roles_for(item) if isinstance(item, Action) else {item}
    if user.role not in allowed:
        raise HTTPException(403, "您的角色无权进行此操作")


def visible(query: Select, user: User) -> Select:
    """Limit a case query to what the user's role may see."""
    if user.role in (Role.SUPERVISOR, Role.ANALYST):
        return query
    if user.role == Role.HANDLER:
        return query.where(Case.unit_id == user.unit_id)
    if user.role == Role.GRID_WORKER:
        return query.where(Case.filed_by_id == user.id)
    return query.where(False)


def actor(user: User) -> str:
    return f"user:{user.username}"


def visible_counts(query: Select, user: User) -> Select:
    """``visible`` for a query on ``case_counts``: the same cases, by the same columns (a case
    with no unit or filer is counted under 0)."""
    if user.role in (Role.SUPERVISOR, Role.ANALYST):
        return query
    if user.role == Role.HANDLER:
        return query.where(CaseCount.unit_id == (user.unit_id or 0))
    if user.role == Role.GRID_WORKER:
        return query.where(CaseCount.filed_by_id == (user.id or 0))
    return query.where(False)


def sees_every_case(user: User) -> bool:
    """Whether ``visible`` leaves a query as it is."""
    return user.role in (Role.SUPERVISOR, Role.ANALYST)
