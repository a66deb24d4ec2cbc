"""Segment use cases: save, read, change and delete a segment; evaluate one (saved or not) to members."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import structlog

from app.errors import Conflict, Invalid
from app.fhir.builders import Actor
from app.fhir.canonical import PROFILE_SEGMENT
from app.fhir.client import FhirClient, Resource, version_of
from app.fhir.errors import FhirConflict
from app.fhir.records import create_with_provenance, page_of, require_kind, update_with_provenance
from app.language.specialties import SPECIALTIES
from app.segments import evaluate
from app.segments.resources import Criteria, Segment, reserved_in, segment_of, segment_resource

log = structlog.get_logger(__name__)


def _is_segment(group: Resource) -> bool:
    return PROFILE_SEGMENT in (group.get("meta") or {}).get("profile", [])


async def get(fhir: FhirClient, segment_id: str) -> Segment:
    """A saved segment; NotFound for an unknown id (or a Group that is not a segment)."""
    return segment_of(await require_kind(fhir, "Group", segment_id, what="Segment", kind=_is_segment))


async def check(fhir: FhirClient, criteria: Criteria, *, now: datetime, tz: ZoneInfo) -> int:
    """Validate a definition by counting it (HAPI judges the search); the count."""
    known = {s.code for s in SPECIALTIES}
    if criteria.specialty_seen is not None and criteria.specialty_seen not in known:
        raise Invalid("specialty_seen", f"unknown department; one of {', '.join(sorted(known))}")
    if reserved := reserved_in(criteria.search):
        raise Invalid("search", f"the search may not set {', '.join(reserved)} (the evaluation does)")
    if criteria.age_min is not None and criteria.age_max is not None and criteria.age_min > criteria.age_max:
        raise Invalid("age_max", "must not be below age_min")
    before, after = criteria.last_visit_before, criteria.last_visit_after
    if before is not None and after is not None and after >= before:
        raise Invalid("last_visit_before", "must be after last_visit_after")
    return await evaluate.count(fhir, criteria, now=now, tz=tz)


async def create(
    fhir: FhirClient,
    *,
    name: str,
    description: str | None,
    criteria: Criteria,
    actor: Actor,
    now: datetime,
    tz: ZoneInfo,
) -> Segment:
    """Save a segment (its search is checked by HAPI first: nothing is written if it is rejected)."""
    await check(fhir, criteria, now=now, tz=tz)
    stored = await create_with_provenance(
        fhir,
        segment_resource(name=name, description=description, criteria=criteria),
        actors=[actor],
        activity="segment.create",
    )
    log.info("segment.created", segment=f"Group/{stored['id']}")
    return segment_of(stored)


async def update(
    fhir: FhirClient,
    *,
    segment_id: str,
    name: str,
    description: str | None,
    criteria: Criteria,
    actor: Actor,
    now: datetime,
    tz: ZoneInfo,
) -> Segment:
    """Replace a segment's definition."""
    current = await require_kind(fhir, "Group", segment_id, what="Segment", kind=_is_segment)
    await check(fhir, criteria, now=now, tz=tz)
    changed = {**segment_resource(name=name, description=description, criteria=criteria), "id": segment_id}
    try:
        stored = await update_with_provenance(
            fhir, changed, actors=[actor], activity="segment.update", if_match=version_of(current)
        )
    except FhirConflict:
        raise Conflict(f"Segment {segment_id!r} was changed meanwhile; read it again") from None
    log.info("segment.updated", segment=f"Group/{segment_id}")
    return segment_of(stored)


async def delete(fhir: FhirClient, *, segment_id: str) -> None:
    """Delete a segment no campaign uses (HAPI keeps references intact: a used one is a Conflict)."""
    await get(fhir, segment_id)
    try:
        await fhir.delete("Group", segment_id)
    except FhirConflict:
        raise Conflict(f"Segment {segment_id!r} is used by a campaign") from None
    log.info("segment.deleted", segment=f"Group/{segment_id}")


async def listed(fhir: FhirClient, *, page: int, count: int) -> tuple[list[Segment], bool]:
    """Saved segments, newest first, one page; and whether another follows."""
    found, more = await page_of(
        fhir, "Group", [("_profile", PROFILE_SEGMENT), ("_sort", "-_lastUpdated")], page=page, count=count
    )
    return [segment_of(g) for g in found], more


async def count(fhir: FhirClient, *, segment_id: str, now: datetime, tz: ZoneInfo) -> int:
    """How many patients a saved segment selects now."""
    segment = await get(fhir, segment_id)
    return await evaluate.count(fhir, segment.criteria, now=now, tz=tz)


async def members(
    fhir: FhirClient, *, segment_id: str, page: int, count: int, now: datetime, tz: ZoneInfo
) -> tuple[list[str], int]:
    """One page of a saved segment's members (patient ids, sorted) and their total."""
    segment = await get(fhir, segment_id)
    everyone = await evaluate.members(fhir, segment.criteria, now=now, tz=tz)
    start = (page - 1) * count
    return everyone[start : start + count], len(everyone)
