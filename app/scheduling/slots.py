"""Availability: Slots generated from a role's weekly hours, idempotently, over a rolling horizon;
blocking time (leave, holidays) without touching what is booked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import structlog

from app.directory.index import RoleEntry
from app.fhir.builders import Actor, AgentKind, instant, provenance
from app.fhir.bundle import Transaction
from app.fhir.client import FhirClient, Resource, version_of
from app.fhir.errors import FhirConflict
from app.vocabulary import ACTIVE_APPOINTMENT_STATUSES

log = structlog.get_logger(__name__)

DEFAULT_HORIZON_DAYS = 30
# Slots are written in transactions of this many entries (each batch is all-or-nothing).
SLOT_WRITE_BATCH = 100
# Slots come from HAPI in pages of this many (a clinic day of one doctor is 20-50 slots).
SLOT_PAGE_SIZE = 500
# Re-reads when a slot is booked while generation runs.
GENERATION_ATTEMPTS = 3
# Slot.comment markers: which busy-unavailable slots the PRM closed, and why.
OUTSIDE_HOURS = "outside working hours"
BLOCKED_PREFIX = "blocked: "
SYSTEM = Actor(kind=AgentKind.SYSTEM)


@dataclass
class SlotReport:
    """What a generation or blocking run changed."""

    created: int = 0
    reopened: int = 0
    closed: int = 0
    unchanged: int = 0
    clashes: list[str] = field(default_factory=list)
    opened: list[datetime] = field(default_factory=list)  # starts of the slots created or reopened

    def opened_range(self) -> tuple[datetime, datetime] | None:
        """The first and last start of the slots this run opened (None if it opened none)."""
        return (min(self.opened), max(self.opened)) if self.opened else None


def slot_id(schedule_id: str, start: datetime) -> str:
    """The deterministic id of the slot of a schedule starting at `start` (local time)."""
    return f"{schedule_id}-{start:%Y%m%d%H%M}"


def template_starts(entry: RoleEntry, *, first_day: date, days: int) -> list[tuple[datetime, datetime]]:
    """Every (start, end) the role's weekly hours define over `days` days from `first_day`, local time."""
    length = timedelta(minutes=entry.slot_minutes)
    spans = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for open_at, close_at in entry.hours.get(day.strftime("%a").lower(), []):
            start = datetime.combine(day, open_at, tzinfo=entry.timezone)
            close = datetime.combine(day, close_at, tzinfo=entry.timezone)
            while start + length <= close:
                spans.append((start, start + length))
                start += length
    return spans


def slot_resource(schedule_id: str, start: datetime, end: datetime) -> Resource:
    """A free Slot of a schedule."""
    return {
        "resourceType": "Slot",
        "id": slot_id(schedule_id, start),
        "schedule": {"reference": f"Schedule/{schedule_id}"},
        "status": "free",
        "start": instant(start),
        "end": instant(end),
    }


async def slots_between(
    fhir: FhirClient,
    schedule_ids: list[str],
    start: datetime,
    end: datetime,
    *,
    limit: int | None = None,
    **params: str,
) -> list[Resource]:
    """Slots of the schedules starting in [start, end), in start order (the first `limit` if given)."""
    if not schedule_ids:
        return []
    query: list[tuple[str, str]] = [
        ("schedule", ",".join(f"Schedule/{s}" for s in schedule_ids)),
        ("start", f"ge{instant(start)}"),
        ("start", f"lt{instant(end)}"),
        ("_sort", "start"),
        ("_count", str(min(limit, SLOT_PAGE_SIZE) if limit else SLOT_PAGE_SIZE)),
        *params.items(),
    ]
    return await fhir.search("Slot", query, limit=limit)


async def _write(
    fhir: FhirClient, slots: Sequence[tuple[Resource, str | None]], *, actors: list[Actor], activity: str
) -> None:
    """Write slots in batches, each batch one transaction with its own Provenance."""
    for i in range(0, len(slots), SLOT_WRITE_BATCH):
        batch = slots[i : i + SLOT_WRITE_BATCH]
        tx = Transaction()
        for slot, version in batch:
            tx.update(slot, if_match=version)
        targets = [f"Slot/{slot['id']}" for slot, _ in batch]
        tx.create(provenance(targets=targets, actors=actors, activity=activity, operation="UPDATE"))
        await fhir.transaction(tx.bundle())


