"""Messaging use cases: outbound messages, recorded as Communications before anything is sent."""

from __future__ import annotations

from collections.abc import Sequence

from app.consents.service import opted_out
from app.errors import OptedOut
from app.fhir.builders import Actor
from app.fhir.client import FhirClient, Resource
from app.fhir.records import create_with_provenance
from app.messaging import resources as res


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
