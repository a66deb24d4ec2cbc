"""Patient use cases: register without duplicates, find by any phone format or fuzzy name,
the 360 view, duplicate candidates and merge."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import structlog
from rapidfuzz import fuzz

from app.directory.resources import display_name
from app.engagement.score import Engagement, engagement
from app.errors import Invalid
from app.fhir.builders import Actor, code_in, now_utc, split_name
from app.fhir.canonical import (
    CS_TASK_TYPE,
    SID_ABHA_ADDRESS,
    SID_ABHA_NUMBER,
    SID_MRN,
    SID_PHONE,
    TASK_TYPE_OPPORTUNITY,
    TASK_TYPE_TICKET,
)
from app.fhir.client import FhirClient, Resource, version_of
from app.fhir.errors import FhirConflict
from app.fhir.records import create_with_provenance, require, update_with_provenance
from app.intake.service import IntakeRecord, record_of
from app.language.phones import InvalidPhone, normalize_phone
from app.locking import exclusive
from app.opportunities.resources import Stage, stage_of
from app.patients import contacts, coverage
from app.patients import identifiers as ids
from app.patients import resources as res
from app.patients.lifecycle import merged_into
from app.ports.state import StateStore
from app.vocabulary import UPCOMING_APPOINTMENT_STATUSES

log = structlog.get_logger(__name__)

# A fuzzy patient-name match must score at least this (rapidfuzz token_sort_ratio, 0-100).
NAME_MATCH_CUTOFF = 75
# Duplicate candidates: names at least this similar, with the same birth date.
DUPLICATE_NAME_CUTOFF = 85
# Each name token's first letters are searched in HAPI, then ranked fuzzily.
NAME_PREFIX_LETTERS = 3
NAME_CANDIDATES_PER_TOKEN = 200
TIMELINE_LIMIT = 100


def phone_or_422(raw: str, *, region: str, field: str = "phone") -> str:
    """E.164 of `raw`, or 422 naming the field."""
    try:
        return normalize_phone(raw, region=region)
    except InvalidPhone as exc:
        raise Invalid(field, f"{exc}: {raw!r}") from None


def new_patient(
    *,
    name: str,
    e164: str,
    gender: str | None,
    birth_date: date | None,
    preferred_language: str | None = None,
    preferred_channel: str | None = None,
    resource_id: str | None = None,
    birth_year: int | None = None,
) -> Resource:
    """The Patient a registration writes (`e164` already normalised); 422 for a birth date to come."""
    if birth_date and birth_date > date.today():
        raise Invalid("birth_date", "is in the future")
    if birth_year and not 1900 <= birth_year <= date.today().year:
        raise Invalid("birth_year", "is not a past year")
    given, family = split_name(name)
    patient = res.patient_resource(
        given=given,
        family=family,
        phone=e164,
        gender=gender,
        birth_date=birth_date,
        preferred_language=preferred_language,
        preferred_channel=preferred_channel,
        birth_year=birth_year,
    )
    if resource_id is not None:
        patient["id"] = resource_id
    return patient


def new_patient_id() -> str:
    """A client-assigned Patient id, for a patient written inside another use case's transaction."""
    return f"pt-{uuid.uuid4().hex}"


def registration_lock(state: StateStore, e164: str) -> AbstractAsyncContextManager[None]:
    """One registration of a phone at a time, across API replicas and the bots."""
    return exclusive(state, "patient-phone", e164)


