"""Clocks: the system's, and a fake one that tests move by hand instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        """Now, in UTC."""
        return datetime.now(UTC)


class FakeClock:
    """A clock that stands still until `advance` moves it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        """The fake now."""
        return self._now

    def advance(self, **delta: float) -> datetime:
        """Move forward by timedelta(**delta); returns the new now."""
        self._now += timedelta(**delta)
        return self._now
