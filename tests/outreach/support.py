"""Appointments written straight into HAPI (as an EHR would): the history the outreach reads."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app.directory.resources import specialty_concept
from app.fhir.builders import extension, instant, meta_profile
from app.fhir.canonical import EXT_BOOKING_CHANNEL, PROFILE_APPOINTMENT
from app.fhir.client import FhirClient, Resource


async def appointment(
    fhir: FhirClient,
    *,
    patient: str,
    doctor: dict[str, Any],
    status: str,
    start: datetime,
    created: datetime | None = None,
    channel: str = "ehr",
    specialty: str = "cardiology",
    comment: str | None = None,
) -> Resource:
    """An Appointment of the patient with the doctor, as HAPI stores it."""
    resource: Resource = {
        "resourceType": "Appointment",
        "meta": meta_profile(PROFILE_APPOINTMENT),
        "extension": [extension(EXT_BOOKING_CHANNEL, valueCode=channel)],
        "status": status,
        "specialty": [specialty_concept(specialty)],
        "start": instant(start),
        "end": instant(start + timedelta(minutes=15)),
        "created": instant(created or start),
        "participant": [
            {"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{doctor['id']}"}, "status": "accepted"},
        ],
    }
    if comment:
        resource["comment"] = comment
    return await fhir.create(resource)
