"""Live events from the change feed: whoever wrote a message or changed a conversation (the API, a
worker, an EHR through /fhir), the dashboards hear of it. Ids and codes only, never text or numbers."""

from __future__ import annotations

import structlog

from app.changes.model import Change, ChangeKind
from app.changes.registry import ChangeContext, on
from app.conversations.resources import conversation_of
from app.conversations.service import is_conversation
from app.messaging.resources import message_of
from app.ports.events import Event, EventBus, EventsUnavailable, EventType

log = structlog.get_logger(__name__)


async def _publish(bus: EventBus, event: Event, change: Change) -> None:
    """Live events are hints to re-read: one lost while Redis is down is not worth retrying the change."""
    try:
        await bus.publish(event)
    except EventsUnavailable:
        log.warning("events.publish.failed", change=change.reference, event_type=event.type.value)


@on("Communication")
async def message_events(change: Change, *, context: ChangeContext) -> None:
    """A message of a thread was written: `message.created` for a new one, `message.status` after."""
    if change.resource is None:
        return
    message = message_of(change.resource)
    if message.thread_id is None:
        return  # a call or a message outside the inbox
    if change.kind is ChangeKind.CREATED:
        event = Event(
            EventType.MESSAGE_CREATED,
            {
                "conversation": message.thread_id,
                "communication": message.id,
                "direction": message.direction.value,
            },
        )
    else:
        event = Event(
            EventType.MESSAGE_STATUS,
            {
                "conversation": message.thread_id,
                "communication": message.id,
                "status": message.delivery_status,
            },
        )
    await _publish(context.events, event, change)


@on("Task")
async def conversation_events(change: Change, *, context: ChangeContext) -> None:
    """A conversation was opened or changed (status, assignee, tags, read, new activity)."""
    if change.resource is None or not is_conversation(change.resource):
        return
    conversation = conversation_of(change.resource)
    event = Event(
        EventType.CONVERSATION_UPDATED,
        {
            "conversation": conversation.id,
            "status": conversation.status.value,
            "assignee": conversation.assignee,
        },
    )
    await _publish(context.events, event, change)
