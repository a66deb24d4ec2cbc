"""Live events for the dashboard (the EventBus port): ids only, fanned out to every API replica.

An event names what changed (a message, a conversation) by FHIR id and never carries text, names or
phone numbers: the stream is a hint to re-read, not a copy of the data.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class EventType(StrEnum):
    """What happened."""

    MESSAGE_CREATED = "message.created"
    MESSAGE_STATUS = "message.status"
    CONVERSATION_UPDATED = "conversation.updated"
    TICKET_ESCALATED = "ticket.escalated"


class EventsUnavailable(Exception):
    """The bus cannot be reached (Redis down)."""


@dataclass(frozen=True)
class Event:
    """One live event: its type and a flat map of ids and codes."""

    type: EventType
    data: Mapping[str, str | None] = field(default_factory=dict)

    def to_json(self) -> str:
        """The wire form shared by every replica."""
        return json.dumps({"type": self.type.value, "data": dict(self.data)}, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Event | None:
        """The event in `raw`, or None when it is not one of ours (never raises)."""
        try:
            parsed = json.loads(raw)
            kind = EventType(parsed["type"])
            data = parsed.get("data", {})
        except (ValueError, KeyError, TypeError):
            return None
        if not isinstance(data, dict):
            return None
        return cls(kind, {str(k): None if v is None else str(v) for k, v in data.items()})


class EventBus(Protocol):
    """Publish to every subscriber of every replica; subscribe for as long as a client listens."""

    async def publish(self, event: Event) -> None:
        """Send `event` to every current subscriber (raises EventsUnavailable)."""
        ...

    def subscribe(self) -> AbstractAsyncContextManager[AsyncIterator[Event]]:
        """Entered, the subscription is live (nothing published after this is missed); iterate it for
        events; leaving it unsubscribes."""
        ...
