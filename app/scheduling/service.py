"""Scheduling use cases that span the directory and availability: a new practitioner gets slots, new
hours regenerate them (and queue one waitlist job for the range they opened), and a hold queues its own
release."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from app.directory import resources as directory_res
from app.directory import service as directory
from app.directory.index import DirectoryCache, RoleEntry
from app.errors import Invalid, NotFound
from app.fhir.builders import Actor, split_name
from app.fhir.client import FhirClient, Resource
from app.ports.jobs import Job, JobQueue, QueueUnavailable
from app.ports.state import StateStore
from app.scheduling import booking
from app.scheduling.slots import DEFAULT_HORIZON_DAYS, SlotReport, generate_slots
from app.vocabulary import Channel

log = structlog.get_logger(__name__)

# A hold's release runs this long after it expires, so a booking at the last second wins.
HOLD_RELEASE_GRACE_SECONDS = 5


def parse_hours(raw: dict[str, list[str]]) -> directory_res.WeeklyHours:
    """Weekly hours from the API's {"mon": ["09:00-13:00"]} form; Invalid naming `hours` otherwise."""
    try:
        return directory_res.parse_hours(raw)
    except ValueError as exc:
        raise Invalid("hours", str(exc)) from None


async def _fill_horizon(fhir: FhirClient, queue: JobQueue, entry: RoleEntry, *, now: datetime) -> SlotReport:
    """Generate the role's slots over the horizon; the slots it opened go to the waitlist as one job (one
    per range, not one per Slot: a change feed on Slot would queue a job for each of a hundred)."""
    first_day = now.astimezone(entry.timezone).date()
    report = await generate_slots(fhir, entry, first_day=first_day, days=DEFAULT_HORIZON_DAYS, now=now)
    if (opened := report.opened_range()) is not None:
        start, end = opened
        try:
            await queue.enqueue(
                Job.OFFER_NEW_SLOTS,
                {"role_id": entry.role_id, "start": start.isoformat(), "end": end.isoformat()},
                job_id=f"new-slots-{entry.role_id}-{start:%Y%m%d%H%M}-{end:%Y%m%d%H%M}",
            )
        except QueueUnavailable:
            # The hours are saved and the slots free: bookable by anyone; only the waitlist's offer is lost.
            log.warning("slots.waitlist_offer.enqueue_failed", role=f"PractitionerRole/{entry.role_id}")
    return report


async def add_practitioner(
    fhir: FhirClient,
    cache: DirectoryCache,
    queue: JobQueue,
    *,
    name: str,
    prefix: str | None,
    gender: str | None,
    specialty: str,
    organization_id: str,
    location_id: str,
    department_id: str | None,
    hours: dict[str, list[str]],
    slot_minutes: int,
    actor: Actor,
    now: datetime,
) -> RoleEntry:
    """Create a practitioner with their role and schedule, and generate slots over the horizon."""
    weekly = parse_hours(hours)
    given, family = split_name(name)
    entry = await directory.create_practitioner(
        fhir,
        cache,
        given=given,
        family=family,
        prefix=prefix,
        gender=gender,
        specialty=specialty,
        organization_id=organization_id,
        location_id=location_id,
        department_id=department_id,
        hours=weekly,
        slot_minutes=slot_minutes,
        actor=actor,
    )
    await _fill_horizon(fhir, queue, entry, now=now)
    return entry


async def change_hours(
    fhir: FhirClient,
    cache: DirectoryCache,
    queue: JobQueue,
    *,
    role_id: str,
    hours: dict[str, list[str]],
    actor: Actor,
    now: datetime,
) -> SlotReport:
    """Replace a role's weekly hours; future free slots are regenerated, booked ones never touched."""
    weekly = parse_hours(hours)
    await directory.update_hours(fhir, cache, role_id=role_id, hours=weekly, actor=actor)
    entry = await cache.find(lambda index: index.by_role(role_id))
    if entry is None:
        raise NotFound("PractitionerRole", role_id)
    return await _fill_horizon(fhir, queue, entry, now=now)


async def book(
    fhir: FhirClient,
    cache: DirectoryCache,
    state: StateStore,
    queue: JobQueue,
    *,
    slot_id: str,
    patient_id: str,
    reason: str | None,
    channel: Channel,
    actors: list[Actor],
    now: datetime,
    force: bool = False,
    hold_seconds: int | None = None,
) -> Resource:
    """Book a free slot, or with `hold_seconds` hold it (a pending appointment, the slot tentatively
    busy) and queue its release at expiry."""
    if hold_seconds is not None:
        expires = now + timedelta(seconds=hold_seconds)
        # Queued before the write: if the queue is down nothing is held (503), and a release job that
        # finds no expired hold does nothing.
        await queue.enqueue(
            Job.RELEASE_EXPIRED_HOLDS,
            {"slot_id": slot_id},
            job_id=f"release-hold-{slot_id}-{int(expires.timestamp())}",
            at=expires + timedelta(seconds=HOLD_RELEASE_GRACE_SECONDS),
        )
    return await booking.book(
        fhir,
        cache,
        state,
        slot_id=slot_id,
        patient_id=patient_id,
        reason=reason,
        channel=channel,
        actors=actors,
        now=now,
        force=force,
        hold_seconds=hold_seconds,
    )
