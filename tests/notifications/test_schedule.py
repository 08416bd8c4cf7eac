"""When scheduled messages fall due: working days before a deadline, in London time."""

from datetime import UTC, date, datetime

from lap_market.notifications.periodic import _due_reminder, london_at, working_days_before


def test_working_days_before_skip_weekends_and_bank_holidays() -> None:
    assert working_days_before(date(2026, 12, 9), 3) == date(2026, 12, 4)  # Wed → Fri before
    assert working_days_before(date(2026, 12, 7), 1) == date(2026, 12, 4)  # Mon → Fri
    # 25, 26 (Boxing Day observed on Mon 28) December and the weekend are not working days.
    assert working_days_before(date(2026, 12, 30), 3) == date(2026, 12, 23)


def test_the_reminder_due_moves_from_3_to_1_working_day() -> None:
    deadline = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)  # Wednesday noon
    assert _due_reminder(deadline, date(2026, 12, 3)) is None
    assert _due_reminder(deadline, date(2026, 12, 4)) == 3  # Friday: 3 working days before
    assert _due_reminder(deadline, date(2026, 12, 7)) == 3
    assert _due_reminder(deadline, date(2026, 12, 8)) == 1  # Tuesday: 1 working day before
    assert _due_reminder(deadline, date(2026, 12, 9)) == 1


def test_seven_in_the_morning_is_london_time_in_summer_and_winter() -> None:
    assert london_at(date(2026, 12, 1), datetime.min.time().replace(hour=7)) == datetime(
        2026, 12, 1, 7, tzinfo=UTC)
    assert london_at(date(2026, 7, 1), datetime.min.time().replace(hour=7)) == datetime(
        2026, 7, 1, 6, tzinfo=UTC)
