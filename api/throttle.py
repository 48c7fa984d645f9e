"""Failed tries and lockouts, counted in the database.

Guessing a resident's phone for a case number, or a staff password, must be slow for everyone
who shares the database: several processes (and later several hosts on one PostgreSQL) answer
requests, so the count cannot live in memory. Each key (a case number, a client, an account)
has a row; a failure is one atomic UPDATE, so concurrent failures are all counted.
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, insert, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.clock import aware, now
from api.models import Throttle


def _env_int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


@dataclass(frozen=True)
class Limit:
    """``max_failures`` failed tries within ``window`` lock the key for ``lockout``."""

    scope: str
    max_failures: int
    window: timedelta
    lockout: timedelta


_MINUTES = timedelta(minutes=_env_int("HOTLINE_LOCKOUT_MINUTES", 15))
# A resident's case: a few typos are normal; a phone list is not.
CASE = Limit("case", _env_int("HOTLINE_CASE_MAX_FAILURES", 5), _MINUTES, _MINUTES)
# One client (an address, or one conversation of the bot): guessing across many case numbers.
CLIENT = Limit("client", _env_int("HOTLINE_CLIENT_MAX_FAILURES", 20), _MINUTES, _MINUTES)
# A staff account: lifted early by a supervisor (``hotline unlock-user``, or the API).
ACCOUNT = Limit("account", _env_int("HOTLINE_LOGIN_MAX_FAILURES", 5), _MINUTES, _MINUTES)
# One client trying many accounts.
LOGIN_CLIENT = Limit(
    "login_client", _env_int("HOTLINE_LOGIN_CLIENT_MAX_FAILURES", 30), _MINUTES, _MINUTES
)


class Locked(Exception):
    """A key is locked; ``retry_after`` seconds until it opens again."""

    def __init__(self, retry_after: int, scope: str) -> None:
        super().__init__(f"locked ({scope}) for {retry_after}s")
        self.retry_after = retry_after
        self.scope = scope


def _key(value: str) -> str:
    return value[:200]


def check(factory: sessionmaker[Session], keys: list[tuple[Limit, str]]) -> None:
    """Raise ``Locked`` if any of the keys is locked now (the longest wait is reported)."""
    moment = now()
    pairs = [(limit.scope, _key(value)) for limit, value in keys]
    with factory() as session:
        rows = session.execute(
            select(Throttle.scope, Throttle.locked_until).where(
                tuple_(Throttle.scope, Throttle.key).in_(pairs),
                Throttle.locked_until.is_not(None),
            )
        ).all()
    waits = [(aware(until) - moment, scope) for scope, until in rows if aware(until) > moment]
    if waits:
        wait, scope = max(waits)
        raise Locked(max(1, math.ceil(wait.total_seconds())), scope)


def _fail_one(session: Session, limit: Limit, key: str, moment: datetime) -> None:
    expired = Throttle.window_start < moment - limit.window
    failures = case((expired, 1), else_=Throttle.failures + 1)
    changed = session.execute(
        update(Throttle)
        .where(Throttle.scope == limit.scope, Throttle.key == key)
        .values(
            failures=failures,
            window_start=case((expired, moment), else_=Throttle.window_start),
            locked_until=case(
                (failures >= limit.max_failures, moment + limit.lockout),
                else_=Throttle.locked_until,
            ),
        )
    ).rowcount
    if changed:
        return
    try:
        with session.begin_nested():
            session.execute(
                insert(Throttle).values(
                    scope=limit.scope,
                    key=key,
                    failures=1,
                    window_start=moment,
                    locked_until=moment + limit.lockout if limit.max_failures <= 1 else None,
                )
            )
    except IntegrityError:  # another process inserted it first: count on its row
        _fail_one(session, limit, key, moment)


def fail(factory: sessionmaker[Session], keys: list[tuple[Limit, str]]) -> None:
    """Count one failed try against every key (in one transaction); now and then, forget keys
    whose window and lock are long over, so the table holds only recent tries."""
    moment = now()
    with factory() as session, session.begin():
        for limit, value in keys:
            _fail_one(session, limit, _key(value), moment)
        if random.random() < PRUNE_CHANCE:
            _prune(session, moment)


PRUNE_CHANCE = 0.02
_FORGET_AFTER = timedelta(days=1)


def _prune(session: Session, moment: datetime) -> None:
    old = moment - _FORGET_AFTER
    session.execute(
        delete(Throttle).where(
            Throttle.window_start < old,
            or_(Throttle.locked_until.is_(None), Throttle.locked_until < moment),
        )
    )


def clear(factory: sessionmaker[Session], scope: str, value: str) -> bool:
    """Forget a key's failures and lift its lock; True if there was anything to lift."""
    with factory() as session, session.begin():
        return bool(
            session.execute(
                delete(Throttle).where(Throttle.scope == scope, Throttle.key == _key(value))
            ).rowcount
        )


def locked_keys(factory: sessionmaker[Session], scope: str) -> list[tuple[str, datetime]]:
    """Keys of a scope locked now, with when each opens (for supervisors)."""
    moment = now()
    with factory() as session:
        rows = session.execute(
            select(Throttle.key, Throttle.locked_until).where(
                Throttle.scope == scope, Throttle.locked_until.is_not(None)
            )
        ).all()
    return [(key, aware(until)) for key, until in rows if aware(until) > moment]
