"""What text the service accepts from outside: no NUL or other control characters, no lone
surrogates. PostgreSQL refuses NUL in text and neither database can store a lone surrogate, so
such input must be a 4xx at the door, never a 500 at the database."""

from __future__ import annotations

import re
from datetime import date, datetime

from api.clock import CST

# C0 controls except tab, newline and carriage return; DEL; C1 controls; surrogates; non-chars.
_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_BAD_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
MAX_INT = 2**63 - 1  # a database BIGINT: no whole number from outside may pass this
MAX_ID = 2**31 - 1  # row ids are INTEGER columns (32 bits on PostgreSQL)
MAX_OFFSET = 10**9  # far past any real listing, far inside what OFFSET takes
OLDEST = datetime(1970, 1, 1, tzinfo=CST)
NEWEST = datetime(2200, 1, 1, tzinfo=CST)


def has_bad_chars(value: str, *, single_line: bool = False) -> bool:
    return bool((_BAD_LINE if single_line else _BAD).search(value))


def clean_text(value: str) -> str:
    if has_bad_chars(value):
        raise ValueError("含有不允许的控制字符")
    return value


def clean_line(value: str | None) -> str | None:
    if value is not None and has_bad_chars(value, single_line=True):
        raise ValueError("含有不允许的控制字符或换行")
    return value


def clean_tree(value):
    """Check every string inside a value (lists, dicts) a request body carried."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list | tuple | set | frozenset):
        for item in value:
            clean_tree(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            clean_tree(key)
            clean_tree(item)
    return value


def parse_day(text: str | None) -> date | None:
    """A date a person typed into a filter (YYYY-MM-DD), or None when it is not one or lies
    outside 1970-2200 (where date arithmetic and the databases stay safe)."""
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return day if OLDEST.date() <= day < NEWEST.date() else None


def in_range(moment: datetime) -> datetime:
    """A date-time the databases can compare with (1970 to 2200, China time if naive)."""
    aware = moment.replace(tzinfo=CST) if moment.tzinfo is None else moment
    if not OLDEST <= aware <= NEWEST:
        raise ValueError("时间超出范围（1970年至2200年）")
    return aware
