"""The live tools a voice agent calls during a call: the same scheduling and patient use cases the
dashboard uses, scoped to what a caller may do (their own appointments), every write by the voice agent."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.directory.index import DirectoryCache
from app.fhir.builders import Actor, AgentKind
from app.fhir.client import FhirClient, Resource
from app.patients import service as patients
from app.ports.jobs import JobQueue
from app.ports.state import StateStore
from app.scheduling import booking
from app.scheduling import service as scheduling
from app.scheduling.search import PARTS_OF_DAY, FreeSlot, candidate_roles, find_free_slots
from app.vocabulary import Channel

VOICE_AGENT = Actor(kind=AgentKind.VOICE_AGENT)
# Without a date the agent is offered the soonest slots of the coming week; a caller hears a few.
SEARCH_DAYS = 7
SLOTS_OFFERED = 10


async def find_caller(fhir: FhirClient, *, phone: str, region: str) -> list[Resource]:
    """The patients registered with the caller's number (any common format)."""
    return await patients.find_by_phone(fhir, phone=phone, region=region)


async def free_slots(
    fhir: FhirClient,
    directory: DirectoryCache,
    *,
    practitioner_id: str | None,
    specialty: str | None,
    day: date | None,
    part_of_day: str | None,
    timezone: ZoneInfo,
    now: datetime,
) -> list[FreeSlot]:
    """The soonest free slots of a practitioner or specialty, on a day (clinic time) or in the coming week."""
    roles = candidate_roles(await directory.get(), practitioner_id=practitioner_id, specialty=specialty)
    found: list[FreeSlot] = []
    for start, end in search_spans(day=day, part_of_day=part_of_day, timezone=timezone, now=now):
        found += await find_free_slots(
            fhir,
            roles,
            start=start,
            end=end,
            now=now,
            part_of_day=part_of_day,
            limit=SLOTS_OFFERED - len(found),
        )
        if len(found) >= SLOTS_OFFERED:
            break
    return found


def search_spans(
    *, day: date | None, part_of_day: str | None, timezone: ZoneInfo, now: datetime
) -> list[tuple[datetime, datetime]]:
    """The spans to search, soonest first: the day or the coming week, one span a day when a part of
    day is asked for (HAPI then reads only that part's slots, not a week of every slot)."""
    if part_of_day is None:
        if day is None:
            return [(now, now + timedelta(days=SEARCH_DAYS))]
        start = datetime.combine(day, time.min, tzinfo=timezone)
        return [(start, start + timedelta(days=1))]
    low, high = PARTS_OF_DAY[part_of_day]
    first = day or now.astimezone(timezone).date()
    days = [first] if day is not None else [first + timedelta(days=i) for i in range(SEARCH_DAYS + 1)]
    spans = [
        (datetime.combine(d, low, tzinfo=timezone), datetime.combine(d, high, tzinfo=timezone)) for d in days
    ]
    return [(start, end) for start, end in spans if end > now]


async def book(
    fhir: FhirClient,
    directory: DirectoryCache,
    state: StateStore,
    queue: JobQueue,
    *,
    slot_id: str,
    patient_id: str,
    reason: str | None,
    hold_seconds: int | None,
    caller: Actor,
    now: datetime,
) -> Resource:
    """Book (or hold) a slot for the caller on the voice channel; SlotTaken when someone was faster."""
    return await scheduling.book(
        fhir,
        directory,
        state,
        queue,
        slot_id=slot_id,
        patient_id=patient_id,
        reason=reason,
        channel=Channel.VOICE,
        actors=[VOICE_AGENT, caller],
        now=now,
        hold_seconds=hold_seconds,
    )


async def cancel(
    fhir: FhirClient, *, appointment_id: str, patient_id: str, reason: str | None, caller: Actor
) -> Resource:
    """Cancel the caller's own appointment (another patient's is not found)."""
    return await booking.cancel(
        fhir,
        appointment_id=appointment_id,
        reason=reason,
        actors=[VOICE_AGENT, caller],
        patient_id=patient_id,
    )
