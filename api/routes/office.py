"""Login, metrics and the daily review (日盘点)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request
from sqlalchemy import select

from api.access import DB, Ctx, CurrentUser, require
from api.clock import today
from api.daily_review import daily_review
from api.logins import login_client, token_for, unlock
from api.metrics import metrics_by
from api.models import User
from api.permissions import Action
from api.schemas import Login, Token
from api.throttle import ACCOUNT, locked_keys

router = APIRouter(prefix="/api/v1", tags=["office"])


@router.post(
    "/auth/token",
    response_model=Token,
    responses={401: {"description": "用户名或密码不正确"}, 429: {"description": "已暂时锁定"}},
)
def login(body: Login, context: Ctx, request: Request):
    """A staff token. Wrong passwords lock the account (and the client) for a while; a
    supervisor can lift an account's lock (``POST /api/v1/users/{username}/unlock``)."""
    return token_for(context, body, login_client(request))[1]


Username = Annotated[str, Path(min_length=1, max_length=50, pattern=r"^[^\x00-\x1f\x7f]+$")]


@router.post("/users/{username}/unlock")
def unlock_user(username: Username, context: Ctx, session: DB, user: CurrentUser):
    """Lift a staff account's login lock (supervisors)."""
    require(user, Action.UNLOCK_ACCOUNTS)
    if session.scalars(select(User.id).where(User.username == username)).first() is None:
        raise HTTPException(404, "没有这个账号")
    return {"username": username, "unlocked": unlock(context, username)}


@router.get("/lockouts")
def lockouts(context: Ctx, user: CurrentUser):
    """Staff accounts locked now, and when each opens by itself (supervisors)."""
    require(user, Action.UNLOCK_ACCOUNTS)
    return [
        {"account": key, "until": until.isoformat()}
        for key, until in locked_keys(context.sessions, ACCOUNT.scope)
    ]


@router.get("/metrics")
def metrics(
    session: DB,
    user: CurrentUser,
    by: Annotated[str, Query(pattern="^(township|category|month)$")] = "township",
):
    """办结率, 按期办结率 and satisfaction overall and by township, item or month."""
    require(user, Action.SEE_METRICS)
    result = metrics_by(session, user, by, today())
    return {
        "by": by,
        "overall": result.overall.as_dict(),
        "groups": {k: v.as_dict() for k, v in sorted(result.groups.items())},
    }


@router.get("/review/daily")
def review(context: Ctx, session: DB, user: CurrentUser):
    """日盘点: open cases due within the next working days, and those already overdue."""
    require(user, Action.DAILY_REVIEW)
    return daily_review(session, context.rules, user, escalate=False)
