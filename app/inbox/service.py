"""Inbox use cases: list and read conversations, reply as staff, assign, close, tag, mark read.

A conversation is a Task (app/conversations); its messages are Communications (app/messaging).
Every staff change of a conversation carries its Provenance.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

import structlog

from app.conversations import resources as conv
from app.conversations import service as conversations
from app.conversations.resources import Conversation, ConversationStatus, conversation_of
from app.errors import Invalid
from app.fhir.builders import Actor, instant
from app.fhir.canonical import (
    CS_TASK_TYPE,
    SID_CONVERSATION,
    SID_STAFF_USER,
    TASK_TYPE_CONVERSATION,
)
from app.fhir.client import FhirClient, Resource
from app.fhir.dates import parse_datetime
from app.fhir.errors import FhirNotFound
from app.inbox.canned import get_canned
from app.messaging import catalog
from app.messaging.resources import Message, message_of
from app.messaging.service import prepare_message, prepare_template_message
from app.patients.resources import preferred_language
from app.patients.service import phone_or_422
from app.ports.jobs import JobQueue
from app.ports.state import StateStore
from app.vocabulary import ContactChannel

log = structlog.get_logger(__name__)

# Channels whose address is a phone number (email threads are keyed by the address itself).
PHONE_CHANNELS = tuple(c for c in ContactChannel if c is not ContactChannel.EMAIL)
# Task statuses the inbox reads as closed (conversation_of agrees).
CLOSED_TASK_STATUSES = ("completed", "cancelled", "failed")
# Messages of one thread fetched per page while listing it.
MESSAGE_PAGE_SIZE = 200


class Unassigned(StrEnum):
    """`assigned=none`: threads nobody owns."""

    NONE = "none"


@dataclass(frozen=True)
class ThreadFilter:
    """What the inbox list is narrowed to (every field optional; all given ones must match)."""

    phone: str | None = None  # any common format; normalised in list_threads
    patient_id: str | None = None
    status: ConversationStatus | None = None
    assigned: str | None = None  # a staff user, or Unassigned.NONE
    channel: str | None = None
    tag: str | None = None


@dataclass(frozen=True)
class Thread:
    """A conversation with its count of inbound messages received after its read-up-to time."""

    conversation: Conversation
    unread_count: int


def _search(where: ThreadFilter, *, page: int, count: int) -> list[tuple[str, str]]:
    params = [
        ("code", f"{CS_TASK_TYPE}|{TASK_TYPE_CONVERSATION}"),
        ("_sort", "-modified,-_id"),
        # One more than asked: whether there is a next page, without counting every match.
        ("_count", str(count + 1)),
        ("_offset", str((page - 1) * count)),
    ]
    if where.phone is not None:
        keys = [f"{SID_CONVERSATION}|{conv.conversation_key(c, where.phone)}" for c in PHONE_CHANNELS]
        params.append(("identifier", ",".join(keys)))
    if where.patient_id is not None:
        params.append(("subject", f"Patient/{where.patient_id}"))
    if where.status is ConversationStatus.CLOSED:
        params.append(("status", ",".join(CLOSED_TASK_STATUSES)))
    elif where.status is ConversationStatus.OPEN:
        params += [("status:not", s) for s in CLOSED_TASK_STATUSES]
    if where.assigned == Unassigned.NONE:
        params.append(("owner-identifier:missing", "true"))
    elif where.assigned is not None:
        params.append(("owner-identifier", f"{SID_STAFF_USER}|{where.assigned}"))
    if where.channel is not None:
        params.append(("channel", where.channel))
    if where.tag is not None:
        params.append(("conversation-tag", where.tag))
    return params


async def unread_count(fhir: FhirClient, conversation: Conversation) -> int:
    """Inbound messages of the thread received after its read-up-to time (all of them if never read)."""
    received = f"gt{instant(conversation.read_up_to)}" if conversation.read_up_to else None
    params = {"conversation-thread": conversation.id}
    params |= {"received": received} if received else {"received:missing": "false"}
    return await fhir.count("Communication", params)


async def _thread(fhir: FhirClient, task: Resource) -> Thread:
    conversation = conversation_of(task)
    return Thread(conversation, await unread_count(fhir, conversation))


async def list_threads(
    fhir: FhirClient, *, where: ThreadFilter, region: str, page: int, count: int
) -> tuple[list[Thread], bool]:
    """A page of threads, newest activity first, and whether another page follows (Invalid for a
    phone that is not one)."""
    if where.phone is not None:
        where = replace(where, phone=phone_or_422(where.phone, region=region))
    page_bundle = await fhir.search_page("Task", _search(where, page=page, count=count))
    tasks = [e["resource"] for e in page_bundle.get("entry", []) if "resource" in e]
    threads = await asyncio.gather(*(_thread(fhir, t) for t in tasks[:count]))
    return list(threads), len(tasks) > count


async def get_thread(fhir: FhirClient, conversation_id: str) -> Thread:
    """One thread; NotFound if the id is not a conversation."""
    conversation = await conversations.get(fhir, conversation_id)
    return Thread(conversation, await unread_count(fhir, conversation))


def _when(message: Resource) -> datetime:
    """When a message happened: sent or received, else when it was recorded (a queued reply)."""
    moment = message_of(message).sent_at or parse_datetime((message.get("meta") or {}).get("lastUpdated"))
    return moment or datetime.min.replace(tzinfo=UTC)


async def messages(fhir: FhirClient, conversation_id: str) -> list[Message]:
    """The thread's messages, oldest first; NotFound if the id is not a conversation."""
    await conversations.get(fhir, conversation_id)
    found = await fhir.search(
        "Communication", {"conversation-thread": conversation_id, "_count": str(MESSAGE_PAGE_SIZE)}
    )
    return [message_of(m) for m in sorted(found, key=lambda m: (_when(m), str(m.get("id"))))]


