"""The demo clinic (Sunrise Multispeciality Clinic, Bengaluru) loaded idempotently: directory,
patients and slots over the horizon. Fixed ids make a second run change nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from importlib import resources as package_files
from typing import Any

import structlog

from app.consents.resources import ConsentSource, Decision
from app.consents.service import ensure as ensure_consent
from app.directory import resources as res
from app.directory.index import DirectoryCache
from app.directory.service import create_practitioner
from app.fhir.builders import Actor, AgentKind
from app.fhir.client import FhirClient, Resource
from app.fhir.errors import FhirNotFound
from app.fhir.records import create_with_provenance, update_with_provenance
from app.journeys.templates import load_demo_templates
from app.patients.service import register
from app.ports.state import StateStore
from app.scheduling.slots import DEFAULT_HORIZON_DAYS, generate_slots

log = structlog.get_logger(__name__)

ORGANIZATION_ID = "sunrise"
SEED_ACTOR = Actor(kind=AgentKind.SYSTEM, user="demo-seed")


def demo_directory() -> dict[str, Any]:
    """The demo clinic's data as shipped with the project (app/demo/directory.json)."""
    data: dict[str, Any] = json.loads(package_files.files("app.demo").joinpath("directory.json").read_text())
    return data


def role_id(practitioner: dict[str, Any]) -> str:
    """Fixed PractitionerRole id of a demo practitioner."""
    return f"{practitioner['key']}-{practitioner['specialty']}"


@dataclass
class DemoReport:
    """What loading the demo changed."""

    created: int = 0
    patients_registered: int = 0
    consents_recorded: int = 0
    slots_created: int = 0


async def _ensure(
    fhir: FhirClient, resource: Resource, report: DemoReport, *, fields: tuple[str, ...] = ()
) -> None:
    """Create a missing resource; one seeded before `fields` existed gets them once."""
    try:
        stored = await fhir.read(resource["resourceType"], resource["id"])
    except FhirNotFound:
        await create_with_provenance(fhir, resource, actors=[SEED_ACTOR], activity="demo.load")
        report.created += 1
        return
    if all(stored.get(f) == resource.get(f) for f in fields):
        return
    updated = {**stored, **{f: resource[f] for f in fields if f in resource}}
    await update_with_provenance(
        fhir, updated, actors=[SEED_ACTOR], activity="demo.load", if_match=stored["meta"]["versionId"]
    )


def _fee(organization: dict[str, Any], specialty: str) -> Decimal | None:
    fee = organization.get("consultation_fees_inr", {}).get(specialty)
    return Decimal(str(fee)) if fee is not None else None


async def _ensure_organization(fhir: FhirClient, org: dict[str, Any], report: DemoReport) -> None:
    """The clinic's Organization; one seeded before its contact fields existed gets them once."""
    wanted = res.organization_resource(
        name=org["name"],
        phone=org["phone"],
        emergency_phone=org.get("emergency_phone"),
        resource_id=ORGANIZATION_ID,
    )
    try:
        stored = await fhir.read("Organization", ORGANIZATION_ID)
    except FhirNotFound:
        await create_with_provenance(fhir, wanted, actors=[SEED_ACTOR], activity="demo.load")
        report.created += 1
        return
    fields = ("telecom", "contact")
    if all(stored.get(f) == wanted.get(f) for f in fields):
        return
    updated = {**stored, **{f: wanted[f] for f in fields if f in wanted}}
    await update_with_provenance(
        fhir, updated, actors=[SEED_ACTOR], activity="demo.load", if_match=stored["meta"]["versionId"]
    )


async def load_demo(
    fhir: FhirClient,
    cache: DirectoryCache,
    state: StateStore,
    *,
    now: datetime,
    mrn_prefix: str,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> DemoReport:
    """Load the demo clinic; resources that exist are left alone, missing slots are generated."""
    data = demo_directory()
    report = DemoReport()
    org = data["organization"]
    # hours_note stays in directory.json; consultation fees go on the departments (consultation-fee).
    await _ensure_organization(fhir, org, report)
    for loc in data["locations"]:
        location = res.location_resource(
            name=loc["name"],
            timezone=loc["timezone"],
            organization_id=ORGANIZATION_ID,
            address=loc["address"],
            city=loc["city"],
            resource_id=loc["key"],
        )
        await _ensure(fhir, location, report)
    for dept in data["departments"]:
        where = sorted({p["location"] for p in data["practitioners"] if p["specialty"] == dept["code"]})
        department = res.department_resource(
            name=dept["name"],
            specialty=dept["code"],
            organization_id=ORGANIZATION_ID,
            location_ids=where,
            resource_id=f"dept-{dept['code']}",
            fee=_fee(org, dept["code"]),
            currency=org.get("currency", "INR"),
        )
        await _ensure(fhir, department, report, fields=("extension",))
    existing_roles = {r.role_id for r in (await cache.get()).roles}
    for doc in data["practitioners"]:
        if role_id(doc) in existing_roles:
            continue
        given, family = doc["name"].rsplit(" ", 1)
        await create_practitioner(
            fhir,
            cache,
            given=given,
            family=family,
            prefix=doc.get("prefix"),
            gender=doc.get("gender"),
            specialty=doc["specialty"],
            organization_id=ORGANIZATION_ID,
            location_id=doc["location"],
            department_id=f"dept-{doc['specialty']}",
            hours=res.parse_hours(doc["hours"]),
            slot_minutes=doc["slot_minutes"],
            actor=SEED_ACTOR,
            ids=(doc["key"], role_id(doc), f"{role_id(doc)}-schedule"),
        )
        report.created += 3
    for person in data["patients"]:
        patient, created = await register(
            fhir,
            state,
            name=person["name"],
            phone=person["phone"],
            region="IN",
            gender=person.get("gender"),
            birth_date=date.fromisoformat(person["birth_date"]) if person.get("birth_date") else None,
            preferred_language=person.get("preferred_language"),
            preferred_channel=person.get("preferred_channel", "whatsapp"),
            actors=[SEED_ACTOR],
            mrn_prefix=mrn_prefix,
        )
        report.patients_registered += int(created)
        for channel, decision in person.get("consents", {}).items():
            recorded = await ensure_consent(
                fhir,
                patient_id=patient["id"],
                channel=channel,
                decision=Decision(decision),
                source=ConsentSource.IMPORT,
                actors=[SEED_ACTOR],
                recorded_at=now,
            )
            report.consents_recorded += int(recorded is not None)
    # The earlier PRM's four journey templates (app/journeys/data), written when missing or changed.
    report.created += len(await load_demo_templates(fhir, actors=[SEED_ACTOR]))
    cache.invalidate()
    demo_roles = {role_id(doc) for doc in data["practitioners"]}
    for entry in (await cache.get()).roles:
        if entry.role_id in demo_roles:
            slots = await generate_slots(
                fhir, entry, first_day=now.astimezone(entry.timezone).date(), days=horizon_days, now=now
            )
            report.slots_created += slots.created
    log.info(
        "demo.loaded",
        created=report.created,
        patients=report.patients_registered,
        consents=report.consents_recorded,
        slots=report.slots_created,
    )
    return report
