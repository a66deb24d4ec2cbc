"""Finding free slots and ranking them by what the caller prefers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from app.directory.index import DirectoryIndex, RoleEntry
from app.fhir.client import FhirClient, Resource
from app.scheduling.slots import slots_between

# Local-time boundaries of the parts of a day people ask for.
PARTS_OF_DAY: dict[str, tuple[time, time]] = {
    "morning": (time(0, 0), time(12, 0)),
    "afternoon": (time(12, 0), time(17, 0)),
    "evening": (time(17, 0), time(23, 59, 59)),
}
MAX_SLOTS_RETURNED = 200


@dataclass(frozen=True)
class Preferences:
    """What makes one free slot better than another for this caller (all optional)."""

    days: tuple[str, ...] = ()  # preferred weekdays: "mon" ... "sun"
    time: time | None = None  # preferred local time of day: closest first
    practitioner_id: str | None = None
    location_id: str | None = None


@dataclass(frozen=True)
class FreeSlot:
    """A free slot with the role it belongs to."""

    slot: Resource
    role: RoleEntry

    @property
    def start(self) -> datetime:
        """Start, in the role's local time zone."""
        return datetime.fromisoformat(self.slot["start"]).astimezone(self.role.timezone)

    @property
    def end(self) -> datetime:
        """End, in the role's local time zone."""
        return datetime.fromisoformat(self.slot["end"]).astimezone(self.role.timezone)


def candidate_roles(
    index: DirectoryIndex,
    *,
    practitioner_id: str | None = None,
    role_id: str | None = None,
    specialty: str | None = None,
    location_id: str | None = None,
) -> list[RoleEntry]:
    """Active roles with a schedule matching every filter given."""
    roles = [r for r in index.roles if r.active and r.schedule_id]
    if role_id:
        roles = [r for r in roles if r.role_id == role_id]
    if practitioner_id:
        roles = [r for r in roles if r.practitioner_id == practitioner_id]
    if specialty:
        roles = [r for r in roles if r.specialty == specialty]
    if location_id:
        roles = [r for r in roles if r.location_id == location_id]
    return roles


async def find_free_slots(
    fhir: FhirClient,
    roles: list[RoleEntry],
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    part_of_day: str | None = None,
    preferences: Preferences | None = None,
    limit: int = MAX_SLOTS_RETURNED,
) -> list[FreeSlot]:
    """Free, future slots of `roles` in [start, end), filtered by part of day and ranked."""
    by_schedule = {r.schedule_id: r for r in roles if r.schedule_id}
    prefs = preferences or Preferences()
    # Soonest-first needs only the first `limit` slots; ranking or filtering needs them all.
    enough = limit if prefs == Preferences() and part_of_day is None else None
    slots = await slots_between(fhir, list(by_schedule), max(start, now), end, limit=enough, status="free")
    found = [
        FreeSlot(slot=slot, role=by_schedule[slot["schedule"]["reference"].removeprefix("Schedule/")])
        for slot in slots
        if slot["schedule"]["reference"].removeprefix("Schedule/") in by_schedule
    ]
    if part_of_day:
        low, high = PARTS_OF_DAY[part_of_day]
        found = [f for f in found if low <= f.start.time() < high]
    return rank(found, prefs)[:limit]


def rank(slots: list[FreeSlot], prefs: Preferences) -> list[FreeSlot]:
    """Preferred practitioner, location and weekday first, then nearest the preferred time, then soonest."""

    def key(free: FreeSlot) -> tuple[bool, bool, bool, float, datetime]:
        local = free.start
        distance = 0.0
        if prefs.time is not None:
            minutes = local.hour * 60 + local.minute
            distance = abs(minutes - (prefs.time.hour * 60 + prefs.time.minute))
        return (
            bool(prefs.practitioner_id) and free.role.practitioner_id != prefs.practitioner_id,
            bool(prefs.location_id) and free.role.location_id != prefs.location_id,
            bool(prefs.days) and local.strftime("%a").lower() not in prefs.days,
            distance,
            local,
        )

    return sorted(slots, key=key)
