"""Working days in England and Wales: weekends and bank holidays excluded.

Bank holidays come from the maintained ``holidays`` package, which computes them offline
(substitute days included, e.g. Boxing Day (observed) when 26 December is a Saturday).
"""

from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

from lap_market.clock import LONDON, as_utc, london_date, start_of_london_day

__all__ = ["LONDON", "add_working_days", "is_working_day", "london_date", "standstill_over",
           "standstill_over_at"]


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


def standstill_over_at(standstill_ends: date, *, awarded_at: datetime | None = None) -> datetime:
    """The moment a standstill is over: midnight in England at the start of the day after
    its last day (returned in UTC).

    A standstill of 0 working days ends on the award's own day (``add_working_days(day, 0)``
    is that day, any longer one ends later): that is no standstill, so it is over at the
    moment of award, not at the next midnight. Pass ``awarded_at`` for that rule to apply.
    """
    if awarded_at is not None and standstill_ends <= london_date(awarded_at):
        return as_utc(awarded_at)
    return start_of_london_day(standstill_ends + timedelta(days=1))


def standstill_over(
    standstill_ends: date, now: datetime, *, awarded_at: datetime | None = None
) -> bool:
    """Whether a standstill whose last day is ``standstill_ends`` has ended at ``now``.

    The one rule every stage reads: revoking, issuing call-offs and the open-data award."""
    return now >= standstill_over_at(standstill_ends, awarded_at=awarded_at)
