"""Threads and messages for inbox tests, written the way the inbound pipeline writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.conversations.service import ensure_conversation, record_message
from app.fhir.client import FhirClient, Resource
from app.messaging.resources import inbound_message
from app.ports.state import StateStore
from tests.factories import unique


async def open_thread(
    fhir: FhirClient, state: StateStore, *, channel: str, address: str, patient_id: str | None, at: datetime
) -> str:
    """The id of the conversation of `address` on `channel` (opened if new)."""
    task = await ensure_conversation(
        fhir, state, channel=channel, address=address, patient_id=patient_id, at=at
    )
    return str(task["id"])


async def receive(
    fhir: FhirClient, *, thread_id: str, channel: str, patient_id: str | None, text: str, at: datetime
) -> Resource:
    """An inbound message stored on the thread, which moves up the inbox (as the inbound worker does)."""
    message = inbound_message(
        provider_id=unique("SM"),
        channel=channel,
        thread_id=thread_id,
        patient_id=patient_id,
        text=text,
        received=at,
    )
    stored = await fhir.create(message)
    await record_message(fhir, thread_id, at=at, inbound=True)
    return stored


def ids(body: list[dict[str, Any]]) -> list[str]:
    """The ids of a listing, in order."""
    return [item["id"] for item in body]
