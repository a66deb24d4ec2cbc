"""Messaging use cases: every outbound message is first a Communication on its conversation, then sent
by the send job (which applies consent, quiet hours and the session window at send time)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import structlog

from app.consents.resources import Purpose
from app.consents.service import opt_out_of
from app.conversations import service as conversations
from app.errors import Invalid, MarketingOptedOut, OptedOut, OutsideSessionWindow
from app.fhir.builders import Actor
from app.fhir.canonical import SID_MESSAGE_KEY
from app.fhir.client import FhirClient, Resource
from app.fhir.records import create_with_provenance, require
from app.messaging import catalog
from app.messaging import resources as res
from app.messaging.resources import Priority, TemplateUse
from app.messaging.rules import OPT_OUT_CONFIRMATION, session_open
from app.messaging.sending import send_job_id
from app.patients.resources import phone_of, preferred_channel, preferred_language
from app.ports.jobs import Job, JobQueue, QueueUnavailable
from app.ports.messaging import ChoiceList
from app.ports.state import StateStore
from app.vocabulary import ContactChannel

log = structlog.get_logger(__name__)

# WhatsApp's session window (settings.session_window_hours is the deployment's value).
DEFAULT_WINDOW_HOURS = 24
# The channels a message can go on (voice is a call, not a message).
MESSAGE_CHANNELS = (ContactChannel.WHATSAPP, ContactChannel.SMS, ContactChannel.EMAIL)


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
    based_on: Sequence[str] = (),
    instruction: str | None = None,
    identifier: dict[str, str] | None = None,
    key: str | None = None,
    window_hours: int = DEFAULT_WINDOW_HOURS,
    choices: ChoiceList | None = None,
    marketing: bool = False,
    patient: Resource | None = None,
) -> Resource:
    """Record an outbound message on its conversation (the patient's on `channel`, or the one given)
    and queue its send job; the stored Communication (status preparation). `choices`: the options the
    text numbers, sent as a list where the channel has one.

    With `key` (the business event it is for) the message is created once: a second call returns the first.
    A patient who opted out of the channel is refused (OptedOut), and of marketing, a `marketing`
    message (MarketingOptedOut). `patient`: the Patient already read (spares a read per message).
    WhatsApp free text outside the session window is refused at once (OutsideSessionWindow naming the
    templates that would go); the send job checks every rule again at send time.
    """
    if conversation_id is not None:
        conversation = await conversations.get(fhir, conversation_id)
        if conversation.channel != channel:
            raise Invalid("channel", f"the conversation is on {conversation.channel}, not {channel}")
        patient_id = patient_id or conversation.patient_id
    elif patient_id is not None:
        if patient is None or patient.get("id") != patient_id:
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
    if patient_id and not confirms_opt_out:
        stop = await opt_out_of(fhir, patient_id=patient_id, channel=channel, marketing=marketing)
        if stop is Purpose.CONTACT:
            raise OptedOut(patient_id, channel)
        if stop is Purpose.MARKETING:
            raise MarketingOptedOut(patient_id)
    free_text_on_whatsapp = channel == ContactChannel.WHATSAPP and template is None
    if free_text_on_whatsapp and not await session_open(
        fhir, conversation_id=conversation_id, now=at, hours=window_hours
    ):
        raise OutsideSessionWindow(
            f"The patient has not written on WhatsApp in the last {window_hours} hours: "
            "only an approved template can be sent",
            templates=[t.name for t in catalog.templates() if ContactChannel.WHATSAPP in t.channels],
        )
    message = res.outbound_message(
        channel=channel,
        thread_id=conversation_id,
        patient_id=patient_id,
        text=text,
        sender=sender,
        priority=priority,
        template=template,
        about=about,
        based_on=based_on,
        choices=choices,
        marketing=marketing,
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
    try:
        await queue.enqueue(
            Job.SEND_MESSAGE, {"communication": stored["id"]}, job_id=send_job_id(stored["id"])
        )
    except QueueUnavailable:
        # The message is safe in HAPI (preparation): the pending-send sweep queues it within minutes.
        log.warning("message.send.enqueue_failed", communication=f"Communication/{stored['id']}")
    log.info("message.prepared", communication=f"Communication/{stored['id']}", channel=channel)
    return stored


def contact_channel(patient: Resource) -> str | None:
    """Where to message the patient: their preferred channel if we can reach them there, else WhatsApp
    on their phone, else email (voice is not a messaging channel)."""
    preferred = preferred_channel(patient)
    candidates = [preferred] if preferred in MESSAGE_CHANNELS else []
    candidates += [ContactChannel.WHATSAPP, ContactChannel.EMAIL]
    return next((c for c in candidates if c and address_of(patient, c) is not None), None)


async def prepare_template_message(
    fhir: FhirClient,
    state: StateStore,
    queue: JobQueue,
    *,
    template: str,
    variables: Mapping[str, str],
    sender: Actor,
    at: datetime,
    channel: str | None = None,
    patient_id: str | None = None,
    conversation_id: str | None = None,
    priority: Priority = Priority.ROUTINE,
    about: Sequence[str] = (),
    based_on: Sequence[str] = (),
    instruction: str | None = None,
    key: str | None = None,
    window_hours: int = DEFAULT_WINDOW_HOURS,
    language: str | None = None,
    marketing: bool = False,
    patient: Resource | None = None,
) -> Resource:
    """Render a template in `language`, else the patient's preferred one (English otherwise), and prepare
    it on the conversation given, or on the patient's `channel` (their preferred one when None).

    Invalid names a missing or unknown variable, or a channel the template is not made for. `patient`:
    the Patient already read, if the caller has it (a campaign reads it once for all three steps).
    """
    if conversation_id is not None:
        conversation = await conversations.get(fhir, conversation_id)
        channel = channel or conversation.channel
        patient_id = patient_id or conversation.patient_id
    if patient_id and (patient is None or patient.get("id") != patient_id):
        patient = await require(fhir, "Patient", patient_id, what="Patient")
    elif not patient_id:
        patient = None
    if channel is None and patient is not None:
        channel = contact_channel(patient)
    if channel is None:
        raise Invalid("channel", "the patient has no phone or email to message")
    if channel not in catalog.template(template).channels:
        raise Invalid("channel", f"template {template} is not sent on {channel}")
    rendered = catalog.render(
        template,
        language=language or (preferred_language(patient) if patient else None),
        variables=variables,
    )
    return await prepare_message(
        fhir,
        state,
        queue,
        channel=channel,
        text=rendered.body,
        sender=sender,
        at=at,
        patient_id=patient_id,
        conversation_id=conversation_id,
        template=TemplateUse(name=template, language=rendered.language, variables=dict(variables)),
        priority=priority,
        about=about,
        based_on=based_on,
        instruction=instruction,
        key=key,
        window_hours=window_hours,
        marketing=marketing,
        patient=patient,
    )
