"""Inbound messages and delivery reports, as the worker stores them (the webhooks only queued them).

- `receive_message`: the sender's number -> the patient (when exactly one has it) -> their conversation
  (or one keyed by the number) -> a prm-communication with the provider's id as identifier; STOP/START
  change the patient's consent at once, with the one confirmation allowed.
- `record_delivery_status`: move an outbound message's delivery status forward; 21610 records an opt-out.
- `join_conversations`: a Patient written with a phone joins the threads that number opened before.

Every step is idempotent: jobs are retried, and a replay stores nothing new.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import structlog

from app.changes.model import Change, ChangeKind
from app.changes.registry import ChangeContext, on
from app.consents import service as consents
from app.consents.resources import CONSENT_CHANNELS, ConsentSource, Decision
from app.conversations import resources as conversation_res
from app.conversations import service as conversations
from app.errors import Conflict
from app.fhir.builders import Actor, AgentKind
from app.fhir.canonical import SID_PHONE, SID_TWILIO_MESSAGE
from app.fhir.client import FhirClient, Resource
from app.fhir.records import create_with_provenance, update_edited
from app.messaging import catalog
from app.messaging import resources as res
from app.messaging.keywords import Keyword, keyword_of
from app.messaging.media import MediaItem, store_media
from app.messaging.resources import Direction, TemplateUse
from app.messaging.rules import OPT_OUT_CONFIRMATION
from app.messaging.service import prepare_message
from app.patients.resources import phone_of, preferred_language
from app.patients.service import find_by_phone
from app.ports.inbound import DeliveryReport, InboundMessage, ReportedStatus
from app.ports.jobs import Job, JobQueue
from app.ports.media import MediaFetcher
from app.ports.messaging import MessageChannel
from app.ports.speech import Transcriber
from app.ports.state import StateStore
from app.vocabulary import ContactChannel

log = structlog.get_logger(__name__)

# Twilio: "the recipient has unsubscribed" (replied STOP to the number); the PRM records the opt-out.
UNSUBSCRIBED = "21610"
# Channels whose threads are keyed by a phone number.
PHONE_CHANNELS = (ContactChannel.WHATSAPP, ContactChannel.SMS)
# What a media item without a declared type is taken for (the fetcher refuses it unless the download says more).
UNKNOWN_CONTENT_TYPE = "application/octet-stream"
# The reply to START: plain text (the patient just wrote, so the session window is open).
OPTED_IN_TEXT = {
    "en": "You will receive messages from us here again. Reply STOP at any time to stop them.",
    "hi": "अब आपको यहाँ फिर से हमारे संदेश मिलेंगे। इन्हें बंद करने के लिए कभी भी STOP लिखकर भेजें।",
    "kn": "ಇನ್ನು ಮುಂದೆ ನಿಮಗೆ ಇಲ್ಲಿ ಮತ್ತೆ ನಮ್ಮ ಸಂದೇಶಗಳು ಬರುತ್ತವೆ. ನಿಲ್ಲಿಸಲು ಯಾವಾಗ ಬೇಕಾದರೂ STOP ಎಂದು ಉತ್ತರಿಸಿ.",
}


class MessageNotStoredYet(Exception):
    """A status callback arrived before the send job stored the provider's id: the job retries later."""


def bot(channel: str) -> Actor:
    """Who writes what arrives on a channel: the WhatsApp bot, or the PRM itself for SMS."""
    return Actor(kind=AgentKind.WHATSAPP_BOT if channel == ContactChannel.WHATSAPP else AgentKind.SYSTEM)


def _source(channel: str) -> ConsentSource:
    return ConsentSource.WHATSAPP if channel == ContactChannel.WHATSAPP else ConsentSource.SMS


async def _stored(fhir: FhirClient, provider_id: str) -> Resource | None:
    found = await fhir.search("Communication", {"identifier": f"{SID_TWILIO_MESSAGE}|{provider_id}"}, limit=1)
    return found[0] if found else None


