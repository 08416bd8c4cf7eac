"""The one clock every time-dependent rule reads; tests move it instead of sleeping.

Moments are kept in UTC; days are England's. "Today", a report's day, an offer's validity,
a standstill's last day all follow the calendar in London, and every time shown to a
person is London time with its zone (GMT or BST).
"""

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class Clock:
    """Wall-clock time in UTC, which tests may freeze and move."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen: datetime | None = None

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        with self._lock:
            if self._frozen is not None:
                return self._frozen
        return datetime.now(UTC)

    def today(self) -> date:
        """Today's date in England (at 23:30 UTC in summer it is already tomorrow)."""
        return london_date(self.now())

    def set(self, moment: datetime) -> None:
        """Freeze time at ``moment``."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        with self._lock:
            self._frozen = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move frozen time forward (freezing it first if it runs)."""
        current = self.now()
        self.set(current + delta)

    def reset(self) -> None:
        """Let time run again."""
        with self._lock:
            self._frozen = None


clock = Clock()


def as_utc(moment: datetime) -> datetime:
    """Read a stored datetime as UTC (SQLite gives back naive values)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def in_london(moment: datetime) -> datetime:
    """A moment (aware, or naive UTC as SQLite stores it) as London wall-clock time."""
    return as_utc(moment).astimezone(LONDON)


def london_date(moment: datetime) -> date:
    """The calendar day in England at ``moment``."""
    return in_london(moment).date()


def start_of_london_day(day: date) -> datetime:
    """Midnight in England at the start of ``day``, in UTC (23:00 the day before in BST)."""
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)


def format_london(moment: datetime) -> str:
    """A moment for people: ``14 Jul 2026, 00:30 BST`` (GMT in winter)."""
    local = in_london(moment)
    return f"{local:%-d %b %Y, %H:%M} {local.tzname()}"


def format_london_long(moment: datetime) -> str:
    """A moment in a document's prose: ``14 July 2026 at 00:30 BST``."""
    local = in_london(moment)
    return f"{local:%-d %B %Y at %H:%M} {local.tzname()}"
