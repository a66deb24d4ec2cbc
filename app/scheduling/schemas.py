"""API models of availability and appointments."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.fhir.builders import code_in
from app.fhir.canonical import CS_SPECIALTY
from app.fhir.client import Resource
from app.inputs import FhirId, InputModel, Instant
from app.scheduling import resources as res
from app.scheduling.search import FreeSlot
from app.vocabulary import Channel

PartOfDay = Literal["morning", "afternoon", "evening"]
AppointmentStatus = Literal[
    "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow", "entered-in-error"
]


class SlotOut(BaseModel):
    """A free slot, with who and where."""

    id: str
    start: datetime = Field(description="Local time of the location, with its offset")
    end: datetime
    practitioner: str = Field(description="Practitioner id")
    practitioner_name: str
    practitioner_role: str = Field(description="PractitionerRole id")
    specialty: str | None
    location: str | None = Field(description="Location id")
    location_name: str | None

    @classmethod
    def of(cls, free: FreeSlot) -> SlotOut:
        """From a ranked free slot."""
        role = free.role
        return cls(
            id=free.slot["id"],
            start=free.start,
            end=free.end,
            practitioner=role.practitioner_id,
            practitioner_name=role.practitioner_name,
            practitioner_role=role.role_id,
            specialty=role.specialty,
            location=role.location_id,
            location_name=role.location_name,
        )


class BookIn(InputModel):
    """A booking request."""

    slot: FhirId = Field(description="Slot id (from GET /api/v1/slots)")
    patient: FhirId = Field(description="Patient id")
    reason: str | None = Field(default=None, max_length=500)
    channel: Channel = Channel.DASHBOARD
    force: bool = Field(
        default=False, description="Admins only: book even if the patient has an overlapping appointment"
    )


class HoldIn(InputModel):
    """Hold a slot for a patient while they decide."""

    slot: FhirId
    patient: FhirId
    reason: str | None = Field(default=None, max_length=500)
    channel: Channel = Channel.DASHBOARD
    seconds: int = Field(default=600, ge=30, le=3600, description="How long the hold lasts")


class RescheduleIn(InputModel):
    """Move an appointment to another slot."""

    slot: FhirId
    reason: str | None = Field(default=None, max_length=500)
    force: bool = False


class CancelIn(InputModel):
    """Cancel an appointment."""

    reason: str | None = Field(default=None, max_length=500)


class BlockIn(InputModel):
    """Block a practitioner role's time (leave, holiday)."""

    start: Instant
    end: Instant
    reason: str = Field(min_length=1, max_length=200)


class BlockOut(BaseModel):
    """What blocking changed."""

    blocked_slots: int
    clashing_appointments: list[str] = Field(
        description="Appointments inside the blocked time, to reschedule"
    )


class AppointmentOut(BaseModel):
    """An appointment as the dashboard shows it."""

    id: str
    status: str
    start: datetime | None
    end: datetime | None
    patient: str | None = Field(description="Patient id")
    practitioner: str | None = Field(description="Practitioner id")
    practitioner_role: str | None
    practitioner_name: str | None
    location: str | None
    slot: str | None
    specialty: str | None
    reason: str | None
    channel: str | None
    rescheduled_from: str | None = Field(description="Appointment/<id> this one replaced")
    cancellation_reason: str | None
    hold_expires: datetime | None

    @classmethod
    def of(cls, appointment: Resource) -> AppointmentOut:
        """From a FHIR Appointment."""
        role_display = next(
            (
                p["actor"].get("display")
                for p in appointment.get("participant", [])
                if p.get("actor", {}).get("reference", "").startswith("PractitionerRole/")
            ),
            None,
        )
        reasons = appointment.get("reasonCode") or [{}]
        return cls(
            id=appointment["id"],
            status=appointment["status"],
            start=appointment.get("start"),
            end=appointment.get("end"),
            patient=res.participant(appointment, "Patient"),
            practitioner=res.participant(appointment, "Practitioner"),
            practitioner_role=res.participant(appointment, "PractitionerRole"),
            practitioner_name=role_display,
            location=res.participant(appointment, "Location"),
            slot=res.slot_of(appointment),
            specialty=code_in((appointment.get("specialty") or [{}])[0], CS_SPECIALTY),
            reason=reasons[0].get("text"),
            channel=res.channel_of(appointment),
            rescheduled_from=res.rescheduled_from(appointment),
            cancellation_reason=(appointment.get("cancelationReason") or {}).get("text"),
            hold_expires=res.hold_expiry(appointment),
        )


class StatsOut(BaseModel):
    """Appointment counts for a period."""

    start: datetime
    end: datetime
    total: int
    by_status: dict[str, int]
    by_channel: dict[str, int]
    by_specialty: dict[str, int]
