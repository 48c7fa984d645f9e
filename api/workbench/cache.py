"""A short-lived cache for the statistics pages' aggregates (issue 17).

The counts are kept as cases change (``api.case_counts``), so even a first read takes tens of
milliseconds at 500,000 cases; the numbers on 统计 and 周报 still do not need to be newer than a
minute, and repeated reads need not touch the database. Each worker process keeps what it
counted for ``HOTLINE_STATS_CACHE_SECONDS`` (default 60; 0 switches it off), keyed by the question
asked and by what the asker may see (a handler's unit, a grid worker's own filings), so one
role's numbers are never served to another.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from api.models import User

T = TypeVar("T")
MAX_ENTRIES = 256
_entries: dict[Hashable, tuple[float, object]] = {}
_lock = threading.Lock()


def seconds() -> float:
    return float(os.environ.get("HOTLINE_STATS_CACHE_SECONDS", "60"))


def scope(user: User) -> tuple:
    """What decides which cases a user sees (``api.access.visible``)."""
    return (user.role, user.unit_id if user.role == "handler" else None, user.id)


def cached(key: Hashable, compute: Callable[[], T]) -> T:
    ttl = seconds()
    if ttl <= 0:
        return compute()
    moment = time.monotonic()
    with _lock:
        found = _entries.get(key)
        if found is not None and moment - found[0] < ttl:
            return found[1]  # type: ignore[return-value]
    value = compute()
    with _lock:
        if len(_entries) >= MAX_ENTRIES:
            for old in sorted(_entries, key=lambda k: _entries[k][0])[: MAX_ENTRIES // 4]:
                del _entries[old]
        _entries[key] = (time.monotonic(), value)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()
