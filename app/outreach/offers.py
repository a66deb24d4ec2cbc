"""Refilling freed slots from the waitlist, through the change feed.

A Slot version that is free and in the future (a cancellation, a reschedule, a released hold; new hours: new_slots.py)
is offered to the first OFFERED_AT_ONCE waiting patients it suits, on their preferred channel's thread,
and held (a scheduling hold, released by its own job) for the first of them for HOLD_MINUTES. The first
"yes" books it (`accept`); once the Slot is busy, everyone else offered it is told it is gone.

Each free version of a slot gets one round of offers (`waitlist:round:<slot>:<version>` in the state store,
the entries chosen), so a replayed change offers nothing new; a slot freed again (the hold expired unanswered)
goes to the next patients in the queue. Messages carry keys, so a retry never sends twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import structlog

from app.changes.model import Change, ChangeKind
from app.changes.registry import ChangeContext, on
from app.directory.index import DirectoryCache, RoleEntry
from app.errors import Conflict, Invalid, OptedOut
from app.fhir.builders import Actor, AgentKind
from app.fhir.client import FhirClient, Resource, version_of
from app.fhir.dates import parse_datetime
from app.locking import exclusive
from app.messaging import resources as res
from app.messaging.notifications import appointment_variables, read_or_none
from app.messaging.service import prepare_template_message
from app.outreach import waitlist
from app.outreach.resources import FULFILLED, Entry
from app.ports.state import StateStore
from app.scheduling import booking
from app.scheduling import service as scheduling
from app.scheduling.resources import participant
from app.vocabulary import ACTIVE_APPOINTMENT_STATUSES, Channel

log = structlog.get_logger(__name__)

OFFER = "waitlist_offer"
GONE = "waitlist_slot_gone"
OFFERED_AT_ONCE = 2
HOLD_MINUTES = 30
# What the state store remembers of a slot's offers (a slot offered is gone or re-offered well before).
MEMORY_SECONDS = 14 * 24 * 3600
SYSTEM = Actor(kind=AgentKind.SYSTEM)


class Answer(StrEnum):
    """What a patient's "yes" to an offer came to."""

    BOOKED = "booked"
    GONE = "gone"


@dataclass(frozen=True)
class Accepted:
    """The outcome of a "yes": the booking, or None when the slot had gone."""

    answer: Answer
    appointment: Resource | None = None


def _round_key(slot_id: str, version: str) -> str:
    return f"waitlist:round:{slot_id}:{version}"


def _offered_key(slot_id: str) -> str:
    return f"waitlist:offered:{slot_id}"


async def offered_entries(state: StateStore, slot_id: str) -> dict[str, str]:
    """Entry id -> patient id of everyone offered the slot so far."""
    raw = await state.get(_offered_key(slot_id))
    offered: dict[str, str] = json.loads(raw) if raw else {}
    return offered


@on("Appointment")
async def refill_from_waitlist(change: Change, *, context: ChangeContext) -> None:
    """An appointment that frees its slot (cancelled, moved, a hold released) offers it to the waitlist;
    one that takes it tells those offered that it has gone."""
    # On Appointment, not Slot: slot generation writes a hundred Slots per doctor, and every Slot change
    # through the feed would queue a job. New hours queue one job for the range they open (new_slots.py).
    if change.kind is ChangeKind.DELETED:
        return
    appointment = await read_or_none(context.fhir, "Appointment", change.id)
    for reference in (appointment or {}).get("slot", []):
        await refill_slot(context, str(reference.get("reference", "")).removeprefix("Slot/"))


async def refill_slot(context: ChangeContext, slot_id: str) -> None:
    """Offer the slot if it is free and in the future; tell those offered it if it is now taken."""
    async with exclusive(context.state, "waitlist-slot", slot_id):
        # The slot as it is now: an old version replayed acts on the present, never on the past.
        slot = await read_or_none(context.fhir, "Slot", slot_id)
        start = parse_datetime((slot or {}).get("start"))
        if slot is None or start is None or start <= context.now:
            return
        if slot.get("status") == "busy":
            await _tell_gone(context, slot)
        elif slot.get("status") == "free":
            await _offer(context, slot, start)


async def _offer(context: ChangeContext, slot: Resource, start: datetime) -> None:
    fhir = context.fhir
    # Most slot changes (bookings) meet an empty waitlist: settle that before reading the directory.
    if not await anyone_waiting(fhir) or await _held(fhir, slot["id"]):
        return
    cache = DirectoryCache(fhir, default_timezone=context.default_timezone)
    schedule_id = slot["schedule"]["reference"].removeprefix("Schedule/")
    role = await cache.find(lambda index: index.by_schedule(schedule_id))
    if role is None or not role.active:
        return
    await offer_round(context, cache, role, slot, waiting=await waitlist.suited(fhir, role=role, start=start))


