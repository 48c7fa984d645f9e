"""The service's notion of now, in China Standard Time, so dates match the office's calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")


def now() -> datetime:
    return datetime.now(CST)


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as CST."""
    return moment.replace(tzinfo=CST) if moment.tzinfo is None else moment.astimezone(CST)


def local_date(moment: datetime) -> date:
    return aware(moment).date()


def today() -> date:
    return now().date()
