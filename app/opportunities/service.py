"""Opportunity use cases: open, list, read and move leads along the pipeline (validated transitions),
the open lead of a patient, and moving a lead to 'booked' inside a booking's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import structlog

from app.errors import Conflict, Invalid, InvalidTransition
from app.fhir.builders import Actor, code_in, instant, set_task_owner
from app.fhir.bundle import Transaction
from app.fhir.canonical import CS_OPPORTUNITY_STAGE, CS_TASK_TYPE, SID_STAFF_USER, TASK_TYPE_OPPORTUNITY
from app.fhir.client import FhirClient, Resource, version_of
from app.fhir.query import MAX_PAGE_SIZE
from app.fhir.records import create_with_provenance, page_of, require, require_kind, update_edited
from app.language.specialties import BY_CODE
from app.opportunities import resources as res
from app.opportunities import value as fees
from app.opportunities.pipeline import Interval, Pipeline, pipeline
from app.opportunities.resources import LostReason, Stage

log = structlog.get_logger(__name__)

OPPORTUNITY_CODE = f"{CS_TASK_TYPE}|{TASK_TYPE_OPPORTUNITY}"
UNASSIGNED = "none"


async def open_opportunity(fhir: FhirClient, *, patient_id: str) -> Resource | None:
    """The patient's most recent opportunity that is still open (new, contacted or qualified)."""
    tasks = await fhir.search(
        "Task",
        {
            "patient": f"Patient/{patient_id}",
            "code": OPPORTUNITY_CODE,
            "business-status": ",".join(f"{CS_OPPORTUNITY_STAGE}|{s.value}" for s in res.OPEN_STAGES),
            "_sort": "-_lastUpdated",
        },
        limit=1,
    )
    return tasks[0] if tasks else None


def add_booked_opportunity(
    tx: Transaction,
    *,
    existing: Resource | None,
    patient_ref: str,
    appointment_ref: str,
    source: str,
    description: str | None,
    identifier: dict[str, str] | None,
) -> None:
    """Into a booking's transaction: advance the open opportunity to 'booked', or create one."""
    if existing is not None:
        tx.update(
            res.with_stage(existing, Stage.BOOKED, focus=appointment_ref), if_match=version_of(existing)
        )
        return
    task = res.opportunity_resource(
        patient_ref=patient_ref,
        stage=Stage.BOOKED,
        source=source,
        description=description,
        focus=appointment_ref,
    )
    if identifier:
        task["identifier"] = [identifier]
    tx.create(task)


async def default_value(
    fhir: FhirClient, *, department_id: str | None = None, specialty: str | None = None
) -> Decimal | None:
    """The consultation fee of the department (or specialty) a lead is about."""
    if department_id:
        await require(fhir, "HealthcareService", department_id, what="Department")
        return await fees.department_fee(fhir, department_id)
    if specialty:
        if specialty not in BY_CODE:
            raise Invalid("specialty", f"{specialty!r} is not one of {', '.join(sorted(BY_CODE))}")
        return await fees.specialty_fee(fhir, specialty)
    return None


async def create_opportunity(
    fhir: FhirClient,
    *,
    patient_id: str,
    description: str | None,
    source: str,
    actors: Sequence[Actor],
    instruction: str | None = None,
    identifier: dict[str, str] | None = None,
    owner: str | None = None,
    value: Decimal | None = None,
    specialty: str | None = None,
    department_id: str | None = None,
    now: datetime | None = None,
) -> Resource:
    """A new lead at stage 'new'; its value defaults to the consultation fee of its department or specialty."""
    await require(fhir, "Patient", patient_id, what="Patient")
    if value is None:
        value = await default_value(fhir, department_id=department_id, specialty=specialty)
    task = res.opportunity_resource(
        patient_ref=f"Patient/{patient_id}",
        stage=Stage.NEW,
        source=source,
        description=description,
        value=value,
        owner=owner,
        created=now,
    )
    if identifier:
        task["identifier"] = [identifier]
    created = await create_with_provenance(
        fhir, task, actors=actors, activity="opportunity.create", instruction=instruction
    )
    log.info("opportunity.created", opportunity=f"Task/{created['id']}", source=source)
    return created


def is_opportunity(task: Resource) -> bool:
    """Whether a Task is an opportunity."""
    return code_in(task.get("code"), CS_TASK_TYPE) == TASK_TYPE_OPPORTUNITY


async def get_opportunity(fhir: FhirClient, opportunity_id: str) -> Resource:
    """One opportunity; NotFound when the id names none."""
    return await require_kind(fhir, "Task", opportunity_id, what="Opportunity", kind=is_opportunity)


