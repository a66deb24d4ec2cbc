"""Timeline entries from FHIR resources, pure: one per appointment, message, call, ticket and journey stage
that started. Each summary carries no more than the patient 360 shows (kinds, codes, statuses; never
message text), and a resource missing its dates still makes an entry (without a time, listed last)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.fhir.builders import code_in, extension_value
from app.fhir.canonical import (
    CS_SPECIALTY,
    CS_TASK_TYPE,
    EXT_CHANNEL,
    EXT_DELIVERY_STATUS,
    EXT_VOICE_CALL,
    TASK_TYPE_JOURNEY_STAGE,
    TASK_TYPE_TICKET,
)
from app.fhir.client import Resource
from app.fhir.dates import parse_datetime
from app.journeys.model import StageStatus
from app.journeys.resources import stage_of
from app.tickets.resources import ticket_of


class Kind(StrEnum):
    """What a timeline entry is about."""

    APPOINTMENT = "appointment"
    MESSAGE = "message"
    CALL = "call"
    TICKET = "ticket"
    JOURNEY_STEP = "journey-step"


@dataclass(frozen=True)
class Entry:
    """One line of the timeline."""

    kind: Kind
    time: datetime | None
    summary: str
    reference: str


def appointment_entry(appointment: Resource) -> Entry:
    """An appointment at its start time."""
    department = code_in((appointment.get("specialty") or [None])[0], CS_SPECIALTY)
    label = f"Appointment ({department})" if department else "Appointment"
    return Entry(
        kind=Kind.APPOINTMENT,
        time=parse_datetime(appointment.get("start")),
        summary=f"{label}: {appointment.get('status', 'unknown')}",
        reference=f"Appointment/{appointment.get('id')}",
    )


def communication_entry(message: Resource) -> Entry:
    """A message (or a call) at the time it was sent or received."""
    channel = extension_value(message, EXT_CHANNEL)
    delivery = extension_value(message, EXT_DELIVERY_STATUS) or message.get("status", "unknown")
    ref = f"Communication/{message.get('id')}"
    call = next((e for e in message.get("extension", []) if e.get("url") == EXT_VOICE_CALL), None)
    if channel == "voice" or call is not None:
        parts = (call or {}).get("extension", [])
        started = next((e.get("valueDateTime") for e in parts if e.get("url") == "started"), None)
        time = parse_datetime(message.get("sent") or message.get("received") or started)
        return Entry(kind=Kind.CALL, time=time, summary=f"Voice call: {delivery}", reference=ref)
    inbound = str((message.get("sender") or {}).get("reference", "")).startswith("Patient/")
    direction = "from the patient" if inbound else "to the patient"
    return Entry(
        kind=Kind.MESSAGE,
        time=parse_datetime(message.get("sent") or message.get("received")),
        summary=f"{f'Message ({channel})' if channel else 'Message'} {direction}: {delivery}",
        reference=ref,
    )


def task_entry(task: Resource) -> Entry | None:
    """A ticket at its creation, a journey stage when it finished (or started); other Tasks, and stages
    not started, are not on the timeline."""
    kind = code_in(task.get("code"), CS_TASK_TYPE)
    ref = f"Task/{task.get('id')}"
    if kind == TASK_TYPE_TICKET:
        ticket = ticket_of(task)
        category = ticket.category or "other"
        return Entry(
            kind=Kind.TICKET,
            time=ticket.created,
            summary=f"Ticket ({category}, {ticket.priority}): {ticket.status.value}",
            reference=ref,
        )
    if kind == TASK_TYPE_JOURNEY_STAGE:
        stage = stage_of(task)
        if stage.status is StageStatus.NOT_STARTED:
            return None
        period = task.get("executionPeriod") or {}
        return Entry(
            kind=Kind.JOURNEY_STEP,
            time=parse_datetime(period.get("end") or period.get("start")),
            summary=f"Journey stage {stage.title}: {stage.status.value}",
            reference=ref,
        )
    return None