async def generate_slots(
    fhir: FhirClient,
    entry: RoleEntry,
    *,
    first_day: date,
    days: int = DEFAULT_HORIZON_DAYS,
    now: datetime,
    attempts: int = GENERATION_ATTEMPTS,
) -> SlotReport:
    """Make the role's future free slots match its hours over the horizon; booked slots are never touched.

    Missing slots are created (deterministic ids, so runs are idempotent), slots closed by an
    earlier hours change are reopened, and free slots outside the hours are closed.
    """
    if entry.schedule_id is None:
        return SlotReport()
    wanted = {
        slot_id(entry.schedule_id, s): (s, e)
        for s, e in template_starts(entry, first_day=first_day, days=days)
        if s > now
    }
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=entry.timezone)
    existing = {
        slot["id"]: slot
        for slot in await slots_between(fhir, [entry.schedule_id], start, start + timedelta(days=days))
    }
    report = SlotReport()
    writes: list[tuple[Resource, str | None]] = []
    for sid, (s, e) in wanted.items():
        slot = existing.get(sid)
        if slot is None:
            writes.append((slot_resource(entry.schedule_id, s, e), None))
            report.created += 1
            report.opened.append(s)
        elif slot["status"] == "busy-unavailable" and slot.get("comment") == OUTSIDE_HOURS:
            writes.append((_with_status(slot, "free", None), version_of(slot)))
            report.reopened += 1
            report.opened.append(s)
        else:
            report.unchanged += 1
    for sid, slot in existing.items():
        if sid not in wanted and slot["status"] == "free" and _starts_after(slot, now):
            writes.append((_with_status(slot, "busy-unavailable", OUTSIDE_HOURS), version_of(slot)))
            report.closed += 1
    try:
        await _write(fhir, writes, actors=[SYSTEM], activity="availability.generate")
    except FhirConflict:
        # A slot changed (was booked) between our read and write: that batch wrote nothing; redo.
        if attempts <= 1:
            raise
        log.info("slots.generate.retry", schedule=f"Schedule/{entry.schedule_id}")
        return await generate_slots(
            fhir, entry, first_day=first_day, days=days, now=now, attempts=attempts - 1
        )
    log.info(
        "slots.generated",
        schedule=f"Schedule/{entry.schedule_id}",
        created=report.created,
        reopened=report.reopened,
        closed=report.closed,
    )
    return report


async def block_time(
    fhir: FhirClient,
    entry: RoleEntry,
    *,
    start: datetime,
    end: datetime,
    reason: str,
    actor: Actor,
    now: datetime,
) -> SlotReport:
    """Mark the role's free slots in [start, end) busy-unavailable; report appointments that now clash.

    Slots of the period are generated first, so a later horizon extension cannot reopen it.
    """
    if entry.schedule_id is None:
        return SlotReport()
    first_day = start.astimezone(entry.timezone).date()
    days = (end.astimezone(entry.timezone).date() - first_day).days + 1
    await generate_slots(fhir, entry, first_day=first_day, days=days, now=now)
    slots = await slots_between(fhir, [entry.schedule_id], start, end)
    report = SlotReport()
    writes = [
        (_with_status(slot, "busy-unavailable", BLOCKED_PREFIX + reason), version_of(slot))
        for slot in slots
        if slot["status"] == "free"
    ]
    report.closed = len(writes)
    taken = [f"Slot/{slot['id']}" for slot in slots if slot["status"] in ("busy", "busy-tentative")]
    if taken:
        clashing = await fhir.search(
            "Appointment", {"slot": ",".join(taken), "status": ",".join(ACTIVE_APPOINTMENT_STATUSES)}
        )
        report.clashes = [f"Appointment/{a['id']}" for a in clashing]
    await _write(fhir, writes, actors=[actor], activity="availability.block")
    log.info(
        "slots.blocked",
        schedule=f"Schedule/{entry.schedule_id}",
        closed=report.closed,
        clashes=len(report.clashes),
    )
    return report


def _with_status(slot: Resource, status: str, comment: str | None) -> Resource:
    updated: dict[str, Any] = {k: v for k, v in slot.items() if k not in ("meta", "comment")}
    updated["status"] = status
    if comment:
        updated["comment"] = comment
    return updated


def _starts_after(slot: Resource, now: datetime) -> bool:
    return datetime.fromisoformat(slot["start"]) > now
