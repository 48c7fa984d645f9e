"""Staff authentication: argon2 password hashes and expiring signed tokens.

The role comes from the database row the token names, never from anything the client sends, so
a forged role claim changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
ALGORITHM = "HS256"


class Role(StrEnum):
    SUPERVISOR = "supervisor"  # county/township discipline office: sees everything
    HANDLER = "handler"  # a handling unit: its own cases, never the complainant's identity
    GRID_WORKER = "grid_worker"  # files on behalf of residents
    ANALYST = "analyst"  # texts and labels, no contact details


CONTACT_ROLES = frozenset({Role.SUPERVISOR})


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def issue_token(user_id: int, secret: str, minutes: int) -> tuple[str, datetime]:
    expires = datetime.now(UTC) + timedelta(minutes=minutes)
    token = jwt.encode({"sub": str(user_id), "exp": expires}, secret, algorithm=ALGORITHM)
    return token, expires


def read_token(token: str, secret: str) -> int | None:
    """The user id in a valid, unexpired token, else None."""
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp"]})
        return int(payload["sub"])
    except (jwt.PyJWTError, KeyError, ValueError):
        return None
