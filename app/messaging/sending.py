"""Sending one outbound Communication: the rules at send time, then the Messenger, exactly once.

In order: consent (opt-out or missing opt-in: `not-done`; a marketing message also a marketing opt-out,
`marketing-opt-out`), quiet hours (a routine message waits,
`on-hold`, re-queued for their end), WhatsApp's session window (outside it only a template with a
ContentSid), then the claim (`in-progress` under If-Match: a concurrent worker loses and stops) and
the send. A passing provider failure puts the message back to `preparation` and re-raises so the job
is retried; a rejection is final. A message left `in-progress` (the worker died mid-send) is never
sent again automatically: it may have gone out, and a duplicate is worse than staff looking at it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import structlog

from app.consents import service as consents
from app.consents.resources import CONSENT_CHANNELS, ConsentSource, Decision, Purpose, current_of
from app.conversations import service as conversations
from app.conversations.resources import Conversation
from app.errors import Conflict, Invalid, NotFound
from app.fhir.builders import Actor, AgentKind, instant
from app.fhir.canonical import SID_EMAIL_MESSAGE, SID_TWILIO_MESSAGE
from app.fhir.client import FhirClient, Resource, version_of
from app.fhir.errors import FhirConflict, FhirNotFound
from app.fhir.records import update_edited
from app.messaging import catalog
from app.messaging import resources as res
from app.messaging.catalog import Rendered
from app.messaging.resources import Message, Priority, TemplateUse
from app.messaging.rules import SendPolicy, consent_refusal, quiet_hours_end, session_open
from app.ports.jobs import Job, JobQueue
from app.ports.messaging import (
    Choice,
    MessageChannel,
    MessageRejected,
    Messenger,
    MessengerUnavailable,
    Recipient,
    SendResult,
    TemplateMessage,
)
from app.vocabulary import ContactChannel

log = structlog.get_logger(__name__)

# Twilio's code for a recipient who replied STOP: they have opted out of the channel.
UNSUBSCRIBED = "21610"
_CONSENT_SOURCE = {ContactChannel.WHATSAPP: ConsentSource.WHATSAPP, ContactChannel.SMS: ConsentSource.SMS}
_SENDER = Actor(kind=AgentKind.SYSTEM)
# Statuses of a message still to be sent (on-hold: waiting for quiet hours to end), and of one claimed.
PENDING = ("preparation", "on-hold")
CLAIMED = ("in-progress",)
# Communication.priority values that go out in quiet hours (ours is urgent; asap and stat rank higher).
URGENT = (Priority.URGENT.value, "asap", "stat")
# Writers of one Communication (a status callback, staff) race the send job rarely; retry this often.
_UPDATE_ATTEMPTS = 3


class Outcome(StrEnum):
    """What the send job did with the message."""

    SENT = "sent"
    REFUSED = "refused"  # a rule said no: not-done with its reason
    DEFERRED = "deferred"  # quiet hours: on-hold until they end
    REJECTED = "rejected"  # the provider refused for good
    DONE_ALREADY = "done-already"  # sent, refused, claimed or deleted before: nothing to do


def send_job_id(communication_id: str) -> str:
    """The send job's id: one job per Communication, whoever queues it."""
    return f"send-{communication_id}"


def deferred_job_id(communication_id: str, until: datetime) -> str:
    """The id of the send job queued for the end of quiet hours (the first id is taken by then)."""
    return f"{send_job_id(communication_id)}-{until.astimezone(UTC):%Y%m%d%H%M}"


@dataclass(frozen=True)
class _Draft:
    """What is about to be sent, and where."""

    message: Resource
    read: Message
    conversation: Conversation


