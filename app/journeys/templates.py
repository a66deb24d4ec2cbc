"""Journey template use cases: PlanDefinitions checked before they are saved (every message template,
ticket category, questionnaire, department and event must exist), read, listed, retired, and the demo
templates loaded."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import structlog

from app.conformance import PROFILES_DIR
from app.errors import Conflict, Invalid, NotFound
from app.fhir.builders import Actor
from app.fhir.canonical import CS_SPECIALTY, PROFILE_JOURNEY_TEMPLATE
from app.fhir.client import FhirClient
from app.fhir.errors import FhirNotFound
from app.fhir.records import create_with_provenance, require
from app.intake import service as intake
from app.journeys.model import ActionKind, Template
from app.journeys.resources import plan_definition, template_of

# The data files are read with the API model: one parser and one set of checks for both.
from app.journeys.schemas import TemplateCreate
from app.language.specialties import BY_CODE
from app.messaging import catalog

log = structlog.get_logger(__name__)

DATA_DIR = Path(__file__).with_name("data")


@cache
def ticket_categories() -> frozenset[str]:
    """The ticket categories, from their CodeSystem (the one definition HAPI validates against too)."""
    code_system = json.loads((PROFILES_DIR / "CodeSystem" / "ticket-category.json").read_text("utf-8"))
    return frozenset(str(c["code"]) for c in code_system["concept"])


def check_template(template: Template) -> None:
    """Refuse a template naming anything that does not exist; Invalid names the field at fault."""
    if template.department is not None and template.department not in BY_CODE:
        raise Invalid(
            "department", f"unknown department {template.department!r}; known: {', '.join(BY_CODE)}"
        )
    seen: set[str] = set()
    for i, stage in enumerate(template.stages):
        if stage.code in seen:
            raise Invalid(f"stages[{i}].code", f"stage {stage.code!r} appears twice")
        seen.add(stage.code)
        if sum(a.kind is ActionKind.WAIT for a in stage.actions) > 1:
            raise Invalid(f"stages[{i}].actions", "a stage waits for one event at most")
        for j, action in enumerate(stage.actions):
            where = f"stages[{i}].actions[{j}]"
            if action.kind is ActionKind.MESSAGE and action.template not in catalog.CATALOG:
                raise Invalid(f"{where}.template", f"unknown message template {action.template!r}")
            if action.kind is ActionKind.TICKET and action.category not in ticket_categories():
                known = ", ".join(sorted(ticket_categories()))
                raise Invalid(
                    f"{where}.category", f"unknown ticket category {action.category!r}; known: {known}"
                )
            if action.kind is ActionKind.WAIT and action.event is None:
                raise Invalid(f"{where}.event", "a wait names the event it waits for (arrived, fulfilled)")
            if action.kind is ActionKind.INTAKE and not action.questionnaire:
                raise Invalid(f"{where}.questionnaire", "an intake action names its questionnaire")


async def check_questionnaires(fhir: FhirClient, template: Template) -> None:
    """Refuse an intake action whose questionnaire HAPI does not have (Invalid names the field)."""
    for i, stage in enumerate(template.stages):
        for j, action in enumerate(stage.actions):
            if action.kind is not ActionKind.INTAKE or action.questionnaire is None:
                continue
            try:
                await intake.questionnaire(fhir, action.questionnaire)
            except NotFound:
                raise Invalid(
                    f"stages[{i}].actions[{j}].questionnaire",
                    f"unknown questionnaire {action.questionnaire!r} (GET /api/v1/questionnaires)",
                ) from None


async def save_template(
    fhir: FhirClient, *, template: Template, actors: Sequence[Actor], create: bool
) -> Template:
    """Create (Conflict if the name is taken) or replace (NotFound if absent) a template, checked first."""
    check_template(template)
    await check_questionnaires(fhir, template)
    existing = await _read(fhir, template.name)
    if create and existing is not None:
        raise Conflict(f"Journey template {template.name!r} already exists", code="template_exists")
    if not create and existing is None:
        raise NotFound("Journey template", template.name)
    if template.location is not None:
        await require(fhir, "Location", template.location, what="Location")
    stored = await create_with_provenance(
        fhir, plan_definition(template), actors=actors, activity="journey-template.save"
    )
    log.info("journey.template.saved", template=f"PlanDefinition/{stored['id']}")
    return template_of(stored)


async def get_template(fhir: FhirClient, *, name: str) -> Template:
    """A template, retired or not; NotFound if there is none by that name."""
    found = await _read(fhir, name)
    if found is None:
        raise NotFound("Journey template", name)
    return found


async def list_templates(fhir: FhirClient, *, include_retired: bool = False) -> list[Template]:
    """The templates, by name."""
    params = [("_profile", PROFILE_JOURNEY_TEMPLATE), ("_sort", "_id")]
    if not include_retired:
        params.append(("status", "active"))
    return [template_of(r) for r in await fhir.search("PlanDefinition", params)]


async def retire_template(fhir: FhirClient, *, name: str, actors: Sequence[Actor]) -> None:
    """Retire a template: it starts no more journeys; the running ones go on."""
    resource = await require(fhir, "PlanDefinition", name, what="Journey template")
    if resource.get("status") == "retired":
        return
    await create_with_provenance(
        fhir, {**resource, "status": "retired"}, actors=actors, activity="journey-template.retire"
    )
    log.info("journey.template.retired", template=f"PlanDefinition/{name}")


async def default_templates(fhir: FhirClient, *, department: str, location_id: str | None) -> list[Template]:
    """The active templates that start by themselves for an appointment of a department (at a location)."""
    found = await fhir.search(
        "PlanDefinition",
        [
            ("_profile", PROFILE_JOURNEY_TEMPLATE),
            ("status", "active"),
            ("context", f"{CS_SPECIALTY}|{department}"),
        ],
    )
    templates = [template_of(r) for r in found]
    return [t for t in templates if t.location is None or t.location == location_id]


async def load_demo_templates(fhir: FhirClient, *, actors: Sequence[Actor]) -> list[str]:
    """Write the project's journey templates (`data/*.json`) that are missing or differ; their names."""
    written = []
    for path in sorted(DATA_DIR.glob("*.json")):
        body = TemplateCreate.model_validate_json(path.read_bytes())
        template = body.template(body.name)
        check_template(template)
        await check_questionnaires(fhir, template)
        if await _read(fhir, template.name) != template:
            await create_with_provenance(
                fhir, plan_definition(template), actors=actors, activity="journey-template.load"
            )
            written.append(template.name)
    return written


async def _read(fhir: FhirClient, name: str) -> Template | None:
    try:
        resource = await fhir.read("PlanDefinition", name)
    except FhirNotFound:
        return None
    if PROFILE_JOURNEY_TEMPLATE not in resource.get("meta", {}).get("profile", []):
        return None
    return template_of(resource)
