"""A resident's lookup by case number and phone, limited so it cannot be used as an oracle.

Every answer before the pair is proven is the same whatever was wrong (the number, the phone,
or both); failed tries are counted per case number and per client in the database
(``api.throttle``), and a locked key is refused before anything is looked up, right or wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Request

from api.callers import client_key
from api.case_numbers import parse_case_number
from api.context import ServiceContext
from api.throttle import CASE, CLIENT, Limit, check, fail

T = TypeVar("T")


def keys_for(request: Request, number_raw: str) -> list[tuple[Limit, str]]:
    number = parse_case_number(number_raw)
    keys = [(CLIENT, client_key(request))]
    if number is not None:  # a malformed number is refused on the client's count only
        keys.append((CASE, number))
    return keys


def guarded(
    context: ServiceContext, request: Request, number_raw: str, lookup: Callable[[], T | None]
) -> T | None:
    """``lookup()``'s result, or None (counted as a failed try). Raises ``throttle.Locked``
    while the case number or the client is locked."""
    keys = keys_for(request, number_raw)
    check(context.read_sessions, keys)  # one read, no transaction: this is the hot path
    found = lookup()
    if found is None:
        fail(context.sessions, keys)
    return found
