"""One dialogue per channel + address, kept as JSON in the StateStore with a TTL (work in progress only:
every fact lives in FHIR, so a lost dialogue means a polite restart, never a lost booking)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from app.ports.state import StateStore

VERSION = 1


@dataclass
class Dialogue:
    """Where a patient is in a conversation with the bot."""

    language: str | None = None
    patient_id: str | None = None
    flow: str | None = None  # the flow waiting for the patient's answer
    step: str | None = None  # what that flow asked
    data: dict[str, Any] = field(default_factory=dict)  # the flow's own values (ids, starts, choices)
    pending: str | None = None  # the request made before the patient was identified
    failures: int = 0  # turns in a row the bot did not understand
    fresh: bool = True  # nothing was stored for this address (new, or expired)

    def ask(self, flow: str, step: str, **data: Any) -> None:
        """Wait for the patient's answer to `step` of `flow`, keeping `data` with it."""
        self.flow, self.step = flow, step
        self.data.update(data)

    def finish(self) -> None:
        """The flow is over: the next message starts afresh (language and patient are kept)."""
        self.flow, self.step, self.data = None, None, {}


def dialogue_key(channel: str, address: str) -> str:
    """The StateStore key of an address's dialogue (hashed: addresses are phone numbers)."""
    return f"bot:dialogue:{channel}:{hashlib.sha256(address.encode()).hexdigest()[:32]}"


async def load(state: StateStore, channel: str, address: str) -> Dialogue:
    """The stored dialogue, or a fresh one when there is none (never stored, or expired, or unreadable)."""
    raw = await state.get(dialogue_key(channel, address))
    if raw is None:
        return Dialogue()
    try:
        stored = json.loads(raw)
        if stored.pop("v", None) != VERSION:
            return Dialogue()
        return Dialogue(**{**stored, "fresh": False})
    except (ValueError, TypeError):
        return Dialogue()


async def save(
    state: StateStore, channel: str, address: str, dialogue: Dialogue, *, ttl_seconds: int
) -> None:
    """Store the dialogue for `ttl_seconds` from now."""
    values = asdict(dialogue)
    values.pop("fresh")
    await state.set(
        dialogue_key(channel, address), json.dumps({"v": VERSION, **values}), ttl_seconds=ttl_seconds
    )
