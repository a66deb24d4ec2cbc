"""Making messaging test data in the real HAPI: patients with consents, inbound messages, send runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.consents import service as consents
from app.consents.resources import ConsentSource, Decision
from app.conversations import service as conversations
from app.fhir.builders import Actor, AgentKind
from app.fhir.client import FhirClient, Resource
from app.messaging import resources as res
from app.messaging import sending
from app.messaging.rules import SendPolicy
from app.ports.jobs import JobQueue
from app.ports.messaging import Messenger
from app.ports.state import StateStore
from tests.factories import unique

KOLKATA = ZoneInfo("Asia/Kolkata")
STAFF = Actor(kind=AgentKind.STAFF, user="reception@test")
CONTENT_SID = "HX" + "ab" * 16


def today_at(hour: int, minute: int = 0) -> datetime:
    """A time of today in the clinic's zone (near the real now, so HAPI's dates look ordinary)."""
    return datetime.now(KOLKATA).replace(hour=hour, minute=minute, second=0, microsecond=0)


def policy(**overrides: Any) -> SendPolicy:
    """The default rules: quiet 21:00-08:00 Kolkata, a 24-hour window."""
    return SendPolicy(timezone=KOLKATA, **overrides)


async def consent(fhir: FhirClient, patient_id: str, channel: str, decision: Decision, at: datetime) -> None:
    """Record the patient's decision for a channel."""
    await consents.record(
        fhir,
        patient_id=patient_id,
        channel=channel,
        decision=decision,
        source=ConsentSource.STAFF,
        actors=[STAFF],
        recorded_at=at,
    )


async def inbound(
    fhir: FhirClient,
    state: StateStore,
    *,
    phone: str,
    patient_id: str | None,
    at: datetime,
    channel: str = "whatsapp",
) -> str:
    """The patient writes on the channel at `at` (opening the session window); the conversation id."""
    task = await conversations.ensure_conversation(
        fhir, state, channel=channel, address=phone, patient_id=patient_id, at=at
    )
    await fhir.create(
        res.inbound_message(
            provider_id=unique("SM"),
            channel=channel,
            thread_id=str(task["id"]),
            patient_id=patient_id,
            text="hello",
            received=at,
        )
    )
    return str(task["id"])


async def send(
    fhir: FhirClient, queue: JobQueue, messenger: Messenger, message: Resource, *, now: datetime, **rules: Any
) -> sending.Outcome:
    """Run the send use case on a prepared message."""
    return await sending.send_message(
        fhir=fhir,
        queue=queue,
        messenger=messenger,
        policy=policy(**rules),
        communication_id=str(message["id"]),
        now=now,
    )


async def reason_of(fhir: FhirClient, message: Resource) -> tuple[str, str | None, str | None]:
    """The stored status, message-status-reason and provider code."""
    read = res.message_of(await fhir.read("Communication", str(message["id"])))
    return read.status, read.reason, read.provider_code
