"""InMemoryEventBus: the EventBus port inside one process (unit tests, a single-process tool)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.ports.events import Event


class InMemoryEventBus:
    """Each subscriber gets its own queue; `published` keeps everything for assertions."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[Event]] = set()
        self.published: list[Event] = []

    @property
    def subscribers(self) -> int:
        """How many subscriptions are live."""
        return len(self._subscribers)

    async def publish(self, event: Event) -> None:
        """Hand the event to every subscriber."""
        self.published.append(event)
        for queue in self._subscribers:
            queue.put_nowait(event)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[Event]]:
        """A live subscription until the block ends."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self._subscribers.add(queue)

        async def events() -> AsyncIterator[Event]:
            while True:
                yield await queue.get()

        try:
            yield events()
        finally:
            self._subscribers.discard(queue)
