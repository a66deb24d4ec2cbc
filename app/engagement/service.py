"""A patient's engagement, read from HAPI."""

from __future__ import annotations

import asyncio
from datetime import datetime

from app.engagement.score import YEAR, Engagement, engagement
from app.fhir.builders import instant
from app.fhir.client import FhirClient
from app.fhir.records import require

# A year of one patient's appointments and messages is far below this; it bounds a pathological record.
MAX_READ = 1000


async def of_patient(fhir: FhirClient, *, patient_id: str, now: datetime) -> Engagement:
    """The patient's engagement score over the last year; NotFound for an unknown patient."""
    await require(fhir, "Patient", patient_id, what="Patient")
    ref, since = f"Patient/{patient_id}", instant(now - YEAR)
    appointments, communications = await asyncio.gather(
        fhir.search("Appointment", [("patient", ref), ("date", f"ge{since}")], limit=MAX_READ),
        fhir.search("Communication", [("sender", ref), ("received", f"ge{since}")], limit=MAX_READ),
    )
    return engagement(appointments=appointments, communications=communications, now=now)
