"""Ticket use cases: work for staff (a callback, a complaint, a hand-off)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from app.fhir.builders import Actor
from app.fhir.client import FhirClient, Resource
from app.fhir.records import create_with_provenance
from app.tickets import resources as res


async def create_ticket(
    fhir: FhirClient,
    *,
    patient_id: str | None,
    category: str,
    description: str,
    due: datetime | None,
    owner: str | None,
    actors: Sequence[Actor],
    priority: str = "routine",
    instruction: str | None = None,
    identifier: dict[str, str] | None = None,
    focus: str | None = None,
) -> Resource:
    """A ticket for staff (a callback, say) due at a time; `priority` is Task.priority (routine, urgent, asap, stat);
    `focus` the reference it is about (a conversation handed to staff)."""
    task = res.ticket_resource(
        patient_ref=f"Patient/{patient_id}" if patient_id else None,
        category=category,
        description=description,
        due=due,
        owner=owner,
        priority=priority,
        focus=focus,
    )
    if identifier:
        task["identifier"] = [identifier]
    return await create_with_provenance(
        fhir, task, actors=actors, activity="ticket.create", instruction=instruction
    )
