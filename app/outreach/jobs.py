"""The outreach's periodic work: extra reminders for appointments at high no-show risk, care-gap tickets."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from app.fhir.client import FhirClient
from app.outreach import care_gaps, risk


async def remind_high_risk(*, fhir: FhirClient, now: datetime, timezone: str) -> list[str]:
    """Give the next week's high-risk appointments their extra reminder (once each); their ids."""
    return await risk.remind_high_risk(fhir, now=now, tz=ZoneInfo(timezone))


async def open_care_gap_tickets(*, fhir: FhirClient, now: datetime, sla: Mapping[str, int]) -> list[str]:
    """One outreach ticket per care gap found today (none twice); the new tickets' ids."""
    return await care_gaps.open_tickets(fhir, now=now, sla=sla)