async def register(
    fhir: FhirClient,
    state: StateStore,
    *,
    name: str,
    phone: str,
    region: str,
    gender: str | None,
    birth_date: date | None,
    preferred_language: str | None,
    preferred_channel: str | None,
    actors: Sequence[Actor],
    instruction: str | None = None,
    details: Mapping[str, Any] | None = None,
    mrn_prefix: str,
    now: datetime | None = None,
    birth_year: int | None = None,
) -> tuple[Resource, bool]:
    """Register a patient with a new MRN; a phone already registered returns that patient. (patient, created).

    `mrn_prefix` (Settings.mrn_prefix) has no default, so no path (API, bot, voice, assistant, demo) can
    number a clinic's patients under another prefix; an ABHA number or address another record holds is 409.

    `details`: contacts, identifiers and tags as PATCH takes them (`apply_changes`); `birth_year`: a
    partial birth date (the bot asks the age, not the date).
    """
    e164 = phone_or_422(phone, region=region)
    patient = new_patient(
        name=name,
        e164=e164,
        gender=gender,
        birth_date=birth_date,
        preferred_language=preferred_language,
        preferred_channel=preferred_channel,
        birth_year=birth_year,
    )
    if details:
        apply_changes(patient, {**details, "phone": e164}, region=region)
    # The lock makes "look, then create" atomic, so one registration (and one Provenance) wins; the
    # conditional create still guards a write that outlives its lock.
    async with registration_lock(state, e164):
        existing = await find_by_phone(fhir, phone=e164, region=region) or await _deactivated(fhir, e164)
        if existing:
            return existing[0], False
        async with ids.unique_identifiers(fhir, state, patient):
            await assign_mrn(fhir, state, patient, prefix=mrn_prefix, actors=actors, now=now or now_utc())
            try:
                created = await create_with_provenance(
                    fhir,
                    patient,
                    actors=actors,
                    activity="patient.register",
                    instruction=instruction,
                    if_none_exist={"identifier": f"{SID_PHONE}|{e164}"},
                )
            except FhirConflict:
                return (await find_by_phone(fhir, phone=e164, region=region))[0], False
    log.info("patient.registered", patient=f"Patient/{created['id']}")
    return created, True


async def _deactivated(fhir: FhirClient, e164: str) -> list[Resource]:
    """Deactivated (not merged) patients with this phone: registering them again finds them instead."""
    found = await fhir.search("Patient", {"identifier": f"{SID_PHONE}|{e164}", "active": "false"})
    return [p for p in found if merged_into(p) is None]


async def assign_mrn(
    fhir: FhirClient,
    state: StateStore,
    patient: Resource,
    *,
    prefix: str,
    actors: Sequence[Actor],
    now: datetime,
) -> None:
    """Give a Patient about to be registered the next MRN of `prefix` (registered `now`)."""
    mrn = await ids.next_mrn(fhir, state, prefix=prefix, actors=actors)
    patient["identifier"].append(ids.mrn_identifier(mrn, issued=now))


def apply_changes(patient: Resource, changes: Mapping[str, Any], *, region: str) -> None:
    """Apply API changes (schemas.PatientUpdate fields, null clearing an optional one) to a Patient."""
    if "name" in changes:
        given, family = split_name(changes["name"])
        res.set_name(patient, given=given, family=family)
    if changes.get("phones"):
        phones = [
            contacts.Phone(
                phone_or_422(p["number"], region=region, field=f"phones[{i}].number"),
                p.get("use", "mobile"),
                p.get("primary", False),
            )
            for i, p in enumerate(changes["phones"])
        ]
        if changes.get("phone"):
            main = phone_or_422(changes["phone"], region=region)
            phones = [
                contacts.Phone(main, "mobile", True),
                *(contacts.Phone(p.number, p.use) for p in phones),
            ]
        contacts.set_phones(patient, phones)
    elif changes.get("phone"):
        res.set_phone(patient, phone_or_422(changes["phone"], region=region))
    if "gender" in changes:
        _set_or_drop(patient, "gender", changes["gender"])
    if "birth_date" in changes:
        born = changes["birth_date"]
        _set_or_drop(patient, "birthDate", born.isoformat() if born else None)
    if "email" in changes:
        contacts.set_email(patient, changes["email"])
    if "address" in changes:
        contacts.set_address(patient, changes["address"])
    if "emergency_contact" in changes:
        contact = changes["emergency_contact"]
        if contact:
            e164 = phone_or_422(contact["phone"], region=region, field="emergency_contact.phone")
            contact = {**contact, "phone": e164}
        contacts.set_emergency_contact(patient, contact)
    if "tags" in changes:
        contacts.set_tags(patient, changes["tags"])
    if "abha_number" in changes:
        ids.set_abha(patient, number=changes["abha_number"] or "")
    if "abha_address" in changes:
        ids.set_abha(patient, address=changes["abha_address"] or "")
    if "deceased" in changes:
        patient.pop("deceasedDateTime", None)
        _set_or_drop(patient, "deceasedBoolean", changes["deceased"])
    res.set_preferences(
        patient, language=changes.get("preferred_language"), channel=changes.get("preferred_channel")
    )


