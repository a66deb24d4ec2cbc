"""CRM use cases the assistant needs: opportunities, tickets, queued messages (with consent)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from app.crm import resources as res
from app.errors import OptedOut
from app.fhir.builders import Actor, extension_value
from app.fhir.bundle import Transaction
from app.fhir.canonical import CS_TASK_TYPE, EXT_CHANNEL, TASK_TYPE_OPPORTUNITY
from app.fhir.client import FhirClient, Resource, version_of
from app.fhir.records import create_with_provenance


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


async def create_ticket(
    fhir: FhirClient,
    *,
    patient_id: str | None,
    category: str,
    description: str,
    due: datetime | None,
    owner: str | None,
    actors: Sequence[Actor],
    instruction: str | None = None,
    identifier: dict[str, str] | None = None,
) -> Resource:
    """A ticket for staff (a callback, say) due at a time."""
    task = res.ticket_resource(
        patient_ref=f"Patient/{patient_id}" if patient_id else None,
        category=category,
        description=description,
        due=due,
        owner=owner,
    )
    if identifier:
        task["identifier"] = [identifier]
    return await create_with_provenance(
        fhir, task, actors=actors, activity="ticket.create", instruction=instruction
    )


async def opted_out(fhir: FhirClient, *, patient_id: str, channel: str) -> bool:
    """Whether the patient's latest active consent for the channel is an opt-out."""
    consents = await fhir.search(
        "Consent", {"patient": f"Patient/{patient_id}", "status": "active", "_sort": "-_lastUpdated"}
    )
    for consent in consents:
        if extension_value(consent, EXT_CHANNEL) == channel:
            return bool(consent.get("provision", {}).get("type") == "deny")
    return False


async def queue_message(
    fhir: FhirClient,
    *,
    patient_id: str,
    channel: str,
    text: str,
    actors: Sequence[Actor],
    instruction: str | None = None,
    identifier: dict[str, str] | None = None,
) -> Resource:
    """An outbound message, queued for the channel's sender; refused if the patient opted out."""
    if await opted_out(fhir, patient_id=patient_id, channel=channel):
        raise OptedOut(patient_id, channel)
    message = res.queued_message(patient_ref=f"Patient/{patient_id}", channel=channel, text=text)
    if identifier:
        message["identifier"] = [identifier]
    return await create_with_provenance(
        fhir, message, actors=actors, activity="message.queue", instruction=instruction
    )
