"""The Redis event bus when Redis cannot be reached: typed errors, and the SSE stream says so and ends."""

from __future__ import annotations

import socket

import pytest

from adapters.redis_events import RedisEventBus
from app.inbox import live
from app.ports.events import Event, EventsUnavailable, EventType


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_publish_and_subscribe_fail_as_unavailable_when_redis_is_down() -> None:
    bus = RedisEventBus.from_url(f"redis://127.0.0.1:{_closed_port()}/0", timeout_seconds=1)
    try:
        with pytest.raises(EventsUnavailable):
            await bus.publish(Event(EventType.MESSAGE_CREATED, {"communication": "c1"}))
        with pytest.raises(EventsUnavailable):
            async with bus.subscribe():
                pass
        frames = [frame async for frame in live.stream(bus)]
    finally:
        await bus.aclose()

    assert frames == ['event: error\ndata: {"error": "unavailable"}\n\n']