def _set_or_drop(resource: Resource, key: str, value: Any) -> None:
    if value is None:
        resource.pop(key, None)
    else:
        resource[key] = value


async def update(
    fhir: FhirClient,
    state: StateStore,
    *,
    patient_id: str,
    changes: dict[str, Any],
    region: str,
    actors: Sequence[Actor],
    if_match: str | None = None,
    instruction: str | None = None,
) -> Resource:
    """Apply the given changes (see `apply_changes`), guarded by If-Match when given; an ABHA number or
    address another record holds is refused (409 naming the field)."""
    patient = await require(fhir, "Patient", patient_id, what="Patient")
    apply_changes(patient, changes, region=region)
    claimed = changes.keys() & set(ids.UNIQUE_IDENTIFIERS.values())
    async with ids.unique_identifiers(fhir, state, patient) if claimed else nullcontext():
        return await update_with_provenance(
            fhir,
            patient,
            actors=actors,
            activity="patient.update",
            if_match=if_match or version_of(patient),
            instruction=instruction,
        )


async def find_by_phone(fhir: FhirClient, *, phone: str, region: str) -> list[Resource]:
    """Patients registered with this phone, written any common way."""
    e164 = phone_or_422(phone, region=region)
    return await fhir.search("Patient", {"identifier": f"{SID_PHONE}|{e164}", "active:not": "false"})


# Exact lookups besides phone: API parameter -> (FHIR search parameter, how the value is written).
LOOKUPS: dict[str, tuple[str, Callable[[str], str]]] = {
    "mrn": ("identifier", lambda v: f"{SID_MRN}|{v.upper()}"),
    "abha_number": ("identifier", lambda v: f"{SID_ABHA_NUMBER}|{ids.normal_abha_number(v)}"),
    "abha_address": ("identifier", lambda v: f"{SID_ABHA_ADDRESS}|{v.lower()}"),
    "email": ("email", str.lower),
    "postal_code": ("address-postalcode:exact", str),
}


async def find_by(fhir: FhirClient, *, field: str, value: str) -> list[Resource]:
    """Patients (inactive ones too: a record number finds its record) whose `field` is exactly `value`."""
    parameter, written = LOOKUPS[field]
    return await fhir.search("Patient", {parameter: written(value)}, limit=TIMELINE_LIMIT)


def name_score(wanted: str, patient: Resource) -> float:
    """How well a patient's name matches `wanted` (0-100)."""
    return float(fuzz.token_sort_ratio(wanted.lower(), display_name(patient).lower()))


async def find_by_name(fhir: FhirClient, *, name: str, limit: int = 20) -> list[Resource]:
    """Patients whose name matches fuzzily ("Ananya Redy"), best first."""
    tokens = [t for t in name.split() if len(t) >= 2][:3]
    if not tokens:
        raise Invalid("name", "give at least two letters")
    pages = await asyncio.gather(
        *(
            fhir.search(
                "Patient",
                {"name": t[:NAME_PREFIX_LETTERS], "active:not": "false"},
                limit=NAME_CANDIDATES_PER_TOKEN,
            )
            for t in tokens
        )
    )
    candidates = {p["id"]: p for page in pages for p in page}
    scored = [(name_score(name, p), p) for p in candidates.values()]
    return [p for score, p in sorted(scored, key=lambda sp: -sp[0]) if score >= NAME_MATCH_CUTOFF][:limit]