async def _held(fhir: FhirClient, slot_id: str) -> bool:
    """Whether an active appointment holds the slot though the Slot still says free: an EHR wrote the
    Appointment alone and the feed has not made the Slot busy yet. Offering it would double-book it."""
    holders = [
        ("slot", f"Slot/{slot_id}"),
        ("status", ",".join(ACTIVE_APPOINTMENT_STATUSES)),
        ("_count", "1"),
    ]
    return bool(await fhir.search("Appointment", holders, limit=1))


async def anyone_waiting(fhir: FhirClient) -> bool:
    """Whether any entry waits on the waitlist at all."""
    return bool(await fhir.search("Appointment", {"status": "waitlist", "_count": "1"}, limit=1))


async def offer_round(
    context: ChangeContext, cache: DirectoryCache, role: RoleEntry, slot: Resource, *, waiting: list[Entry]
) -> list[str]:
    """Offer a free slot of `role` to the first OFFERED_AT_ONCE of `waiting` (entries it suits, in queue
    order) not offered it before, once per slot version; the entry ids offered (a replay: the same)."""
    state = context.state
    key = _round_key(slot["id"], version_of(slot))
    recorded = await state.get(key)
    if recorded is None:
        offered = await offered_entries(state, slot["id"])
        chosen = [e for e in waiting if e.id not in offered and e.patient_id][:OFFERED_AT_ONCE]
        if not chosen:
            return []
        await state.set(key, json.dumps([e.id for e in chosen]), ttl_seconds=MEMORY_SECONDS)
        offered.update({e.id: str(e.patient_id) for e in chosen})
        await state.set(_offered_key(slot["id"]), json.dumps(offered), ttl_seconds=MEMORY_SECONDS)
        await _hold(context, cache, slot, chosen)
        chosen_ids = [e.id for e in chosen]
    else:
        chosen_ids = json.loads(recorded)
    for entry_id in chosen_ids:
        await _message(context, slot, role, entry_id=entry_id, template=OFFER)
    return [str(i) for i in chosen_ids]


async def _hold(context: ChangeContext, cache: DirectoryCache, slot: Resource, chosen: list[Entry]) -> None:
    """Hold the slot for the first patient who can take it, so nobody else books it while they answer."""
    for entry in chosen:
        try:
            held = await scheduling.book(
                context.fhir,
                cache,
                context.state,
                context.queue,
                slot_id=slot["id"],
                patient_id=str(entry.patient_id),
                reason=None,
                channel=Channel.WHATSAPP,
                actors=[SYSTEM],
                now=context.now,
                hold_seconds=HOLD_MINUTES * 60,
            )
        except Conflict:
            continue  # busy then, or the slot was taken meanwhile: the next patient, or no hold
        log.info("waitlist.held", appointment=f"Appointment/{held['id']}", slot=f"Slot/{slot['id']}")
        return


async def _tell_gone(context: ChangeContext, slot: Resource) -> None:
    offered = await offered_entries(context.state, slot["id"])
    if not offered:
        return
    booked = await context.fhir.search("Appointment", {"slot": f"Slot/{slot['id']}", "status": "booked"})
    winner = participant(booked[0], "Patient") if booked else None
    cache = DirectoryCache(context.fhir, default_timezone=context.default_timezone)
    schedule_id = slot["schedule"]["reference"].removeprefix("Schedule/")
    role = await cache.find(lambda index: index.by_schedule(schedule_id))
    if role is None:
        return
    for entry_id, patient_id in sorted(offered.items()):
        if patient_id != winner:
            await _message(context, slot, role, entry_id=entry_id, template=GONE)


async def _message(
    context: ChangeContext, slot: Resource, role: RoleEntry, *, entry_id: str, template: str
) -> None:
    """The offer (or gone) message of one entry, once, on the patient's preferred channel's thread."""
    fhir = context.fhir
    entry = await read_or_none(fhir, "Appointment", entry_id)
    patient_id = participant(entry or {}, "Patient")
    patient = await read_or_none(fhir, "Patient", patient_id)
    if entry is None or patient is None or patient_id is None:
        return
    variables = await appointment_variables(
        fhir,
        appointment=_as_appointment(slot, role),
        patient=patient,
        template=template,
        default_timezone=context.default_timezone,
    )
    reference = f"Appointment/{entry_id}"
    if variables is None:
        log.warning("waitlist.message.incomplete", appointment=reference, template=template)
        return
    try:
        message = await prepare_template_message(
            fhir,
            context.state,
            context.queue,
            template=template,
            variables=variables,
            sender=SYSTEM,
            at=context.now,
            patient_id=patient_id,
            about=[f"Slot/{slot['id']}", reference],
            key=f"waitlist/{slot['id']}/{entry_id}/{template}",
        )
    except (OptedOut, Invalid) as exc:
        log.info("waitlist.message.skipped", appointment=reference, template=template, error=exc.error)
        return
    log.info(
        "waitlist.message.queued",
        appointment=reference,
        slot=f"Slot/{slot['id']}",
        template=template,
        communication=f"Communication/{message['id']}",
    )


