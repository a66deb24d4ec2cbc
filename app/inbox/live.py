"""The live event stream as server-sent events: a subscription to the EventBus, one SSE frame per
event, a comment every KEEPALIVE_SECONDS so proxies keep the connection open."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import structlog

from app.ports.events import Event, EventBus, EventsUnavailable

log = structlog.get_logger(__name__)

KEEPALIVE_SECONDS = 15.0
# What a client reads first: the subscription is live (events published from now on will arrive).
CONNECTED = ": connected\n\n"
KEEPALIVE = ": keep-alive\n\n"


def frame(event: Event) -> str:
    """One SSE frame: the event's type and its ids as JSON."""
    return f"event: {event.type.value}\ndata: {event.to_json()}\n\n"


async def stream(bus: EventBus, *, keepalive_seconds: float = KEEPALIVE_SECONDS) -> AsyncIterator[str]:
    """SSE frames until the client goes away (the server then cancels this generator)."""
    try:
        async with bus.subscribe() as events:
            yield CONNECTED
            iterator = aiter(events)
            pending: asyncio.Future[Event] = asyncio.ensure_future(anext(iterator))
            try:
                while True:
                    done, _ = await asyncio.wait({pending}, timeout=keepalive_seconds)
                    if not done:
                        yield KEEPALIVE
                        continue
                    try:
                        event = pending.result()
                    except StopAsyncIteration:
                        return
                    yield frame(event)
                    pending = asyncio.ensure_future(anext(iterator))
            finally:
                pending.cancel()
    except EventsUnavailable:
        log.warning("events.stream.unavailable")
        yield 'event: error\ndata: {"error": "unavailable"}\n\n'