@dataclass
class Patient360:
    """Everything the PRM knows about a patient, in one answer."""

    patient: Resource
    upcoming: list[Resource] = field(default_factory=list)
    past: list[Resource] = field(default_factory=list)
    communications: list[Resource] = field(default_factory=list)
    opportunities: list[Resource] = field(default_factory=list)
    tickets: list[Resource] = field(default_factory=list)
    consents: list[Resource] = field(default_factory=list)
    coverages: list[Resource] = field(default_factory=list)
    intake: IntakeRecord = field(default_factory=IntakeRecord)
    engagement: Engagement | None = None

    @property
    def open_opportunity(self) -> Resource | None:
        """The newest lead not yet won or lost."""
        closed = (Stage.WON, Stage.LOST)
        return next((t for t in self.opportunities if stage_of(t) not in closed), None)


async def patient_360(fhir: FhirClient, *, patient_id: str, now: datetime) -> Patient360:
    """Demographics, appointments (upcoming and past), communications, opportunities, tickets, consents,
    coverages, the latest intake and the problems, allergies and medicines on record."""
    patient = await require(fhir, "Patient", patient_id, what="Patient")
    ref = f"Patient/{patient_id}"
    appointments, communications, tasks, consents = await asyncio.gather(
        fhir.search("Appointment", {"patient": ref, "_sort": "date"}, limit=TIMELINE_LIMIT),
        fhir.search("Communication", {"subject": ref, "_sort": "-_lastUpdated"}, limit=TIMELINE_LIMIT),
        fhir.search("Task", {"patient": ref, "_sort": "-_lastUpdated"}, limit=TIMELINE_LIMIT),
        fhir.search("Consent", {"patient": ref, "_sort": "-_lastUpdated"}, limit=TIMELINE_LIMIT),
    )
    view = Patient360(patient=patient, communications=communications, consents=consents)
    for appointment in appointments:
        start = appointment.get("start")
        upcoming = (
            start
            and datetime.fromisoformat(start) >= now
            and appointment["status"] in UPCOMING_APPOINTMENT_STATUSES
        )
        (view.upcoming if upcoming else view.past).append(appointment)
    view.past.reverse()
    view.engagement = engagement(appointments=appointments, communications=communications, now=now)
    view.coverages = await coverage.of_patient(fhir, patient_id=patient_id)
    view.intake = await record_of(fhir, patient_id=patient_id)
    for task in tasks:
        kind = code_in(task.get("code"), CS_TASK_TYPE)
        if kind == TASK_TYPE_OPPORTUNITY:
            view.opportunities.append(task)
        elif kind == TASK_TYPE_TICKET:
            view.tickets.append(task)
    return view


@dataclass(frozen=True)
class DuplicateCandidate:
    """Another patient who may be the same person, and why."""

    patient: Resource
    reasons: tuple[str, ...]
    score: float


async def duplicates(fhir: FhirClient, *, patient_id: str) -> list[DuplicateCandidate]:
    """Patients sharing this one's phone, or with a similar name and the same birth date."""
    patient = await require(fhir, "Patient", patient_id, what="Patient")
    phones = [i["value"] for i in patient.get("identifier", []) if i.get("system") == SID_PHONE]
    searches = [
        fhir.search("Patient", {"identifier": f"{SID_PHONE}|{p}", "active:not": "false"}) for p in phones
    ]
    if patient.get("birthDate"):
        searches.append(fhir.search("Patient", {"birthdate": patient["birthDate"], "active:not": "false"}))
    found: dict[str, set[str]] = {}
    others: dict[str, Resource] = {}
    wanted = display_name(patient)
    for page in await asyncio.gather(*searches):
        for other in page:
            if other["id"] == patient_id:
                continue
            others[other["id"]] = other
            reasons = found.setdefault(other["id"], set())
            other_phones = {i["value"] for i in other.get("identifier", []) if i.get("system") == SID_PHONE}
            if set(phones) & other_phones:
                reasons.add("same phone")
            same_birth = bool(patient.get("birthDate")) and other.get("birthDate") == patient["birthDate"]
            if same_birth and name_score(wanted, other) >= DUPLICATE_NAME_CUTOFF:
                reasons.add("similar name, same birth date")
    return sorted(
        (
            DuplicateCandidate(
                patient=others[pid], reasons=tuple(sorted(r)), score=name_score(wanted, others[pid])
            )
            for pid, r in found.items()
            if r
        ),
        key=lambda c: -c.score,
    )