def _as_appointment(slot: Resource, role: RoleEntry) -> Resource:
    """The slot as the appointment it would become (what the message variables are read from)."""
    actors = [f"PractitionerRole/{role.role_id}", f"Practitioner/{role.practitioner_id}"]
    if role.location_id:
        actors.append(f"Location/{role.location_id}")
    return {
        "resourceType": "Appointment",
        "start": slot["start"],
        "participant": [{"actor": {"reference": a}} for a in actors],
    }


async def latest_offer(fhir: FhirClient, *, conversation_id: str, since: datetime) -> tuple[str, str] | None:
    """(slot id, entry id) of the latest waitlist offer (or its gone message) on a thread since `since`."""
    messages = await fhir.search(
        "Communication",
        {"conversation-thread": conversation_id, "_sort": "-_lastUpdated", "_count": "20"},
        limit=20,
    )
    for message in messages:
        read = res.message_of(message)
        at = read.sent_at or parse_datetime((message.get("meta") or {}).get("lastUpdated"))
        if read.direction is not res.Direction.OUTBOUND or read.template is None or at is None or at < since:
            continue
        if read.template.name not in (OFFER, GONE):
            return None  # something newer was said on the thread: a "yes" answers that
        about = [a.get("reference", "") for a in message.get("about", [])]
        slot = next((a.removeprefix("Slot/") for a in about if a.startswith("Slot/")), None)
        entry = next((a.removeprefix("Appointment/") for a in about if a.startswith("Appointment/")), None)
        return (slot, entry) if slot and entry else None
    return None


async def accept(
    fhir: FhirClient,
    cache: DirectoryCache,
    state: StateStore,
    *,
    slot_id: str,
    entry_id: str,
    patient_id: str,
    actor: Actor,
    now: datetime,
) -> Accepted:
    """A waiting patient's "yes" to an offered slot: the first one books it, later ones hear it has gone."""
    async with exclusive(state, "waitlist-slot", slot_id):
        offered = await offered_entries(state, slot_id)
        if offered.get(entry_id) != patient_id:
            return Accepted(Answer.GONE)
        holds = await fhir.search("Appointment", {"slot": f"Slot/{slot_id}", "status": "pending"})
        try:
            booked = await _take(
                fhir,
                cache,
                state,
                holds,
                offered,
                slot_id=slot_id,
                patient_id=patient_id,
                actor=actor,
                now=now,
            )
        except Conflict:
            # Taken meanwhile, the hold expired, or the patient is busy then: the offer is void.
            return Accepted(Answer.GONE)
        if booked is None:
            return Accepted(Answer.GONE)
    await waitlist.cancel(fhir, entry_id=entry_id, actor=actor, reason=FULFILLED)
    log.info("waitlist.booked", appointment=f"Appointment/{booked['id']}", slot=f"Slot/{slot_id}")
    return Accepted(Answer.BOOKED, booked)


async def _take(
    fhir: FhirClient,
    cache: DirectoryCache,
    state: StateStore,
    holds: list[Resource],
    offered: dict[str, str],
    *,
    slot_id: str,
    patient_id: str,
    actor: Actor,
    now: datetime,
) -> Resource | None:
    """Book the slot for the patient: their own hold confirmed, another offered patient's hold released."""
    for hold in holds:
        holder = participant(hold, "Patient")
        if holder == patient_id:
            return await booking.confirm_hold(fhir, appointment_id=hold["id"], actors=[actor], now=now)
        if holder not in offered.values():
            return None  # held by somebody outside the waitlist: theirs to book
        await booking.cancel(
            fhir, appointment_id=hold["id"], reason="offered to the waitlist", actors=[actor]
        )
    return await booking.book(
        fhir,
        cache,
        state,
        slot_id=slot_id,
        patient_id=patient_id,
        reason=None,
        channel=Channel.WHATSAPP,
        actors=[actor],
        now=now,
    )