@dataclass(frozen=True)
class OpportunityFilter:
    """What an opportunity list (or the pipeline) is narrowed to."""

    patient_id: str | None = None
    stage: Stage | None = None
    owner: str | None = None  # a staff user, or UNASSIGNED
    source: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


def search_params(where: OpportunityFilter) -> list[tuple[str, str]]:
    """The FHIR search of an opportunity filter, newest first."""
    params = [("code", OPPORTUNITY_CODE), ("_sort", "-authored-on,-_id")]
    if where.patient_id:
        params.append(("patient", f"Patient/{where.patient_id}"))
    if where.stage:
        params.append(("business-status", f"{CS_OPPORTUNITY_STAGE}|{where.stage.value}"))
    if where.owner == UNASSIGNED:
        params.append(("owner-identifier:missing", "true"))
    elif where.owner:
        params.append(("owner-identifier", f"{SID_STAFF_USER}|{where.owner}"))
    if where.source:
        params.append(("source-channel", where.source))
    if where.created_from:
        params.append(("authored-on", f"ge{instant(where.created_from)}"))
    if where.created_to:
        params.append(("authored-on", f"lt{instant(where.created_to)}"))
    return params


async def list_opportunities(
    fhir: FhirClient, *, where: OpportunityFilter, page: int, count: int
) -> tuple[list[Resource], bool]:
    """A page of opportunities, newest first, and whether another page follows."""
    return await page_of(fhir, "Task", search_params(where), page=page, count=count)


@dataclass(frozen=True)
class OpportunityChanges:
    """A staff change of a lead; None leaves a field as it is."""

    stage: Stage | None = None
    lost_reason: LostReason | None = None
    lost_note: str | None = None
    appointment_id: str | None = None
    owner: str | None = None
    value: Decimal | None = None
    description: str | None = None


def check_move(current: Stage | None, wanted: Stage) -> None:
    """InvalidTransition unless the pipeline allows `current` -> `wanted`."""
    allowed = res.TRANSITIONS.get(current, ()) if current else tuple(Stage)
    if wanted not in allowed:
        raise InvalidTransition(
            current=current.value if current else "none",
            wanted=wanted.value,
            allowed=[s.value for s in allowed],
            what="An opportunity",
        )


def _apply(task: Resource, changes: OpportunityChanges, *, now: datetime) -> bool:
    """Apply a change in place (InvalidTransition / Invalid when refused); whether anything changed."""
    before = repr(task)
    current = res.stage_of(task)
    wanted = changes.stage
    if wanted is not None and wanted is not current:
        check_move(current, wanted)
        if wanted is Stage.LOST and changes.lost_reason is None:
            raise Invalid("lost_reason", "a lost opportunity needs a reason")
        focus = f"Appointment/{changes.appointment_id}" if changes.appointment_id else None
        reason = changes.lost_reason.value if changes.lost_reason else None
        res.move(task, wanted, at=now, focus=focus, lost_reason=reason, lost_note=changes.lost_note)
    elif changes.appointment_id:
        task["focus"] = {"reference": f"Appointment/{changes.appointment_id}"}
    if changes.value is not None:
        res.set_value(task, changes.value)
    if changes.owner is not None:
        set_task_owner(task, changes.owner)
    if changes.description is not None:
        task["description"] = changes.description
    return repr(task) != before


async def change_opportunity(
    fhir: FhirClient, *, opportunity_id: str, changes: OpportunityChanges, actor: Actor, now: datetime
) -> Resource:
    """Move a lead along the pipeline (409 listing the allowed stages) or change its owner, value, text."""
    task = await get_opportunity(fhir, opportunity_id)
    if changes.appointment_id:
        await require(fhir, "Appointment", changes.appointment_id, what="Appointment")
    updated = await update_edited(
        fhir,
        task,
        lambda t: _apply(t, changes, now=now),
        on_conflict=Conflict(
            f"Opportunity {opportunity_id!r} kept changing; try again", code="opportunity_busy"
        ),
        actors=[actor],
        activity="opportunity.update",
    )
    log.info("opportunity.updated", opportunity=f"Task/{opportunity_id}", stage=str(res.stage_of(updated)))
    return updated


async def pipeline_report(
    fhir: FhirClient, *, where: OpportunityFilter, interval: Interval, timezone: str
) -> Pipeline:
    """The pipeline figures of every lead matching `where` (docs/crm.md says how they are counted)."""
    tasks = await fhir.search("Task", [*search_params(where), ("_count", str(MAX_PAGE_SIZE))])
    return pipeline((res.opportunity_of(t) for t in tasks), interval=interval, tz=ZoneInfo(timezone))
