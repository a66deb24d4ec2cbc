"""A read model of the clinic directory: who practises what, where, when, and on which Schedule.

A clinic has tens of practitioners, so the whole directory is read in two searches and kept for
a short time; every directory write in this process invalidates it, and a lookup that misses reads
it again (another API replica may have added the role a moment ago).
"""

from __future__ import annotations

import asyncio
import time as clock
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar
from zoneinfo import ZoneInfo

from app.directory.resources import WeeklyHours, display_name, hours_of
from app.fhir.builders import code_in, extension_value
from app.fhir.canonical import CS_SPECIALTY, EXT_SLOT_MINUTES, EXT_TIMEZONE
from app.fhir.client import FhirClient, Resource, bundle_resources

# How long a directory snapshot is trusted; writes through this process invalidate it at once.
DIRECTORY_TTL_SECONDS = 30.0
DEFAULT_SLOT_MINUTES = 15

T = TypeVar("T")


@dataclass(frozen=True)
class RoleEntry:
    """One bookable practitioner role with everything booking needs to know about it."""

    role_id: str
    practitioner_id: str
    practitioner_name: str
    specialty: str | None
    location_id: str | None
    location_name: str | None
    timezone: ZoneInfo
    department_id: str | None
    schedule_id: str | None
    slot_minutes: int
    hours: WeeklyHours
    active: bool


@dataclass
class DirectoryIndex:
    """Roles of the directory, looked up by role, schedule or practitioner."""

    roles: list[RoleEntry] = field(default_factory=list)

    def by_role(self, role_id: str) -> RoleEntry | None:
        """The role with this id."""
        return next((r for r in self.roles if r.role_id == role_id), None)

    def by_schedule(self, schedule_id: str) -> RoleEntry | None:
        """The role whose Schedule this is."""
        return next((r for r in self.roles if r.schedule_id == schedule_id), None)

    def by_practitioner(self, practitioner_id: str) -> list[RoleEntry]:
        """Every role of one practitioner."""
        return [r for r in self.roles if r.practitioner_id == practitioner_id]


async def load_index(fhir: FhirClient, *, default_timezone: str) -> DirectoryIndex:
    """Read the directory from HAPI: roles with their practitioners and locations, and schedules."""
    role_pages, schedules = await asyncio.gather(
        fhir.search_bundles(
            "PractitionerRole",
            [("_include", "PractitionerRole:practitioner"), ("_include", "PractitionerRole:location")],
        ),
        fhir.search("Schedule", {"active": "true"}),
    )
    roles = [r for page in role_pages for r in bundle_resources(page)]
    included = {
        f"{res['resourceType']}/{res['id']}": res
        for page in role_pages
        for res in bundle_resources(page, mode="include")
    }
    schedule_of: dict[str, Resource] = {}
    for schedule in schedules:
        for actor in schedule.get("actor", []):
            schedule_of.setdefault(actor.get("reference", ""), schedule)
    fallback_tz = ZoneInfo(default_timezone)
    return DirectoryIndex(roles=[_entry(role, included, schedule_of, fallback_tz) for role in roles])


def _entry(
    role: Resource, included: dict[str, Resource], schedule_of: dict[str, Resource], fallback_tz: ZoneInfo
) -> RoleEntry:
    practitioner_ref = role.get("practitioner", {}).get("reference", "")
    location_ref = (role.get("location") or [{}])[0].get("reference", "")
    location = included.get(location_ref)
    tz_name = extension_value(location, EXT_TIMEZONE) if location else None
    schedule = schedule_of.get(f"PractitionerRole/{role['id']}")
    department_ref = (role.get("healthcareService") or [{}])[0].get("reference")
    specialties = role.get("specialty") or [{}]
    return RoleEntry(
        role_id=role["id"],
        practitioner_id=practitioner_ref.removeprefix("Practitioner/"),
        practitioner_name=display_name(included.get(practitioner_ref, {})),
        specialty=code_in(specialties[0], CS_SPECIALTY),
        location_id=location_ref.removeprefix("Location/") or None,
        location_name=location.get("name") if location else None,
        timezone=ZoneInfo(tz_name) if tz_name else fallback_tz,
        department_id=department_ref.removeprefix("HealthcareService/") if department_ref else None,
        schedule_id=schedule["id"] if schedule else None,
        slot_minutes=int(extension_value(schedule, EXT_SLOT_MINUTES) or DEFAULT_SLOT_MINUTES)
        if schedule
        else DEFAULT_SLOT_MINUTES,
        hours=hours_of(role),
        active=bool(role.get("active", True)),
    )


class DirectoryCache:
    """The directory index, re-read after DIRECTORY_TTL_SECONDS or after a write."""

    def __init__(self, fhir: FhirClient, *, default_timezone: str) -> None:
        self._fhir = fhir
        self._default_timezone = default_timezone
        self._index: DirectoryIndex | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> DirectoryIndex:
        """The current index (read from HAPI when stale)."""
        async with self._lock:
            if self._index is None or clock.monotonic() - self._loaded_at > DIRECTORY_TTL_SECONDS:
                self._index = await load_index(self._fhir, default_timezone=self._default_timezone)
                self._loaded_at = clock.monotonic()
            return self._index

    async def find(self, pick: Callable[[DirectoryIndex], T | None]) -> T | None:
        """`pick` from the index; on a miss, once more from a fresh read."""
        found = pick(await self.get())
        if found is None:
            self.invalidate()
            found = pick(await self.get())
        return found

    def invalidate(self) -> None:
        """Forget the index: the next read goes to HAPI."""
        self._index = None
