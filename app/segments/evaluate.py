"""Evaluating a segment to its members: one Patient search in HAPI (ids only, paged), intersected with the
patient sets of the criteria FHIR search cannot express exactly, each one search of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from app.consents.resources import ConsentRecord, Decision, current_of, marketing_of, newest_first
from app.engagement import service as engagement
from app.errors import Invalid
from app.fhir.builders import instant
from app.fhir.canonical import (
    CONSENT_CATEGORY_MARKETING,
    CS_CONSENT_POLICY,
    CS_SPECIALTY,
    PROFILE_JOURNEY,
    journey_template_url,
)
from app.fhir.client import FhirClient, Resource
from app.fhir.errors import FhirInvalid
from app.fhir.query import MAX_PAGE_SIZE
from app.segments.resources import Criteria, age_search, static_search
from app.vocabulary import UPCOMING_APPOINTMENT_STATUSES

VISITED = "fulfilled,arrived"
# Criteria searches are limited to the candidates (CHUNK ids a search) when there are at most this many.
RESTRICT_UP_TO = 2000
CHUNK = 100
# Engagement is scored per candidate (two searches each): this many at a time.
ENGAGEMENT_CONCURRENCY = 8


async def members(fhir: FhirClient, criteria: Criteria, *, now: datetime, tz: ZoneInfo) -> list[str]:
    """The ids of the patients the segment selects at `now`, sorted; Invalid with HAPI's message when
    HAPI rejects the segment's search."""
    today = now.astimezone(tz).date()
    try:
        found = await fhir.search(
            "Patient", [*patient_search(criteria, today), ("_elements", "id"), ("_count", str(MAX_PAGE_SIZE))]
        )
        ids = {str(p["id"]) for p in found}
        for narrowed, keep in await _code_sets(fhir, criteria, now=now, tz=tz, among=frozenset(ids)):
            ids = ids & narrowed if keep else ids - narrowed
        if criteria.engagement and ids:
            ids = await _engaged(fhir, ids, level=criteria.engagement, now=now)
    except FhirInvalid as exc:
        raise Invalid("search", f"the FHIR server rejected the segment's search: {exc.message}") from None
    return sorted(ids)


async def count(fhir: FhirClient, criteria: Criteria, *, now: datetime, tz: ZoneInfo) -> int:
    """How many patients the segment selects: HAPI counts when it can do all of the work."""
    if criteria.in_code() or criteria.engagement:
        return len(await members(fhir, criteria, now=now, tz=tz))
    try:
        return await fhir.count("Patient", patient_search(criteria, now.astimezone(tz).date()))
    except FhirInvalid as exc:
        raise Invalid("search", f"the FHIR server rejected the segment's search: {exc.message}") from None


def patient_search(criteria: Criteria, today: date) -> list[tuple[str, str]]:
    """The Patient search HAPI runs for the segment on `today`."""
    return [*static_search(criteria), *age_search(criteria, today)]


async def _code_sets(
    fhir: FhirClient, c: Criteria, *, now: datetime, tz: ZoneInfo, among: frozenset[str]
) -> list[tuple[set[str], bool]]:
    """One patient set per criterion applied in the PRM, and whether members must be in it (or not)."""
    pending = []
    if c.specialty_seen:
        pending.append(
            _patients(fhir, among, "Appointment", [("specialty", f"{CS_SPECIALTY}|{c.specialty_seen}")])
        )
    if c.practitioner_seen:
        pending.append(
            _patients(fhir, among, "Appointment", [("actor", f"Practitioner/{c.practitioner_seen}")])
        )
    if c.last_visit_after:
        pending.append(
            _patients(fhir, among, "Appointment", [("date", f"ge{_start_of(c.last_visit_after, tz)}")])
        )
    if c.journey:
        pending.append(_journey(fhir, among, c.journey))
    if c.channel_consent:
        pending.append(_opted_in(fhir, among, c.channel_consent))
    sets = [(found, True) for found in await asyncio.gather(*pending)]
    if c.last_visit_before:
        # The last visit is before the date: a visit before it and none since.
        since = await _patients(
            fhir, among, "Appointment", [("date", f"ge{_start_of(c.last_visit_before, tz)}")]
        )
        before = await _patients(
            fhir, among, "Appointment", [("date", f"lt{_start_of(c.last_visit_before, tz)}")]
        )
        sets.append((before - since, True))
    if c.upcoming_appointment is not None:
        upcoming = await _patients(
            fhir,
            among,
            "Appointment",
            [("date", f"ge{instant(now)}"), ("status", ",".join(UPCOMING_APPOINTMENT_STATUSES))],
            visits=False,
        )
        sets.append((upcoming, c.upcoming_appointment))
    if c.marketing_opt_out is not None:
        sets.append((await _marketing_opted_out(fhir, among), c.marketing_opt_out))
    return sets