async def send_message(
    *,
    fhir: FhirClient,
    queue: JobQueue,
    messenger: Messenger,
    policy: SendPolicy,
    communication_id: str,
    now: datetime,
) -> Outcome:
    """Apply the rules to a prepared message and send it once; a retry or replay changes nothing."""
    draft = await _draft(fhir, communication_id)
    if isinstance(draft, Outcome):
        return draft
    message, read, conversation = draft.message, draft.read, draft.conversation
    channel = str(read.channel)
    inside = await session_open(fhir, conversation_id=conversation.id, now=now, hours=policy.window_hours)
    records = []
    if read.patient_id and (channel in CONSENT_CHANNELS or read.marketing):
        records = await consents.history(fhir, patient_id=read.patient_id)
    latest = current_of(records).get(channel) if channel in CONSENT_CHANNELS else None
    decision = latest.decision if latest else None
    refusal = consent_refusal(
        channel=channel,
        decision=decision,
        has_patient=read.patient_id is not None,
        inside_window=inside,
        template=read.template.name if read.template else None,
    )
    if refusal is None and read.marketing:
        marketing_stop = consents.opt_out_among(records, channel=channel, marketing=True)
        refusal = res.MARKETING_OPT_OUT if marketing_stop is Purpose.MARKETING else None
    if refusal is not None:
        return await _refuse(fhir, message, refusal)
    if message.get("priority") not in URGENT and (
        until := quiet_hours_end(now, start=policy.quiet_start, end=policy.quiet_end, tz=policy.timezone)
    ):
        return await _defer(fhir, queue, message, until)
    rendered = _rendered(read.template, policy)
    template_only = channel == ContactChannel.WHATSAPP and not inside
    if template_only and (rendered is None or rendered.content_sid is None):
        return await _refuse(fhir, message, "outside-session-window")
    try:
        claimed = await fhir.update({**message, "status": "in-progress"}, if_match=version_of(message))
    except FhirConflict:
        log.info("message.send.claimed_elsewhere", communication=f"Communication/{communication_id}")
        return Outcome.DONE_ALREADY
    to = Recipient(MessageChannel(channel), str(conversation.address))
    try:
        result = await _transmit(messenger, to, read, rendered, template_only=template_only)
    except MessengerUnavailable:
        await _update(fhir, claimed, _back_to_preparation, expect=CLAIMED)
        log.warning("message.send.retrying", communication=f"Communication/{communication_id}")
        raise
    except MessageRejected as exc:
        return await _rejected(fhir, claimed, read, exc, now=now)
    await _update(fhir, claimed, lambda m: _sent(m, to.channel, result, now), expect=CLAIMED)
    log.info(
        "message.sent",
        communication=f"Communication/{communication_id}",
        channel=channel,
        provider_id=result.provider_id,
    )
    return Outcome.SENT


async def _draft(fhir: FhirClient, communication_id: str) -> _Draft | Outcome:
    """The message if it is still to be sent (preparation, or on-hold for quiet hours), else why not."""
    try:
        message = await fhir.read("Communication", communication_id)
    except FhirNotFound:
        log.info("message.send.gone", communication=f"Communication/{communication_id}")
        return Outcome.DONE_ALREADY
    if message.get("status") not in PENDING:
        return Outcome.DONE_ALREADY
    read = res.message_of(message)
    conversation = None
    if read.thread_id:
        try:
            conversation = await conversations.get(fhir, read.thread_id)
        except NotFound:
            conversation = None
    sendable = {c.value for c in MessageChannel}
    if conversation is None or not conversation.address or read.channel not in sendable or not read.text:
        return await _refuse(fhir, message, "no-address")
    return _Draft(message, read, conversation)


def _rendered(template: TemplateUse | None, policy: SendPolicy) -> Rendered | None:
    """The stored template rendered again (subject, buttons, ContentSid); None if it no longer renders."""
    if template is None:
        return None
    try:
        return catalog.render(
            template.name,
            language=template.language,
            variables=template.variables,
            content_sids=policy.content_sids,
        )
    except (Invalid, NotFound):
        return None


def numbered_variables(template: TemplateUse) -> dict[str, str]:
    """Twilio's content variables: numbered in the order the template file declares them."""
    names = list(catalog.template(template.name).variables)
    return {str(number): template.variables[name] for number, name in enumerate(names, start=1)}


