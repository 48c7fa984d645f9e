"""Handling deadlines in working days on China's calendar.

chinese_calendar knows public holidays and the weekend make-up workdays (调休) for the years the
State Council has published. For a year it does not know yet, the office can add the published
arrangement to ``config/holidays.yml``; until then the statutory fixed-date holidays and
weekends are used, and the fallback is logged so nobody mistakes it for the official calendar.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import chinese_calendar
import yaml

from classifiers.paths import PROJECT_ROOT

log = logging.getLogger(__name__)
HOLIDAYS_FILE = PROJECT_ROOT / "config" / "holidays.yml"
# Fixed-date statutory holidays (元旦, 劳动节, 国庆节) used only for years without official data.
_FIXED = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}


class WorkCalendar:
    """Working days: the office's own overrides first, then the official calendar."""

    def __init__(self, holidays_file: Path = HOLIDAYS_FILE) -> None:
        data = {}
        if holidays_file.exists():
            data = yaml.safe_load(holidays_file.read_text(encoding="utf-8")) or {}
        self.holidays = {date.fromisoformat(str(d)) for d in data.get("holidays") or []}
        self.workdays = {date.fromisoformat(str(d)) for d in data.get("workdays") or []}
        self._warned: set[int] = set()

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            if day.year not in self._warned:
                self._warned.add(day.year)
                log.warning(
                    "no official holiday calendar for %s; using weekends and fixed-date "
                    "holidays. Add the State Council's arrangement to %s",
                    day.year,
                    HOLIDAYS_FILE,
                )
            return day.weekday() < 5 and (day.month, day.day) not in _FIXED

    def add_working_days(self, start: date, days: int) -> date:
        """The date ``days`` working days after ``start`` (the day of receipt does not count)."""
        current, remaining = start, days
        while remaining > 0:
            current += timedelta(days=1)
            if self.is_workday(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (negative if end is earlier)."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(
            self.is_workday(start + timedelta(days=k)) for k in range(1, (end - start).days + 1)
        )


@lru_cache(maxsize=1)
def office_calendar() -> WorkCalendar:
    return WorkCalendar()


def is_workday(day: date) -> bool:
    return office_calendar().is_workday(day)


def add_working_days(start: date, days: int) -> date:
    return office_calendar().add_working_days(start, days)


def working_days_between(start: date, end: date) -> int:
    return office_calendar().working_days_between(start, end)
