"""Directory use cases: the clinic's organizations, branches, departments and practitioners."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rapidfuzz import fuzz

from app.directory import resources as res
from app.directory.index import DirectoryCache, RoleEntry
from app.errors import Invalid
from app.fhir.builders import Actor, provenance, split_name
from app.fhir.bundle import Transaction, response_references
from app.fhir.canonical import EXT_TIMEZONE
from app.fhir.client import FhirClient, Resource, version_of
from app.fhir.records import create_with_provenance, require, update_with_provenance
from app.language.specialties import BY_CODE

# A fuzzy practitioner-name match must score at least this (0-100, rapidfuzz); a lone word
# ("Sharma") is compared with each name part and must be closer.
PRACTITIONER_NAME_CUTOFF = 80
SINGLE_WORD_CUTOFF = 85
# Titles people put in front of a doctor's name; ignored when matching.
TITLES = ("dr.", "dr", "doctor", "prof.", "prof")


def require_specialty(code: str, *, field: str = "specialty") -> str:
    """The code itself if the directory knows it; 422 naming the field otherwise."""
    if code not in BY_CODE:
        raise Invalid(field, f"unknown specialty code {code!r} (known: {', '.join(sorted(BY_CODE))})")
    return code


def require_timezone(name: str, *, field: str = "timezone") -> str:
    """The IANA zone name if it exists; 422 otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(field, f"unknown IANA time zone {name!r}") from None
    return name


async def create_organization(fhir: FhirClient, *, name: str, phone: str | None, actor: Actor) -> Resource:
    """Create an organization (a clinic)."""
    org = res.organization_resource(name=name, phone=phone)
    return await create_with_provenance(fhir, org, actors=[actor], activity="directory.organization.create")


async def create_location(
    fhir: FhirClient,
    cache: DirectoryCache,
    *,
    name: str,
    timezone: str,
    organization_id: str,
    address: str | None,
    city: str | None,
    actor: Actor,
) -> Resource:
    """Create a branch with its time zone."""
    require_timezone(timezone)
    await require(fhir, "Organization", organization_id, what="Organization")
    location = res.location_resource(
        name=name, timezone=timezone, organization_id=organization_id, address=address, city=city
    )
    created = await create_with_provenance(
        fhir, location, actors=[actor], activity="directory.location.create"
    )
    cache.invalidate()
    return created


async def create_department(
    fhir: FhirClient,
    *,
    name: str,
    specialty: str,
    organization_id: str,
    location_ids: list[str],
    actor: Actor,
    fee: Decimal | None = None,
) -> Resource:
    """Create a department (HealthcareService) for a specialty, with its consultation fee if given."""
    require_specialty(specialty)
    await require(fhir, "Organization", organization_id, what="Organization")
    for location_id in location_ids:
        await require(fhir, "Location", location_id, what="Location")
    department = res.department_resource(
        name=name, specialty=specialty, organization_id=organization_id, location_ids=location_ids, fee=fee
    )
    return await create_with_provenance(
        fhir, department, actors=[actor], activity="directory.department.create"
    )


async def create_practitioner(
    fhir: FhirClient,
    cache: DirectoryCache,
    *,
    given: str,
    family: str,
    prefix: str | None,
    gender: str | None,
    specialty: str,
    organization_id: str,
    location_id: str,
    department_id: str | None,
    hours: res.WeeklyHours,
    slot_minutes: int,
    actor: Actor,
    ids: tuple[str, str, str] | None = None,
) -> RoleEntry:
    """Create a Practitioner, their PractitionerRole and its Schedule together (ids: fixed ids, for seeds)."""
    require_specialty(specialty)
    await require(fhir, "Organization", organization_id, what="Organization")
    await require(fhir, "Location", location_id, what="Location")
    if department_id:
        await require(fhir, "HealthcareService", department_id, what="Department")
    practitioner_id, role_id, schedule_id = ids or (None, None, None)
    tx = Transaction()
    practitioner = res.practitioner_resource(
        given=given, family=family, prefix=prefix, gender=gender, resource_id=practitioner_id
    )
    practitioner_ref = tx.write(practitioner)
    role = res.role_resource(
        practitioner_ref=practitioner_ref,
        organization_id=organization_id,
        specialty=specialty,
        location_id=location_id,
        department_id=department_id,
        hours=hours,
        resource_id=role_id,
    )
    role_ref = tx.write(role)
    schedule = res.schedule_resource(role_ref=role_ref, slot_minutes=slot_minutes, resource_id=schedule_id)
    schedule_ref = tx.write(schedule)
    tx.create(
        provenance(
            targets=[practitioner_ref, role_ref, schedule_ref],
            actors=[actor],
            activity="directory.practitioner.create",
        )
    )
    written = response_references(await fhir.transaction(tx.bundle()))
    cache.invalidate()
    entry = (await cache.get()).by_role(written[1].removeprefix("PractitionerRole/"))
    if entry is None:  # pragma: no cover - HAPI just wrote it
        raise RuntimeError("the role just written is not in the directory")
    return entry


