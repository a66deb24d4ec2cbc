"""Opportunity use cases: the open lead of a patient, a new lead, and moving a lead to 'booked' inside
a booking's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from app.fhir.builders import Actor
from app.fhir.bundle import Transaction
from app.fhir.canonical import CS_TASK_TYPE, TASK_TYPE_OPPORTUNITY
from app.fhir.client import FhirClient, Resource, version_of
from app.fhir.records import create_with_provenance
from app.opportunities import resources as res


async def open_opportunity(fhir: FhirClient, *, patient_id: str) -> Resource | None:
    """The patient's most recent opportunity that is still open (new, contacted or qualified)."""
    tasks = await fhir.search(
        "Task",
        {
            "patient": f"Patient/{patient_id}",
            "code": f"{CS_TASK_TYPE}|{TASK_TYPE_OPPORTUNITY}",
            "_sort": "-_lastUpdated",
        },
    )
    return next((t for t in tasks if res.stage_of(t) in res.OPEN_STAGES), None)


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
            res.with_stage(existing, res.Stage.BOOKED, focus=appointment_ref), if_match=version_of(existing)
        )
        return
    task = res.opportunity_resource(
        patient_ref=patient_ref,
        stage=res.Stage.BOOKED,
        source=source,
        description=description,
        focus=appointment_ref,
    )
    if identifier:
        task["identifier"] = [identifier]
    tx.create(task)


async def create_opportunity(
    fhir: FhirClient,
    *,
    patient_id: str,
    description: str | None,
    source: str,
    actors: Sequence[Actor],
    instruction: str | None = None,
    identifier: dict[str, str] | None = None,
) -> Resource:
    """A new lead at stage 'new'."""
    task = res.opportunity_resource(
        patient_ref=f"Patient/{patient_id}", stage=res.Stage.NEW, source=source, description=description
    )
    if identifier:
        task["identifier"] = [identifier]
    return await create_with_provenance(
        fhir, task, actors=actors, activity="opportunity.create", instruction=instruction
    )
