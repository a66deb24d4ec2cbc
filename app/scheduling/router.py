"""HTTP API of availability and appointments."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from app.config import Role, Settings
from app.deps import AppSettings, Fhir, Now, Queue, State
from app.directory.deps import Directory
from app.directory.index import DirectoryCache
from app.directory.schemas import HoursIn, PractitionerIn, PractitionerOut
from app.directory.service import require_specialty
from app.errors import Forbidden, Invalid, NotFound, error_responses
from app.fhir.client import FhirClient
from app.fhir.records import require
from app.inputs import CalendarDate, Instant, PathId, QueryId
from app.ports.jobs import JobQueue
from app.ports.state import StateStore
from app.scheduling import booking, queries, service
from app.scheduling.schemas import (
    AppointmentOut,
    AppointmentStatus,
    BlockIn,
    BlockOut,
    BookIn,
    CancelIn,
    HoldIn,
    PartOfDay,
    RescheduleIn,
    SlotOut,
    StatsOut,
)
from app.scheduling.search import Preferences, candidate_roles, find_free_slots
from app.scheduling.slots import SlotReport, block_time
from app.security import AdminUser, Principal, StaffUser
from app.vocabulary import UPCOMING_APPOINTMENT_STATUSES, Channel

router = APIRouter(prefix="/api/v1", tags=["scheduling"])

# A slot search may span at most this many days.
MAX_SEARCH_DAYS = 62
Weekday = Annotated[str, Query(pattern="^(mon|tue|wed|thu|fri|sat|sun)$")]


@router.get("/slots", response_model=list[SlotOut], responses=error_responses(401, 403, 422, 503))
async def free_slots(
    fhir: Fhir,
    directory: Directory,
    now: Now,
    _: StaffUser,
    start: Instant,
    end: Instant,
    practitioner: QueryId = None,
    practitioner_role: QueryId = None,
    specialty: str | None = Query(default=None, description="Specialty code, e.g. cardiology"),
    location: QueryId = None,
    part_of_day: PartOfDay | None = None,
    prefer_day: list[Weekday] = Query(default=[], description="Preferred weekdays, e.g. sat"),
    prefer_time: str | None = Query(
        default=None, pattern=r"^\d{2}:\d{2}$", description="Preferred time HH:MM"
    ),
    prefer_practitioner: QueryId = None,
    prefer_location: QueryId = None,
    limit: int = Query(default=50, ge=1, le=200),
) -> list[SlotOut]:
    """Free slots in [start, end), ranked by the preferences (then soonest)."""
    if end <= start:
        raise Invalid("end", "must be after start")
    if end - start > timedelta(days=MAX_SEARCH_DAYS):
        raise Invalid("end", f"a search spans at most {MAX_SEARCH_DAYS} days")
    if specialty:
        require_specialty(specialty)
    roles = candidate_roles(
        await directory.get(),
        practitioner_id=practitioner,
        role_id=practitioner_role,
        specialty=specialty,
        location_id=location,
    )
    prefs = Preferences(
        days=tuple(prefer_day),
        time=datetime.strptime(prefer_time, "%H:%M").time() if prefer_time else None,
        practitioner_id=prefer_practitioner,
        location_id=prefer_location,
    )
    found = await find_free_slots(
        fhir, roles, start=start, end=end, now=now, part_of_day=part_of_day, preferences=prefs, limit=limit
    )
    return [SlotOut.of(free) for free in found]


@router.put(
    "/practitioner-roles/{role_id}/hours",
    response_model=dict[str, int],
    responses=error_responses(401, 403, 404, 422, 503),
)
async def change_hours(
    role_id: PathId,
    body: HoursIn,
    fhir: Fhir,
    directory: Directory,
    queue: Queue,
    now: Now,
    principal: AdminUser,
) -> dict[str, int]:
    """Replace weekly hours; future free slots are regenerated, booked ones are never touched; the slots
    opened are offered to matching waitlist entries (in the background)."""
    report = await service.change_hours(
        fhir, directory, queue, role_id=role_id, hours=body.hours, actor=principal.actor(), now=now
    )
    return _counts(report)


@router.post(
    "/practitioner-roles/{role_id}/blocks",
    response_model=BlockOut,
    responses=error_responses(401, 403, 404, 422),
)
async def block(
    role_id: PathId, body: BlockIn, fhir: Fhir, directory: Directory, now: Now, principal: StaffUser
) -> BlockOut:
    """Block time (leave, holiday): free slots become unavailable; clashing appointments are listed."""
    if body.end <= body.start:
        raise Invalid("end", "must be after start")
    entry = await directory.find(lambda index: index.by_role(role_id))
    if entry is None:
        raise NotFound("PractitionerRole", role_id)
    report = await block_time(
        fhir, entry, start=body.start, end=body.end, reason=body.reason, actor=principal.actor(), now=now
    )
    return BlockOut(blocked_slots=report.closed, clashing_appointments=report.clashes)


@router.post(
    "/appointments",
    status_code=201,
    response_model=AppointmentOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def book_appointment(
    body: BookIn, fhir: Fhir, directory: Directory, state: State, queue: Queue, now: Now, principal: StaffUser
) -> AppointmentOut:
    """Book a free slot (one FHIR transaction); 409 `slot_taken` when somebody was faster."""
    _check_force(body.force, principal)
    return await _book(body, fhir, directory, state, queue, now, principal, force=body.force)


@router.post(
    "/appointments/holds",
    status_code=201,
    response_model=AppointmentOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def hold_slot(
    body: HoldIn, fhir: Fhir, directory: Directory, state: State, queue: Queue, now: Now, principal: StaffUser
) -> AppointmentOut:
    """Hold a slot: a pending appointment and a tentatively busy slot until it expires or is booked."""
    return await _book(body, fhir, directory, state, queue, now, principal, hold_seconds=body.seconds)


async def _book(
    body: BookIn | HoldIn,
    fhir: FhirClient,
    directory: DirectoryCache,
    state: StateStore,
    queue: JobQueue,
    now: datetime,
    principal: Principal,
    *,
    force: bool = False,
    hold_seconds: int | None = None,
) -> AppointmentOut:
    appointment = await service.book(
        fhir,
        directory,
        state,
        queue,
        slot_id=body.slot,
        patient_id=body.patient,
        reason=body.reason,
        channel=Channel(body.channel),
        actors=[principal.actor()],
        now=now,
        force=force,
        hold_seconds=hold_seconds,
    )
    return AppointmentOut.of(appointment)


@router.post(
    "/appointments/{appointment_id}/book", response_model=AppointmentOut, responses=error_responses(404, 409)
)
async def book_hold(appointment_id: PathId, fhir: Fhir, now: Now, principal: StaffUser) -> AppointmentOut:
    """Turn a hold into a booking."""
    return AppointmentOut.of(
        await booking.confirm_hold(fhir, appointment_id=appointment_id, actors=[principal.actor()], now=now)
    )


@router.post(
    "/appointments/{appointment_id}/reschedule",
    response_model=AppointmentOut,
    responses=error_responses(404, 409, 422),
)
async def reschedule(
    appointment_id: PathId,
    body: RescheduleIn,
    fhir: Fhir,
    directory: Directory,
    state: State,
    now: Now,
    principal: StaffUser,
) -> AppointmentOut:
    """Move to another slot atomically; returns the new appointment (linked to the old one)."""
    _check_force(body.force, principal)
    moved = await booking.reschedule(
        fhir,
        directory,
        state,
        appointment_id=appointment_id,
        slot_id=body.slot,
        actors=[principal.actor()],
        now=now,
        reason=body.reason,
        force=body.force,
    )
    return AppointmentOut.of(moved)


@router.post(
    "/appointments/{appointment_id}/cancel",
    response_model=AppointmentOut,
    responses=error_responses(404, 409),
)
async def cancel(
    appointment_id: PathId, fhir: Fhir, principal: StaffUser, body: CancelIn | None = None
) -> AppointmentOut:
    """Cancel; the slot becomes free again and the reason is kept."""
    reason = body.reason if body else None
    return AppointmentOut.of(
        await booking.cancel(fhir, appointment_id=appointment_id, reason=reason, actors=[principal.actor()])
    )


def _transition_route(to: str) -> Callable[..., Awaitable[AppointmentOut]]:
    async def change_status(appointment_id: PathId, fhir: Fhir, principal: StaffUser) -> AppointmentOut:
        return AppointmentOut.of(
            await booking.transition(fhir, appointment_id=appointment_id, to=to, actors=[principal.actor()])
        )

    return change_status


# action in the URL -> (FHIR status it sets, what it means); the allowed moves are booking.TRANSITIONS.
STATUS_ACTIONS = {
    "check-in": ("arrived", "The patient arrived"),
    "no-show": ("noshow", "The patient did not come"),
    "complete": ("fulfilled", "The visit took place"),
}
for _action, (_status, _summary) in STATUS_ACTIONS.items():
    router.add_api_route(
        f"/appointments/{{appointment_id}}/{_action}",
        _transition_route(_status),
        methods=["POST"],
        response_model=AppointmentOut,
        responses=error_responses(404, 409),
        summary=_summary,
        operation_id=f"appointment_{_action.replace('-', '_')}",
    )


def _check_force(force: bool, principal: Principal) -> None:
    if force and principal.role != Role.ADMIN:
        raise Forbidden("Only admins may force a booking over an overlapping appointment")


def _day_bounds(day: date | None, now: datetime, settings: Settings) -> tuple[datetime, datetime]:
    """[start, end) of a local day in the clinic's time zone (today when `day` is None)."""
    tz = ZoneInfo(settings.default_timezone)
    start = datetime.combine(day or now.astimezone(tz).date(), datetime.min.time(), tzinfo=tz)
    return start, start + timedelta(days=1)