@dataclass(frozen=True)
class Reply:
    """What staff send: exactly one of free text, a template (with variables) or a canned response."""

    text: str | None = None
    template: str | None = None
    variables: Mapping[str, str] | None = None
    language: str | None = None
    canned_response: str | None = None


async def _patient_language(fhir: FhirClient, patient_id: str | None) -> str | None:
    if patient_id is None:
        return None
    try:
        return preferred_language(await fhir.read("Patient", patient_id))
    except FhirNotFound:
        return None


async def _canned_text(fhir: FhirClient, conversation: Conversation, reply: Reply) -> str:
    """The canned response in the chosen or the patient's language (English, then any, otherwise)."""
    assert reply.canned_response is not None  # the schema demands exactly one of the three
    language = catalog.choose_language(
        reply.language or await _patient_language(fhir, conversation.patient_id)
    )
    canned = await get_canned(fhir, reply.canned_response)
    text = canned.text_in(language, fallback=catalog.DEFAULT_LANGUAGE) or next(
        iter(canned.texts.values()), None
    )
    if text is None:
        raise Invalid("canned_response", f"canned response {canned.id!r} has no text")
    return text


async def reply(
    fhir: FhirClient,
    state: StateStore,
    queue: JobQueue,
    *,
    conversation_id: str,
    message: Reply,
    sender: Actor,
    at: datetime,
    window_hours: int,
) -> Message:
    """Queue a staff reply on the thread (a Communication in preparation and its send job)."""
    conversation = await conversations.get(fhir, conversation_id)
    if conversation.channel is None:
        raise Invalid("conversation", "the conversation names no channel to reply on")
    if message.template is not None:
        stored = await prepare_template_message(
            fhir,
            state,
            queue,
            template=message.template,
            variables=dict(message.variables or {}),
            language=message.language,
            conversation_id=conversation_id,
            sender=sender,
            at=at,
            window_hours=window_hours,
        )
        return message_of(stored)
    text = message.text if message.text is not None else await _canned_text(fhir, conversation, message)
    stored = await prepare_message(
        fhir,
        state,
        queue,
        conversation_id=conversation_id,
        channel=conversation.channel,
        text=text,
        sender=sender,
        at=at,
        window_hours=window_hours,
    )
    return message_of(stored)


async def _edit(
    fhir: FhirClient, conversation_id: str, edit: Callable[[Resource], bool], *, actor: Actor, activity: str
) -> Thread:
    task = await conversations.change(fhir, conversation_id, edit, actor=actor, activity=activity)
    log.info(activity, conversation=f"Task/{conversation_id}")
    return await _thread(fhir, task)


def _changes(setter: Callable[[Resource], None]) -> Callable[[Resource], bool]:
    """An edit that writes only when the setter changed something."""

    def edit(task: Resource) -> bool:
        before = conversation_of(task)
        setter(task)
        return conversation_of(task) != before

    return edit


async def assign(fhir: FhirClient, *, conversation_id: str, user: str | None, actor: Actor) -> Thread:
    """Give the thread to a staff user, or to nobody (None)."""
    activity = "conversation.assign" if user else "conversation.unassign"
    return await _edit(
        fhir, conversation_id, _changes(lambda t: conv.set_owner(t, user)), actor=actor, activity=activity
    )


async def set_status(
    fhir: FhirClient, *, conversation_id: str, status: ConversationStatus, actor: Actor
) -> Thread:
    """Close or reopen the thread."""
    activity = "conversation.close" if status is ConversationStatus.CLOSED else "conversation.reopen"
    return await _edit(
        fhir, conversation_id, _changes(lambda t: conv.set_status(t, status)), actor=actor, activity=activity
    )


async def set_tags(fhir: FhirClient, *, conversation_id: str, tags: Sequence[str], actor: Actor) -> Thread:
    """Replace the thread's tags."""
    return await _edit(
        fhir,
        conversation_id,
        _changes(lambda t: conv.set_tags(t, list(tags))),
        actor=actor,
        activity="conversation.tag",
    )


async def mark_read(
    fhir: FhirClient, *, conversation_id: str, up_to: datetime | None, now: datetime, actor: Actor
) -> Thread:
    """Mark inbound messages read up to a time (now by default; never later than now)."""
    moment = up_to or now
    if moment > now:
        raise Invalid("at", "may not be in the future")
    return await _edit(
        fhir,
        conversation_id,
        _changes(lambda t: conv.set_read_up_to(t, moment)),
        actor=actor,
        activity="conversation.read",
    )
