"""Login, metrics and the daily review (日盘点)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select

from api.access import DB, Ctx, CurrentUser, require, visible
from api.auth import Role, issue_token, verify_password
from api.clock import today
from api.daily_review import daily_review
from api.metrics import Row, compute
from api.models import Case, User
from api.schemas import Login, Token

router = APIRouter(prefix="/api/v1", tags=["office"])


@router.post("/auth/token", response_model=Token)
def login(body: Login, context: Ctx, session: DB):
    user = session.scalars(select(User).where(User.username == body.username)).first()
    if user is None or not user.active or not verify_password(user.password_hash, body.password):
        raise HTTPException(401, "用户名或密码不正确")
    token, expires = issue_token(
        user.id, context.settings.secret_key, context.settings.token_minutes
    )
    return Token(access_token=token, expires_at=expires, role=user.role)


@router.get("/metrics")
def metrics(
    session: DB,
    user: CurrentUser,
    by: Annotated[str, Query(pattern="^(township|category|month)$")] = "township",
):
    """办结率, 按期办结率 and satisfaction overall and by township, item or month."""
    require(user, Role.SUPERVISOR, Role.ANALYST, Role.HANDLER)
    columns = (
        Case.township,
        Case.category,
        Case.received_at,
        Case.state,
        Case.due_date,
        Case.closed_at,
        Case.rating,
    )
    rows = (Row(*r) for r in session.execute(visible(select(*columns), user)).all())
    result = compute(rows, by, today())
    return {
        "by": by,
        "overall": result.overall.as_dict(),
        "groups": {k: v.as_dict() for k, v in sorted(result.groups.items())},
    }


@router.get("/review/daily")
def review(context: Ctx, session: DB, user: CurrentUser):
    """日盘点: open cases due within the next working days, and those already overdue."""
    require(user, Role.SUPERVISOR, Role.HANDLER)
    return daily_review(session, context.rules, user, escalate=False)