async def _search(
    fhir: FhirClient, among: frozenset[str], resource_type: str, params: Sequence[tuple[str, str]]
) -> list[Resource]:
    """A criterion's search, limited to the candidates when they are few (chunks of `patient=`), else
    over the whole server (one paged search costs less than many chunks)."""
    if len(among) > RESTRICT_UP_TO:
        return await fhir.search(resource_type, [*params, ("_count", str(MAX_PAGE_SIZE))])
    ordered = sorted(among)
    chunks = [ordered[i : i + CHUNK] for i in range(0, len(ordered), CHUNK)]
    found = await asyncio.gather(
        *(
            fhir.search(resource_type, [*params, ("patient", ",".join(f"Patient/{p}" for p in chunk))])
            for chunk in chunks
        )
    )
    return [resource for batch in found for resource in batch]


def _start_of(day: date, tz: ZoneInfo) -> str:
    return instant(datetime.combine(day, time.min, tzinfo=tz))


async def _patients(
    fhir: FhirClient,
    among: frozenset[str],
    resource_type: str,
    params: Sequence[tuple[str, str]],
    *,
    visits: bool = True,
) -> set[str]:
    """The patients of the appointments a search finds (visits: fulfilled or arrived ones only)."""
    query = [*params, ("status", VISITED)] if visits else list(params)
    found = await _search(fhir, among, resource_type, [*query, ("_elements", "participant")])
    return set(_patient_refs(a for a in found))


def _patient_refs(appointments: Iterable[Resource]) -> Iterable[str]:
    for appointment in appointments:
        for participant in appointment.get("participant", []):
            ref = str((participant.get("actor") or {}).get("reference", ""))
            if ref.startswith("Patient/"):
                yield ref.removeprefix("Patient/")


async def _journey(fhir: FhirClient, among: frozenset[str], template: str) -> set[str]:
    plans = await _search(
        fhir,
        among,
        "CarePlan",
        [
            ("_profile", PROFILE_JOURNEY),
            ("instantiates-canonical", journey_template_url(template)),
            ("status", "active"),
            ("_elements", "subject"),
        ],
    )
    refs = (str((p.get("subject") or {}).get("reference", "")) for p in plans)
    return {r.removeprefix("Patient/") for r in refs if r.startswith("Patient/")}


async def _opted_in(fhir: FhirClient, among: frozenset[str], channel: str) -> set[str]:
    """Patients whose latest decision for the channel is an opt-in (latest wins, as the send job reads it)."""
    consents = await _search(fhir, among, "Consent", [("channel", channel), ("status", "active")])
    return {
        patient
        for patient, theirs in _by_patient(consents).items()
        if (latest := current_of(theirs).get(channel)) and latest.decision == Decision.OPT_IN
    }


def _by_patient(consents: list[Resource]) -> dict[str, list[ConsentRecord]]:
    """Each patient's readable decisions, newest first."""
    found: dict[str, list[Resource]] = {}
    for consent in consents:
        ref = str((consent.get("patient") or {}).get("reference", ""))
        if ref.startswith("Patient/"):
            found.setdefault(ref.removeprefix("Patient/"), []).append(consent)
    return {patient: newest_first(theirs) for patient, theirs in found.items()}


async def _marketing_opted_out(fhir: FhirClient, among: frozenset[str]) -> set[str]:
    """Patients whose latest marketing decision is an opt-out (do not disturb)."""
    category = f"{CS_CONSENT_POLICY}|{CONSENT_CATEGORY_MARKETING}"
    consents = await _search(fhir, among, "Consent", [("category", category), ("status", "active")])
    return {
        patient
        for patient, theirs in _by_patient(consents).items()
        if (latest := marketing_of(theirs)) and latest.decision == Decision.OPT_OUT
    }


async def _engaged(fhir: FhirClient, ids: set[str], *, level: str, now: datetime) -> set[str]:
    gate = asyncio.Semaphore(ENGAGEMENT_CONCURRENCY)

    async def level_of(patient_id: str) -> tuple[str, str]:
        async with gate:
            return patient_id, (await engagement.of_patient(fhir, patient_id=patient_id, now=now)).level

    scored = await asyncio.gather(*(level_of(p) for p in sorted(ids)))
    return {patient for patient, found in scored if found == level}