def _period(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime] | None:
    """The [start, end) asked for, None when neither was given; 422 for one without the other."""
    if start is None and end is None:
        return None
    if start is None or end is None:
        missing = "start" if start is None else "end"
        raise Invalid(missing, f"is required with {'end' if missing == 'start' else 'start'}")
    if end <= start:
        raise Invalid("end", "must be after start")
    return start, end


@router.get("/appointments", response_model=list[AppointmentOut], responses=error_responses(401, 422))
async def list_appointments(
    fhir: Fhir,
    settings: AppSettings,
    now: Now,
    _: StaffUser,
    day: CalendarDate | None = Query(
        default=None, alias="date", description="A local date (clinic time zone)"
    ),
    start: Instant | None = None,
    end: Instant | None = None,
    practitioner: QueryId = None,
    patient: QueryId = None,
    status: list[AppointmentStatus] = Query(default=[]),
) -> list[AppointmentOut]:
    """Appointments of a day (`date`) or a period (`start`/`end`; default: today), earliest first."""
    start, end = _period(start, end) or _day_bounds(day, now, settings)
    found = await queries.list_appointments(
        fhir, start=start, end=end, practitioner_id=practitioner, patient_id=patient, statuses=status or None
    )
    return [AppointmentOut.of(a) for a in found]


