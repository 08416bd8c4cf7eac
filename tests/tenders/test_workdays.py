"""Standstill working days: weekends and England and Wales bank holidays skipped."""

from datetime import date

import pytest

from lap_market.tenders.workdays import add_working_days, is_working_day


def test_christmas_and_new_year_are_skipped() -> None:
    # Fri 18 Dec 2026 + 8: 21, 22, 23, 24, (25 Christmas, 26-27 weekend, 28 Boxing Day
    # observed), 29, 30, 31, (1 Jan New Year, 2-3 weekend), 4 Jan.
    assert add_working_days(date(2026, 12, 18), 8) == date(2027, 1, 4)


def test_weekend_and_easter() -> None:
    # Thu 1 Apr 2027 + 2: (Good Friday 26 Mar 2027 is earlier) Fri 2, Mon 5.
    assert add_working_days(date(2027, 4, 1), 2) == date(2027, 4, 5)
    # Thu 2 Apr 2026 + 1: Good Friday 3 Apr, weekend, Easter Monday 6 Apr -> Tue 7 Apr.
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)


def test_zero_days_is_the_start_and_negative_is_refused() -> None:
    assert add_working_days(date(2026, 11, 2), 0) == date(2026, 11, 2)
    with pytest.raises(ValueError):
        add_working_days(date(2026, 11, 2), -1)


def test_is_working_day() -> None:
    assert is_working_day(date(2026, 11, 2))  # Monday
    assert not is_working_day(date(2026, 11, 7))  # Saturday
    assert not is_working_day(date(2026, 8, 31))  # late summer bank holiday


def test_standstill_ends_at_midnight_in_england() -> None:
    from datetime import UTC, datetime

    from lap_market.tenders.workdays import standstill_over, standstill_over_at

    # Summer (BST, UTC+1): the last day is 10 June; it is over at 23:00 UTC on 10 June.
    last_day = date(2027, 6, 10)
    assert standstill_over_at(last_day) == datetime(2027, 6, 10, 23, 0, tzinfo=UTC)
    assert not standstill_over(last_day, datetime(2027, 6, 10, 22, 59, tzinfo=UTC))
    assert standstill_over(last_day, datetime(2027, 6, 10, 23, 0, tzinfo=UTC))
    # Winter (GMT): midnight UTC.
    assert standstill_over_at(date(2027, 1, 12)) == datetime(2027, 1, 13, 0, 0, tzinfo=UTC)