async def update_hours(
    fhir: FhirClient, cache: DirectoryCache, *, role_id: str, hours: res.WeeklyHours, actor: Actor
) -> Resource:
    """Replace a role's weekly hours (slots are regenerated by the caller)."""
    role = await require(fhir, "PractitionerRole", role_id, what="PractitionerRole")
    role["availableTime"] = res.available_time(hours)
    updated = await update_with_provenance(
        fhir, role, actors=[actor], activity="directory.hours.update", if_match=version_of(role)
    )
    cache.invalidate()
    return updated


async def update_practitioner(
    fhir: FhirClient,
    cache: DirectoryCache,
    *,
    practitioner_id: str,
    changes: dict[str, Any],
    actor: Actor,
) -> Resource:
    """Change a practitioner's name, title, gender or activity."""
    practitioner = await require(fhir, "Practitioner", practitioner_id, what="Practitioner")
    if "name" in changes or "prefix" in changes:
        current = (practitioner.get("name") or [{}])[0]
        given, family = (
            split_name(changes["name"])
            if "name" in changes
            else (" ".join(current.get("given", [])), current.get("family", ""))
        )
        prefix = changes.get("prefix", (current.get("prefix") or [None])[0])
        practitioner["name"] = res.practitioner_resource(
            given=given, family=family, prefix=prefix, gender=None
        )["name"]
    for key in ("gender", "active"):
        if key in changes:
            practitioner[key] = changes[key]
    updated = await update_with_provenance(
        fhir,
        practitioner,
        actors=[actor],
        activity="directory.practitioner.update",
        if_match=version_of(practitioner),
    )
    cache.invalidate()
    return updated


async def update_location(
    fhir: FhirClient, cache: DirectoryCache, *, location_id: str, changes: dict[str, Any], actor: Actor
) -> Resource:
    """Change a branch's name, address or time zone."""
    location = await require(fhir, "Location", location_id, what="Location")
    if "timezone" in changes:
        location["extension"] = [e for e in location.get("extension", []) if e.get("url") != EXT_TIMEZONE] + [
            {"url": EXT_TIMEZONE, "valueCode": require_timezone(changes["timezone"])}
        ]
    if "name" in changes:
        location["name"] = changes["name"]
    address = {k: v for k, v in (("text", changes.get("address")), ("city", changes.get("city"))) if v}
    if address:
        location["address"] = {**location.get("address", {}), **address}
    updated = await update_with_provenance(
        fhir, location, actors=[actor], activity="directory.location.update", if_match=version_of(location)
    )
    cache.invalidate()
    return updated


def _strip_titles(name: str) -> str:
    words = [w for w in name.replace(",", " ").split() if w.lower() not in TITLES]
    return " ".join(words)


def match_practitioners(roles: list[RoleEntry], name: str) -> list[tuple[RoleEntry, float]]:
    """Roles whose practitioner's name matches `name` fuzzily ("Meera Iyar", "Dr Sharma"), best first."""
    wanted = _strip_titles(name).lower()
    if not wanted:
        return []
    scored = []
    for role in roles:
        full = role.practitioner_name.lower()
        parts = full.split()
        # A single word ("Sharma") must match a whole name part; more words use the whole name.
        if len(wanted.split()) == 1:
            score = max((fuzz.ratio(wanted, part) for part in parts), default=0.0)
            cutoff = SINGLE_WORD_CUTOFF
        else:
            score, cutoff = fuzz.token_sort_ratio(wanted, full), PRACTITIONER_NAME_CUTOFF
        if score >= cutoff:
            scored.append((role, float(score)))
    return sorted(scored, key=lambda pair: -pair[1])


async def search_practitioners(
    cache: DirectoryCache, *, name: str | None, specialty: str | None, location: str | None = None
) -> list[RoleEntry]:
    """Active roles filtered by fuzzy name, specialty code and location id."""
    if specialty:
        require_specialty(specialty)
    roles = [r for r in (await cache.get()).roles if r.active]
    if specialty:
        roles = [r for r in roles if r.specialty == specialty]
    if location:
        roles = [r for r in roles if r.location_id == location]
    if name:
        return [role for role, _ in match_practitioners(roles, name)]
    return sorted(roles, key=lambda r: r.practitioner_name)
