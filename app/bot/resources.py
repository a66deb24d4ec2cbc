"""FHIR shapes the bot writes itself: a waitlist entry (an Appointment with status `waitlist`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.directory.index import RoleEntry
from app.directory.resources import specialty_concept
from app.fhir.builders import extension, instant, meta_profile
from app.fhir.canonical import EXT_BOOKING_CHANNEL, PROFILE_APPOINTMENT
from app.fhir.client import Resource
from app.vocabulary import Channel


def waitlist_resource(
    *, patient_id: str, roles: list[RoleEntry], start: datetime, end: datetime, created: datetime
) -> Resource:
    """A waitlist entry: the patient, the doctor (when one was asked for), the specialty and the period wanted."""
    participants: list[dict[str, Any]] = [
        {"actor": {"reference": f"Patient/{patient_id}"}, "required": "required", "status": "needs-action"}
    ]
    if len({r.practitioner_id for r in roles}) == 1:
        participants.append(
            {
                "actor": {
                    "reference": f"PractitionerRole/{roles[0].role_id}",
                    "display": roles[0].practitioner_name,
                },
                "required": "required",
                "status": "needs-action",
            }
        )
    appointment: Resource = {
        "resourceType": "Appointment",
        "meta": meta_profile(PROFILE_APPOINTMENT),
        "extension": [extension(EXT_BOOKING_CHANNEL, valueCode=Channel.WHATSAPP.value)],
        "status": "waitlist",
        "created": instant(created),
        "requestedPeriod": [{"start": instant(start), "end": instant(end)}],
        "participant": participants,
    }
    specialties = sorted({r.specialty for r in roles if r.specialty})
    if specialties:
        appointment["specialty"] = [specialty_concept(s) for s in specialties]
    return appointment
