"""The SSE stream and the change-feed handlers that feed it, on the in-memory bus (no servers)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import structlog.testing

from adapters.clock import FakeClock
from adapters.memory_events import InMemoryEventBus
from adapters.memory_state import InMemoryStateStore
from app.changes.model import Change, ChangeKind
from app.changes.registry import ChangeContext
from app.conversations.resources import conversation_resource, set_owner
from app.fhir.builders import Actor, AgentKind
from app.inbox import events, live
from app.messaging.resources import inbound_message, outbound_message, set_delivery_status
from app.ports.events import Event, EventsUnavailable, EventType

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
PHONE = "+919844111173"


def _context(bus: InMemoryEventBus) -> ChangeContext:
    return ChangeContext(
        fhir=None,  # type: ignore[arg-type]  # the handlers never read FHIR
        queue=None,  # type: ignore[arg-type]
        state=InMemoryStateStore(FakeClock(NOW)),
        now=NOW,
        events=bus,
    )


async def test_the_stream_says_connected_keeps_alive_and_frames_events() -> None:
    bus = InMemoryEventBus()
    stream = live.stream(bus, keepalive_seconds=0.05)

    first = await anext(stream)
    second = await anext(stream)
    await bus.publish(Event(EventType.MESSAGE_STATUS, {"communication": "c1", "status": "read"}))
    third = await anext(stream)

    assert (first, second) == (live.CONNECTED, live.KEEPALIVE)
    assert third == (
        'event: message.status\ndata: {"type":"message.status","data":{"communication":"c1","status":"read"}}\n\n'
    )
    await stream.aclose()
    assert bus.subscribers == 0


async def test_a_cancelled_stream_unsubscribes() -> None:
    bus = InMemoryEventBus()
    stream = live.stream(bus, keepalive_seconds=60)
    assert await anext(stream) == live.CONNECTED

    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.01)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    await stream.aclose()

    assert bus.subscribers == 0


async def test_a_new_message_is_announced_by_ids_only() -> None:
    bus = InMemoryEventBus()
    message = inbound_message(
        provider_id="SM1",
        channel="whatsapp",
        thread_id="t1",
        patient_id="p1",
        text="my sugar is 300",
        received=NOW,
    ) | {"id": "m1"}

    await events.message_events(
        Change("Communication", "m1", "1", ChangeKind.CREATED, message), context=_context(bus)
    )

    assert bus.published == [
        Event(
            EventType.MESSAGE_CREATED, {"conversation": "t1", "communication": "m1", "direction": "inbound"}
        )
    ]
    assert "sugar" not in bus.published[0].to_json() and PHONE not in bus.published[0].to_json()


async def test_a_status_change_is_announced_and_messages_outside_threads_are_not() -> None:
    bus = InMemoryEventBus()
    sent = outbound_message(
        channel="sms",
        thread_id="t2",
        patient_id=None,
        text="hi",
        sender=Actor(kind=AgentKind.STAFF, user="u"),
    ) | {"id": "m2"}
    set_delivery_status(sent, "delivered")
    call = {"resourceType": "Communication", "id": "c3", "status": "completed"}

    await events.message_events(
        Change("Communication", "m2", "3", ChangeKind.UPDATED, sent), context=_context(bus)
    )
    await events.message_events(
        Change("Communication", "c3", "1", ChangeKind.CREATED, call), context=_context(bus)
    )
    await events.message_events(Change("Communication", "m2", "4", ChangeKind.DELETED), context=_context(bus))

    assert bus.published == [
        Event(EventType.MESSAGE_STATUS, {"conversation": "t2", "communication": "m2", "status": "delivered"})
    ]


async def test_conversation_changes_are_announced_and_other_tasks_are_not() -> None:
    bus = InMemoryEventBus()
    task = conversation_resource(channel="whatsapp", address=PHONE, patient_id=None, at=NOW) | {"id": "t1"}
    set_owner(task, "reception@clinic")
    ticket = {"resourceType": "Task", "id": "k1", "status": "ready", "code": {"coding": [{"code": "ticket"}]}}

    await events.conversation_events(
        Change("Task", "t1", "2", ChangeKind.UPDATED, task), context=_context(bus)
    )
    await events.conversation_events(
        Change("Task", "k1", "1", ChangeKind.CREATED, ticket), context=_context(bus)
    )

    assert bus.published == [
        Event(
            EventType.CONVERSATION_UPDATED,
            {"conversation": "t1", "status": "open", "assignee": "reception@clinic"},
        )
    ]
    assert PHONE not in bus.published[0].to_json()


def test_events_round_trip_and_foreign_payloads_are_ignored() -> None:
    event = Event(
        EventType.CONVERSATION_UPDATED, {"conversation": "t1", "status": "closed", "assignee": None}
    )

    assert Event.from_json(event.to_json()) == event
    assert Event.from_json(b"not json") is None
    assert Event.from_json('{"type": "other", "data": {}}') is None
    assert Event.from_json('{"type": "message.status", "data": []}') is None
    assert Event.from_json("[1, 2]") is None


class _DownBus(InMemoryEventBus):
    async def publish(self, event: Event) -> None:
        raise EventsUnavailable("redis: ConnectionError")


async def test_a_lost_event_does_not_fail_the_change() -> None:
    task = conversation_resource(channel="sms", address=PHONE, patient_id=None, at=NOW) | {"id": "t9"}

    with structlog.testing.capture_logs() as logged:
        await events.conversation_events(
            Change("Task", "t9", "1", ChangeKind.CREATED, task), context=_context(_DownBus())
        )

    assert [(e["event"], e["event_type"], e["change"]) for e in logged] == [
        ("events.publish.failed", "conversation.updated", "Task/t9/_history/1")
    ]
