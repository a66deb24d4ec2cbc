"""Conversation use cases shared by every channel: find or open the thread of an address, record that
a message arrived on it. The inbox API (listing, assigning, closing) builds on these."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog

from app.conversations import resources as res
from app.conversations.resources import Conversation, conversation_of
from app.errors import Conflict, NotFound
from app.fhir.builders import Actor
from app.fhir.canonical import TASK_TYPE_CONVERSATION
from app.fhir.client import FhirClient, Resource
from app.fhir.records import require, update_edited
from app.locking import exclusive
from app.ports.state import StateStore

log = structlog.get_logger(__name__)


async def ensure_conversation(
    fhir: FhirClient,
    state: StateStore,
    *,
    channel: str,
    address: str,
    patient_id: str | None,
    at: datetime,
) -> Resource:
    """The conversation of `address` on `channel`, opened if new; joined to `patient_id` when given.

    Serialised per address: HAPI's conditional create alone lets two racing messages open two threads.
    """
    key = res.conversation_key(channel, address)
    async with exclusive(state, "conversation", key):
        task, created = await fhir.conditional_create(
            res.conversation_resource(channel=channel, address=address, patient_id=patient_id, at=at),
            match=res.identifier_search(channel, address),
        )
    if created:
        log.info("conversation.opened", conversation=f"Task/{task['id']}", channel=channel)
    elif patient_id and conversation_of(task).patient_id is None:
        task = await change(fhir, task["id"], lambda t: _join(t, patient_id))
    return task


def _join(task: Resource, patient_id: str) -> bool:
    if conversation_of(task).patient_id is not None:
        return False
    res.set_patient(task, patient_id)
    return True


async def get(fhir: FhirClient, conversation_id: str) -> Conversation:
    """One conversation; NotFound if the id is not a conversation."""
    task = await require(fhir, "Task", conversation_id, what="Conversation")
    if not is_conversation(task):
        raise NotFound("Conversation", conversation_id)
    return conversation_of(task)


def is_conversation(task: Resource) -> bool:
    """Whether a Task is an inbox conversation (not an opportunity, a ticket ...)."""
    return any(c.get("code") == TASK_TYPE_CONVERSATION for c in (task.get("code") or {}).get("coding", []))


async def change(
    fhir: FhirClient,
    conversation_id: str,
    edit: Callable[[Resource], bool],
    *,
    actor: Actor | None = None,
    activity: str = "conversation.update",
) -> Resource:
    """Apply `edit` to the latest version (guarded by If-Match, retried on a concurrent write).

    `edit` changes the Task in place and returns False when there is nothing to write. With `actor`
    (a staff user's change) the update carries its Provenance, in one transaction.
    """
    task = await require(fhir, "Task", conversation_id, what="Conversation")
    if not is_conversation(task):
        raise NotFound("Conversation", conversation_id)
    return await update_edited(
        fhir,
        task,
        edit,
        on_conflict=Conflict("The conversation is being changed by someone else; retry"),
        actors=[actor] if actor else (),
        activity=activity,
    )


async def record_message(fhir: FhirClient, conversation_id: str, *, at: datetime, inbound: bool) -> Resource:
    """A message was stored on the conversation at `at`: it moves up the inbox (and an inbound one
    reopens a closed thread)."""
    return await change(fhir, conversation_id, lambda task: res.touch(task, at, reopen=inbound))
