"""Working days in England and Wales: weekends and bank holidays excluded.

Bank holidays come from the maintained ``holidays`` package, which computes them offline
(substitute days included, e.g. Boxing Day (observed) when 26 December is a Saturday).
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")


@lru_cache(maxsize=32)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_working_day(day: date) -> bool:
    """Monday to Friday and not an England and Wales bank holiday."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: date, n: int) -> date:
    """The date ``n`` working days after ``start`` (``start`` itself is not counted)."""
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def london_date(moment: datetime) -> date:
    """The calendar day in England at ``moment`` (an award at 00:30 BST is that day's, not
    the previous UTC day's, so a standstill is never a day short)."""
    return moment.astimezone(LONDON).date()


def standstill_over_at(standstill_ends: date) -> datetime:
    """The moment a standstill is over: midnight in England at the start of the day after
    its last day (returned in UTC)."""
    day = standstill_ends + timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)


def standstill_over(standstill_ends: date, now: datetime) -> bool:
    """Whether a standstill whose last day is ``standstill_ends`` has ended at ``now``.

    The one rule every stage reads: revoking, issuing call-offs and the open-data award."""
    return now >= standstill_over_at(standstill_ends)
