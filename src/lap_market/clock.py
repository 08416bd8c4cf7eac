"""The one clock every time-dependent rule reads; tests move it instead of sleeping."""

import threading
from datetime import UTC, date, datetime, timedelta


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
        """Today's date in UTC."""
        return self.now().date()

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
