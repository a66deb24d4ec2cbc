"""The outreach's periodic work: extra reminders for appointments at high risk of a no-show."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from app.fhir.client import FhirClient
from app.outreach import risk


async def remind_high_risk(*, fhir: FhirClient, now: datetime, timezone: str) -> list[str]:
    """Give the next week's high-risk appointments their extra reminder (once each); their ids."""
    return await risk.remind_high_risk(fhir, now=now, tz=ZoneInfo(timezone))
