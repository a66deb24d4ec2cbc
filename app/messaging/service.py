"""Messaging use cases: every outbound message is first a Communication on its conversation, then sent
by the send job (which applies consent, quiet hours and the session window at send time)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog

from app.consents.service import opted_out
from app.conversations import service as conversations
from app.errors import Invalid, OptedOut
from app.fhir.builders import Actor
from app.fhir.canonical import SID_MESSAGE_KEY
from app.fhir.client import FhirClient, Resource
from app.fhir.records import create_with_provenance, require
from app.messaging import resources as res
from app.messaging.resources import Priority, TemplateUse
from app.patients.resources import phone_of
from app.ports.jobs import Job, JobQueue
from app.ports.state import StateStore
from app.vocabulary import ContactChannel

log = structlog.get_logger(__name__)

# The one message an opted-out patient still gets: the confirmation that they are opted out.
OPT_OUT_CONFIRMATION = "opt_out_confirmation"


def send_job_id(communication_id: str) -> str:
    """The send job's id: one job per Communication, whoever queues it."""
    return f"send-{communication_id}"


def address_of(patient: Resource, channel: str) -> str | None:
    """Where the patient is reached on a channel: the first phone, or the first email."""
    if channel == ContactChannel.EMAIL:
        emails = [t for t in patient.get("telecom", []) if t.get("system") == "email" and t.get("value")]
        emails.sort(key=lambda t: t.get("rank", 99))
        return str(emails[0]["value"]) if emails else None
    return phone_of(patient)


async def prepare_message(
    fhir: FhirClient,
    state: StateStore,
    queue: JobQueue,
    *,
    channel: str,
    text: str,
    sender: Actor,
    at: datetime,
    patient_id: str | None = None,
    conversation_id: str | None = None,
    template: TemplateUse | None = None,
    priority: Priority = Priority.ROUTINE,
    about: Sequence[str] = (),
    instruction: str | None = None,
    identifier: dict[str, str] | None = None,
    key: str | None = None,
) -> Resource:
    """Record an outbound message on its conversation (the patient's on `channel`, or the one given)
    and queue its send job; the stored Communication (status preparation).

    With `key` (the business event it is for) the message is created once: a second call returns the first.
    """
    if conversation_id is not None:
        conversation = await conversations.get(fhir, conversation_id)
        if conversation.channel != channel:
            raise Invalid("channel", f"the conversation is on {conversation.channel}, not {channel}")
        patient_id = patient_id or conversation.patient_id
    elif patient_id is not None:
        patient = await require(fhir, "Patient", patient_id, what="Patient")
        address = address_of(patient, channel)
        if address is None:
            raise Invalid("channel", f"the patient has no address for {channel}")
        task = await conversations.ensure_conversation(
            fhir, state, channel=channel, address=address, patient_id=patient_id, at=at
        )
        conversation_id = str(task["id"])
    else:
        raise Invalid("patient", "a message needs a patient or a conversation")
    confirms_opt_out = template is not None and template.name == OPT_OUT_CONFIRMATION
    if patient_id and not confirms_opt_out and await opted_out(fhir, patient_id=patient_id, channel=channel):
        raise OptedOut(patient_id, channel)
    message = res.outbound_message(
        channel=channel,
        thread_id=conversation_id,
        patient_id=patient_id,
        text=text,
        sender=sender,
        priority=priority,
        template=template,
        about=about,
    )
    identifiers = [identifier] if identifier else []
    if key:
        identifiers.append({"system": SID_MESSAGE_KEY, "value": key})
    if identifiers:
        message["identifier"] = identifiers
    stored = await create_with_provenance(
        fhir,
        message,
        actors=[sender],
        activity="message.prepare",
        instruction=instruction,
        if_none_exist={"identifier": f"{SID_MESSAGE_KEY}|{key}"} if key else None,
    )
    await conversations.record_message(fhir, conversation_id, at=at, inbound=False)
    # If the queue is down the Communication stays in preparation and the pending-send sweep queues it.
    await queue.enqueue(Job.SEND_MESSAGE, {"communication": stored["id"]}, job_id=send_job_id(stored["id"]))
    log.info("message.prepared", communication=f"Communication/{stored['id']}", channel=channel)
    return stored