@router.get("/appointments/today", response_model=list[AppointmentOut])
async def today(
    fhir: Fhir, settings: AppSettings, now: Now, _: StaffUser, practitioner: QueryId = None
) -> list[AppointmentOut]:
    """Today's appointments in the clinic's time zone."""
    start, end = _day_bounds(None, now, settings)
    found = await queries.list_appointments(fhir, start=start, end=end, practitioner_id=practitioner)
    return [AppointmentOut.of(a) for a in found]


@router.get("/appointments/upcoming", response_model=list[AppointmentOut])
async def upcoming(
    fhir: Fhir,
    now: Now,
    _: StaffUser,
    days: int = Query(default=7, ge=1, le=60),
    practitioner: QueryId = None,
    patient: QueryId = None,
) -> list[AppointmentOut]:
    """Booked and pending appointments from now over the next `days` days."""
    found = await queries.list_appointments(
        fhir,
        start=now,
        end=now + timedelta(days=days),
        practitioner_id=practitioner,
        patient_id=patient,
        statuses=list(UPCOMING_APPOINTMENT_STATUSES),
    )
    return [AppointmentOut.of(a) for a in found]


@router.get("/appointments/stats", response_model=StatsOut, responses=error_responses(401, 422))
async def appointment_stats(
    fhir: Fhir,
    settings: AppSettings,
    now: Now,
    _: StaffUser,
    start: Instant | None = None,
    end: Instant | None = None,
) -> StatsOut:
    """Counts by status, channel and specialty (default: today)."""
    start, end = _period(start, end) or _day_bounds(None, now, settings)
    return await queries.stats(fhir, start=start, end=end)


@router.get("/appointments/{appointment_id}", response_model=AppointmentOut, responses=error_responses(404))
async def get_appointment(appointment_id: PathId, fhir: Fhir, _: StaffUser) -> AppointmentOut:
    """One appointment."""
    return AppointmentOut.of(await require(fhir, "Appointment", appointment_id, what="Appointment"))


def _counts(report: SlotReport) -> dict[str, int]:
    return {
        "created": report.created,
        "reopened": report.reopened,
        "closed": report.closed,
        "unchanged": report.unchanged,
    }


# Creating a practitioner belongs to the directory's API, but it generates slots, so the route lives
# here (scheduling sits above the directory) and keeps its path, tag and operation id.
practitioners_router = APIRouter(prefix="/api/v1", tags=["directory"])


@practitioners_router.post(
    "/practitioners",
    status_code=201,
    response_model=PractitionerOut,
    responses=error_responses(401, 403, 404, 422),
)
async def create_practitioner(
    body: PractitionerIn, fhir: Fhir, directory: Directory, queue: Queue, now: Now, principal: AdminUser
) -> PractitionerOut:
    """Create a practitioner with their role and schedule, and generate slots over the horizon."""
    entry = await service.add_practitioner(
        fhir,
        directory,
        queue,
        name=body.name,
        prefix=body.prefix,
        gender=body.gender,
        specialty=body.specialty,
        organization_id=body.organization,
        location_id=body.location,
        department_id=body.department,
        hours=body.hours,
        slot_minutes=body.slot_minutes,
        actor=principal.actor(),
        now=now,
    )
    return PractitionerOut.of(entry)
