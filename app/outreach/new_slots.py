"""New hours refill the waitlist: the slots an hours change (or a new practitioner) opened, offered to the
waiting patients they suit, as one job per opened range (scheduling queues it; watching Slot would queue a
job for each of the hundred Slots a generation writes).

Each waiting patient is offered at most one of the new slots, the earliest that suits, in queue order;
each slot goes through the same round as a freed one (offers.offer_round: two patients at once, a hold
for the first, "yes" books). Idempotent: a slot's round is recorded, and the patients already offered any
slot of the range are skipped on a replay.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from app.changes.registry import ChangeContext
from app.directory.index import DirectoryCache
from app.fhir.client import Resource
from app.fhir.dates import parse_datetime
from app.locking import exclusive
from app.outreach import offers, waitlist
from app.scheduling.slots import slots_between

log = structlog.get_logger(__name__)


async def offer_new_slots(context: ChangeContext, *, role_id: str, start: str, end: str) -> list[str]:
    """Offer the free slots of a role starting from `start` to `end` (ISO) to the waitlist; the slots offered."""
    fhir = context.fhir
    first, last = parse_datetime(start), parse_datetime(end)
    if first is None or last is None or not await offers.anyone_waiting(fhir):
        return []
    cache = DirectoryCache(fhir, default_timezone=context.default_timezone)
    role = await cache.find(lambda index: index.by_role(role_id))
    if role is None or not role.active or role.schedule_id is None or role.specialty is None:
        return []
    waiting = await waitlist.entries(fhir, specialty=role.specialty)
    # The range's end is a slot's start: a minute more takes that slot in.
    slots = await slots_between(fhir, [role.schedule_id], first, last + timedelta(minutes=1))
    done: set[str] = set()
    for slot in slots:
        done.update(await offers.offered_entries(context.state, slot["id"]))
    offered: list[str] = []
    for slot, begins in _free_ahead(slots, context.now):
        candidates = [e for e in waiting if e.id not in done and e.wants(role=role, start=begins)]
        if not candidates:
            continue
        async with exclusive(context.state, "waitlist-slot", slot["id"]):
            chosen = await offers.offer_round(context, cache, role, slot, waiting=candidates)
        done.update(chosen)
        if chosen:
            offered.append(str(slot["id"]))
        if all(e.id in done for e in waiting):
            break
    log.info("waitlist.new_slots.offered", role=f"PractitionerRole/{role_id}", slots=len(offered))
    return offered


def _free_ahead(slots: list[Resource], now: datetime) -> list[tuple[Resource, datetime]]:
    """The free slots starting after `now`, with their start (in start order, as searched)."""
    found = []
    for slot in slots:
        begins = parse_datetime(slot.get("start"))
        if slot.get("status") == "free" and begins is not None and begins > now:
            found.append((slot, begins))
    return found
