"""The clinic's rules for calls, read from Settings once per job."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from app.config import Settings


@dataclass(frozen=True)
class CallRules:
    """Phone region, time zone, how sure the platform must be to book, whether recordings are downloaded."""

    region: str
    timezone: ZoneInfo
    min_confidence: float
    fetch_recordings: bool
    mrn_prefix: str  # a caller registered from a call is numbered like every other patient
    ticket_sla: Mapping[str, int] = field(default_factory=dict)  # the tickets' SLA overrides

    @classmethod
    def of(cls, settings: Settings) -> CallRules:
        """The rules of these settings."""
        return cls(
            region=settings.default_phone_region,
            timezone=ZoneInfo(settings.default_timezone),
            min_confidence=settings.voice_booking_min_confidence,
            fetch_recordings=settings.voice_fetch_recordings,
            mrn_prefix=settings.mrn_prefix,
            ticket_sla=settings.ticket_sla_minutes,
        )