async def receive_message(
    fhir: FhirClient,
    state: StateStore,
    queue: JobQueue,
    *,
    message: InboundMessage,
    region: str,
    fetcher: MediaFetcher,
    transcriber: Transcriber | None,
    hints: Sequence[str] = (),
    to_bot: bool = True,
) -> Resource:
    """Store an inbound message on its conversation (STOP/START acted on first, media downloaded into
    Binary + DocumentReference, a voice note's transcript as its text) and, `to_bot`, queue the WhatsApp
    bot's answer; the Communication."""
    channel = message.channel.value
    existing = await _stored(fhir, message.provider_id)
    if existing is not None:
        # Stored by an earlier run: the keyword (acted on before storing) is done too.
        thread = res.message_of(existing).thread_id
        if thread:
            await conversations.record_message(fhir, thread, at=message.received_at, inbound=True)
        if to_bot:
            await _to_the_bot(queue, message, existing)
        return existing
    patients = sorted(await find_by_phone(fhir, phone=message.sender, region=region), key=lambda p: p["id"])
    patient_id = patients[0]["id"] if len(patients) == 1 else None
    conversation = await conversations.ensure_conversation(
        fhir, state, channel=channel, address=message.sender, patient_id=patient_id, at=message.received_at
    )
    keyword = keyword_of(message.text)
    if keyword is not None and patients:
        await _act_on_keyword(
            fhir,
            state,
            queue,
            keyword=keyword,
            message=message,
            patients=patients,
            conversation_id=conversation["id"],
        )
    # Stored before the message (each item once): a passing download failure retries the whole job.
    media = await store_media(
        fhir,
        fetcher,
        transcriber,
        items=[MediaItem(m.url, m.content_type or UNKNOWN_CONTENT_TYPE) for m in message.media],
        patient_id=patient_id,
        received=message.received_at,
        message_sid=message.provider_id,
        hints=hints,
    )
    communication = res.inbound_message(
        provider_id=message.provider_id,
        channel=channel,
        thread_id=conversation["id"],
        patient_id=patient_id,
        text=message.text or media.transcript,
        received=message.received_at,
        attachments=media.documents,
    )
    stored = await create_with_provenance(
        fhir,
        communication,
        actors=[bot(channel)],
        activity="message.receive",
        if_none_exist={"identifier": f"{SID_TWILIO_MESSAGE}|{message.provider_id}"},
    )
    await conversations.record_message(fhir, conversation["id"], at=message.received_at, inbound=True)
    if to_bot:
        await _to_the_bot(queue, message, stored)
    log.info(
        "message.received",
        communication=f"Communication/{stored['id']}",
        conversation=f"Task/{conversation['id']}",
        patient=f"Patient/{patient_id}" if patient_id else None,
        candidates=len(patients),
        channel=channel,
        keyword=keyword.value if keyword else None,
        media=len(message.media),
    )
    return stored


async def _to_the_bot(queue: JobQueue, message: InboundMessage, stored: Resource) -> None:
    """A WhatsApp message goes to the bot (once: the job id is the message's); STOP/START were answered here."""
    if message.channel is not MessageChannel.WHATSAPP or keyword_of(message.text) is not None:
        return
    await queue.enqueue(
        Job.ANSWER_MESSAGE,
        # A quick reply tapped or a list row picked: the bot reads either as the option chosen.
        {"communication": str(stored["id"]), "button": message.button_payload or message.list_id},
        job_id=f"bot-{stored['id']}",
    )


async def _act_on_keyword(
    fhir: FhirClient,
    state: StateStore,
    queue: JobQueue,
    *,
    keyword: Keyword,
    message: InboundMessage,
    patients: list[Resource],
    conversation_id: str,
) -> None:
    """Record the decision for every patient of the number (a shared family phone opts out for all),
    then queue the one confirmation on the thread (created once per inbound message)."""
    channel = message.channel.value
    decision = Decision.OPT_OUT if keyword is Keyword.OPT_OUT else Decision.OPT_IN
    for patient in patients:
        await consents.ensure(
            fhir,
            patient_id=patient["id"],
            channel=channel,
            decision=decision,
            source=_source(channel),
            actors=[bot(channel)],
            recorded_at=message.received_at,
        )
    language = catalog.choose_language(preferred_language(patients[0]) if len(patients) == 1 else None)
    if keyword is Keyword.OPT_IN:
        text, template, key = OPTED_IN_TEXT[language], None, f"optin/{message.provider_id}"
    else:
        clinic = await clinic_contact(fhir)
        if clinic is None:
            log.warning("message.opt_out.unconfirmed", reason="no clinic name and phone in FHIR")
            return
        variables = {"clinic_name": clinic[0], "clinic_phone": clinic[1]}
        rendered = catalog.render(OPT_OUT_CONFIRMATION, language=language, variables=variables)
        text, key = rendered.body, f"optout/{message.provider_id}"
        template = TemplateUse(OPT_OUT_CONFIRMATION, language=rendered.language, variables=variables)
    await prepare_message(
        fhir,
        state,
        queue,
        channel=channel,
        text=text,
        sender=bot(channel),
        at=message.received_at,
        conversation_id=conversation_id,
        template=template,
        key=key,
    )


