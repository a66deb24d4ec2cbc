"""FHIR shape of the PRM's Appointment (profile prm-appointment)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.directory.index import RoleEntry
from app.directory.resources import specialty_concept
from app.fhir.builders import extension, extension_value, instant, meta_profile, now_utc
from app.fhir.canonical import (
    EXT_BOOKING_CHANNEL,
    EXT_HOLD_EXPIRES,
    EXT_RESCHEDULED_FROM,
    PROFILE_APPOINTMENT,
)
from app.fhir.client import Resource
from app.vocabulary import Channel


def appointment_resource(
    *,
    slot: Resource,
    role: RoleEntry,
    patient_id: str,
    status: str,
    channel: Channel,
    reason: str | None,
    rescheduled_from: str | None = None,
    hold_expires: datetime | None = None,
) -> Resource:
    """A new Appointment for one slot of a role."""
    extensions: list[dict[str, Any]] = [extension(EXT_BOOKING_CHANNEL, valueCode=channel.value)]
    if rescheduled_from:
        extensions.append(extension(EXT_RESCHEDULED_FROM, valueReference={"reference": rescheduled_from}))
    if hold_expires:
        extensions.append(extension(EXT_HOLD_EXPIRES, valueDateTime=instant(hold_expires)))
    participants: list[dict[str, Any]] = [
        {"actor": {"reference": f"Patient/{patient_id}"}, "required": "required", "status": "accepted"},
        {
            "actor": {"reference": f"PractitionerRole/{role.role_id}", "display": role.practitioner_name},
            "required": "required",
            "status": "accepted",
        },
        {
            "actor": {"reference": f"Practitioner/{role.practitioner_id}"},
            "required": "required",
            "status": "accepted",
        },
    ]
    if role.location_id:
        participants.append(
            {
                "actor": {"reference": f"Location/{role.location_id}"},
                "required": "required",
                "status": "accepted",
            }
        )
    appointment: Resource = {
        "resourceType": "Appointment",
        "meta": meta_profile(PROFILE_APPOINTMENT),
        "extension": extensions,
        "status": status,
        "slot": [{"reference": f"Slot/{slot['id']}"}],
        "start": slot["start"],
        "end": slot["end"],
        "created": instant(now_utc()),
        "participant": participants,
    }
    if role.specialty:
        appointment["specialty"] = [specialty_concept(role.specialty)]
    if reason:
        appointment["reasonCode"] = [{"text": reason}]
    return appointment


# Written into Appointment.comment when the patient confirms they will come (the bot's reminder reply).
CONFIRMED_NOTE = "Attendance confirmed by the patient on WhatsApp."


def confirmed_by_patient(appointment: Resource) -> bool:
    """Whether the patient confirmed they will come."""
    return CONFIRMED_NOTE in str(appointment.get("comment") or "")


def participant(appointment: Resource, resource_type: str) -> str | None:
    """The id of the appointment's participant of a type (Patient, Practitioner, ...)."""
    for p in appointment.get("participant", []):
        ref = p.get("actor", {}).get("reference", "")
        if ref.startswith(f"{resource_type}/"):
            return str(ref.split("/", 1)[1])
    return None


def slot_of(appointment: Resource) -> str | None:
    """The id of the appointment's Slot."""
    slots = appointment.get("slot") or []
    return slots[0]["reference"].removeprefix("Slot/") if slots else None


def channel_of(appointment: Resource) -> str | None:
    """The appointment's booking channel."""
    value = extension_value(appointment, EXT_BOOKING_CHANNEL)
    return str(value) if value else None


def hold_expiry(appointment: Resource) -> datetime | None:
    """When a pending hold expires."""
    value = extension_value(appointment, EXT_HOLD_EXPIRES)
    return datetime.fromisoformat(value) if value else None


def rescheduled_from(appointment: Resource) -> str | None:
    """The appointment this one replaced."""
    value = extension_value(appointment, EXT_RESCHEDULED_FROM)
    return str(value["reference"]) if value else None