async def _transmit(
    messenger: Messenger, to: Recipient, read: Message, rendered: Rendered | None, *, template_only: bool
) -> SendResult:
    """One call to the Messenger: a Content template outside the window, else the stored text (with its
    options as a list where the channel has one)."""
    text = str(read.text)
    if template_only:
        assert read.template is not None and rendered is not None and rendered.content_sid is not None
        template = TemplateMessage(
            template_id=rendered.content_sid,
            variables=numbered_variables(read.template),
            language=rendered.language,
        )
        return await messenger.send_template(to, template, reference=read.id)
    if read.choices is not None:
        return await messenger.send_list(to, text, read.choices, reference=read.id)
    if rendered and rendered.quick_replies and to.channel is not MessageChannel.EMAIL:
        choices = [Choice(id=r.id, title=r.title) for r in rendered.quick_replies]
        return await messenger.send_interactive(to, text, choices, reference=read.id)
    subject = rendered.subject if rendered else None
    return await messenger.send_text(to, text, reference=read.id, subject=subject)


async def _refuse(fhir: FhirClient, message: Resource, reason: str) -> Outcome:
    """A rule said no: `not-done` with the reason; nothing is sent (a concurrent writer wins)."""

    def refuse(m: Resource) -> None:
        m["status"] = "not-done"
        res.set_status_reason(m, reason)

    await _update(fhir, message, refuse, expect=PENDING)
    log.info("message.send.refused", communication=f"Communication/{message['id']}", reason=reason)
    return Outcome.REFUSED


async def _defer(fhir: FhirClient, queue: JobQueue, message: Resource, until: datetime) -> Outcome:
    """Quiet hours: queue the send for their end first, then mark the message `on-hold` (if the queue is
    down this raises and the job is retried with the message still in preparation)."""
    job_id = deferred_job_id(str(message["id"]), until)
    await queue.enqueue(Job.SEND_MESSAGE, {"communication": message["id"]}, job_id=job_id, at=until)
    if message.get("status") != "on-hold":
        await _update(fhir, message, _hold, expect=PENDING)
    log.info("message.send.deferred", communication=f"Communication/{message['id']}", until=instant(until))
    return Outcome.DEFERRED


async def _rejected(
    fhir: FhirClient, claimed: Resource, read: Message, exc: MessageRejected, *, now: datetime
) -> Outcome:
    """The provider refused for good: `not-done` with its code; Twilio's "unsubscribed" is an opt-out."""

    def reject(m: Resource) -> None:
        m["status"] = "not-done"
        res.set_status_reason(m, "rejected", provider_code=exc.provider_code)
        res.set_delivery_status(m, "failed")

    await _update(fhir, claimed, reject, expect=CLAIMED)
    log.warning(
        "message.send.rejected", communication=f"Communication/{read.id}", provider_code=exc.provider_code
    )
    source = _CONSENT_SOURCE.get(ContactChannel(str(read.channel)))
    if exc.provider_code == UNSUBSCRIBED and read.patient_id and source is not None:
        await consents.record(
            fhir,
            patient_id=read.patient_id,
            channel=str(read.channel),
            decision=Decision.OPT_OUT,
            source=source,
            actors=[_SENDER],
            recorded_at=now,
        )
    return Outcome.REJECTED


def _back_to_preparation(message: Resource) -> None:
    message["status"] = "preparation"


def _hold(message: Resource) -> None:
    message["status"] = "on-hold"


def _sent(message: Resource, channel: MessageChannel, result: SendResult, now: datetime) -> None:
    system = SID_EMAIL_MESSAGE if channel is MessageChannel.EMAIL else SID_TWILIO_MESSAGE
    message["status"] = "completed"
    message["sent"] = instant(now)
    others = [i for i in message.get("identifier", []) if i.get("system") != system]
    message["identifier"] = [*others, {"system": system, "value": result.provider_id}]
    res.set_delivery_status(message, result.status.value)


async def _update(
    fhir: FhirClient, message: Resource, edit: Callable[[Resource], None], *, expect: tuple[str, ...]
) -> None:
    """Write `edit` of the version read; after a concurrent write, apply it to the new version only if
    that is still in an `expect`ed status (else someone else moved the message on: nothing is written)."""

    def guarded(latest: Resource) -> bool:
        if latest.get("status") not in expect:
            return False
        edit(latest)
        return True

    await update_edited(
        fhir,
        message,
        guarded,
        on_conflict=Conflict(f"Communication/{message['id']} is being changed by someone else"),
        attempts=_UPDATE_ATTEMPTS,
    )
