"""The live tools a voice agent calls during a call (`/api/v1/voice/tools/...`): find the caller, free
slots, hold, book, cancel. The integration role (the voice platform's key); thin over app/calls/tools."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query

from app.calls import tools
from app.calls.schemas import ToolBookIn, ToolCancelIn, ToolHoldIn
from app.config import Role
from app.deps import AppSettings, Fhir, Now, Queue, State
from app.directory.deps import Directory
from app.directory.service import require_specialty
from app.errors import error_responses
from app.inputs import CalendarDate, PathId, QueryId
from app.patients.schemas import PatientOut
from app.scheduling.schemas import AppointmentOut, PartOfDay, SlotOut
from app.security import Principal, require_roles

router = APIRouter(prefix="/api/v1/voice/tools", tags=["voice tools"])

# The voice platform's key has the integration role; admins may try the tools too.
VoiceAgent = Annotated[Principal, Depends(require_roles(Role.INTEGRATION, Role.ADMIN))]


@router.get("/patients", response_model=list[PatientOut], responses=error_responses(401, 403, 422, 503))
async def find_caller(
    fhir: Fhir,
    settings: AppSettings,
    _: VoiceAgent,
    phone: str = Query(min_length=3, max_length=32, description="The caller's number, any common format"),
) -> list[PatientOut]:
    """The patients registered with the caller's number (several: a shared family phone)."""
    found = await tools.find_caller(fhir, phone=phone, region=settings.default_phone_region)
    return [PatientOut.of(p) for p in found]


@router.get("/slots", response_model=list[SlotOut], responses=error_responses(401, 403, 422, 503))
async def free_slots(
    fhir: Fhir,
    directory: Directory,
    settings: AppSettings,
    now: Now,
    _: VoiceAgent,
    practitioner: QueryId = None,
    specialty: str | None = Query(default=None, description="Specialty code, e.g. cardiology"),
    date: CalendarDate | None = Query(default=None, description="A day in the clinic's time zone"),
    part_of_day: PartOfDay | None = None,
) -> list[SlotOut]:
    """The soonest free slots (at most 10) of a practitioner or specialty, on a day or in the coming week."""
    if specialty:
        require_specialty(specialty)
    found = await tools.free_slots(
        fhir,
        directory,
        practitioner_id=practitioner,
        specialty=specialty,
        day=date,
        part_of_day=part_of_day,
        timezone=ZoneInfo(settings.default_timezone),
        now=now,
    )
    return [SlotOut.of(free) for free in found]


@router.post(
    "/holds",
    status_code=201,
    response_model=AppointmentOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def hold(
    body: ToolHoldIn,
    fhir: Fhir,
    directory: Directory,
    state: State,
    queue: Queue,
    now: Now,
    principal: VoiceAgent,
) -> AppointmentOut:
    """Hold a slot while the caller decides (a pending appointment; released at expiry unless booked)."""
    held = await tools.book(
        fhir,
        directory,
        state,
        queue,
        slot_id=body.slot,
        patient_id=body.patient,
        reason=body.reason,
        hold_seconds=body.seconds,
        caller=principal.actor(),
        now=now,
    )
    return AppointmentOut.of(held)


@router.post(
    "/appointments",
    status_code=201,
    response_model=AppointmentOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def book(
    body: ToolBookIn,
    fhir: Fhir,
    directory: Directory,
    state: State,
    queue: Queue,
    now: Now,
    principal: VoiceAgent,
) -> AppointmentOut:
    """Book a free slot for the caller (channel voice); 409 `slot_taken` when another caller was faster."""
    booked = await tools.book(
        fhir,
        directory,
        state,
        queue,
        slot_id=body.slot,
        patient_id=body.patient,
        reason=body.reason,
        hold_seconds=None,
        caller=principal.actor(),
        now=now,
    )
    return AppointmentOut.of(booked)


@router.post(
    "/appointments/{appointment_id}/cancel",
    response_model=AppointmentOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def cancel(
    appointment_id: PathId, body: ToolCancelIn, fhir: Fhir, principal: VoiceAgent
) -> AppointmentOut:
    """Cancel the caller's own appointment; its slot is free again."""
    cancelled = await tools.cancel(
        fhir,
        appointment_id=appointment_id,
        patient_id=body.patient,
        reason=body.reason,
        caller=principal.actor(),
    )
    return AppointmentOut.of(cancelled)
