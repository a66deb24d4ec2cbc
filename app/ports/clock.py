"""Time, as a port: services ask a Clock instead of calling datetime.now(), so tests control it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """The current instant."""

    def now(self) -> datetime:
        """Now, timezone-aware (UTC)."""
        ...