async def clinic_contact(fhir: FhirClient) -> tuple[str, str] | None:
    """The clinic's name and phone: the first (by id) active Organization managing an active Location."""
    organizations = await fhir.search(
        "Organization", {"_has:Location:organization:status": "active", "active": "true", "_sort": "_id"}
    )
    for organization in organizations:
        if organization.get("name") and (phone := phone_of(organization)):
            return str(organization["name"]), phone
    return None


async def record_delivery_status(fhir: FhirClient, *, report: DeliveryReport) -> Resource:
    """Apply a delivery report to the message it is about (forward only); MessageNotStoredYet makes the
    job retry when the send job has not stored the provider's id yet."""
    message = await _stored(fhir, report.provider_id)
    if message is None:
        raise MessageNotStoredYet(f"no Communication has provider id {report.provider_id}")
    if report.error_code == UNSUBSCRIBED:
        # First, so that a retry after a failed update still records it (ensure: at most once).
        await _record_unsubscribed(fhir, message, report)
    updated = await _change_message(
        fhir, message, lambda m: _apply(m, report), activity="message.delivery-status"
    )
    log.info(
        "message.delivery_status",
        communication=f"Communication/{message['id']}",
        status=report.status.value,
        error_code=report.error_code,
        applied=updated is not message,
    )
    return updated


def _apply(message: Resource, report: DeliveryReport) -> bool:
    if not res.set_delivery_status(message, report.status.value):
        return False
    if report.status in (ReportedStatus.FAILED, ReportedStatus.UNDELIVERED):
        res.set_status_reason(message, "undeliverable", provider_code=report.error_code)
    return True


async def _change_message(
    fhir: FhirClient, message: Resource, edit: Callable[[Resource], bool], *, activity: str
) -> Resource:
    """Apply `edit` (False: nothing to write) and write the message with If-Match and Provenance."""
    return await update_edited(
        fhir,
        message,
        edit,
        on_conflict=Conflict("The message kept changing while it was updated; retry"),
        actors=[Actor(kind=AgentKind.SYSTEM)],
        activity=activity,
    )


async def _record_unsubscribed(fhir: FhirClient, message: Resource, report: DeliveryReport) -> None:
    read = res.message_of(message)
    if read.patient_id is None or read.channel not in CONSENT_CHANNELS:
        return
    await consents.ensure(
        fhir,
        patient_id=read.patient_id,
        channel=read.channel,
        decision=Decision.OPT_OUT,
        source=_source(read.channel),
        actors=[Actor(kind=AgentKind.SYSTEM)],
        recorded_at=report.reported_at,
    )


@on("Patient")
async def join_conversations(change: Change, *, context: ChangeContext) -> None:
    """Threads a patient's number opened before they were registered now name the patient, and so do
    their messages (only when the number is that patient's alone)."""
    patient = change.resource
    if change.kind is ChangeKind.DELETED or patient is None or patient.get("active") is False:
        return
    phones = {
        i["value"] for i in patient.get("identifier", []) if i.get("system") == SID_PHONE and i.get("value")
    }
    for phone in sorted(phones):
        owners = await context.fhir.search(
            "Patient", {"identifier": f"{SID_PHONE}|{phone}", "active:not": "false"}
        )
        if [p["id"] for p in owners] != [change.id]:
            continue
        for channel in PHONE_CHANNELS:
            threads = await context.fhir.search("Task", conversation_res.identifier_search(channel, phone))
            if not threads or conversation_res.conversation_of(threads[0]).patient_id is not None:
                continue
            # The messages first, the thread last: a retry after a crash finds the thread still unjoined.
            for message in await context.fhir.search(
                "Communication", {"conversation-thread": threads[0]["id"]}
            ):
                await _change_message(
                    context.fhir, message, lambda m: _attribute(m, change.id), activity="message.attribute"
                )
            # ensure_conversation joins the existing thread (under the address's lock).
            joined = await conversations.ensure_conversation(
                context.fhir,
                context.state,
                channel=channel,
                address=phone,
                patient_id=change.id,
                at=context.now,
            )
            log.info(
                "conversation.joined", conversation=f"Task/{joined['id']}", patient=f"Patient/{change.id}"
            )


def _attribute(message: Resource, patient_id: str) -> bool:
    """Name the patient on a message stored before the number was theirs (the sender of an inbound one)."""
    if message.get("subject"):
        return False
    message["subject"] = {"reference": f"Patient/{patient_id}"}
    if res.message_of(message).direction is Direction.INBOUND:
        message["sender"] = {"reference": f"Patient/{patient_id}"}
    else:
        message.setdefault("recipient", [{"reference": f"Patient/{patient_id}"}])
    return True
