"""Plans between interpret and confirm live in the StateStore: bound to the user who asked, with an
expiry, and confirmed at most once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.assistant.schemas import Confirmation, Plan
from app.ports.state import StateStore

KEY_PREFIX = "assistant:plan:"
# Expired plans are kept this much longer, so that confirming one says "expired", not "unknown".
EXPIRED_GRACE_SECONDS = 24 * 3600
# A confirmation in progress holds its claim at most this long (then a retry may take it over).
CLAIM_SECONDS = 120


@dataclass(frozen=True)
class StoredPlan:
    """A plan with what only the server keeps: its owner and the instruction text."""

    plan: Plan
    owner: str
    text: str


class PlanStore:
    """Plans in the StateStore (StateUnavailable when it cannot answer)."""

    def __init__(self, state: StateStore) -> None:
        self._state = state

    async def save(self, stored: StoredPlan, *, ttl_seconds: int) -> None:
        """Keep a plan until it expires (and a grace period after)."""
        payload = {"plan": stored.plan.model_dump(mode="json"), "owner": stored.owner, "text": stored.text}
        await self._state.set(
            KEY_PREFIX + stored.plan.plan_id,
            json.dumps(payload),
            ttl_seconds=ttl_seconds + EXPIRED_GRACE_SECONDS,
        )

    async def load(self, plan_id: str) -> StoredPlan | None:
        """The plan, or None if it never existed (or is long gone)."""
        raw = await self._state.get(KEY_PREFIX + plan_id)
        if raw is None:
            return None
        data: dict[str, Any] = json.loads(raw)
        return StoredPlan(plan=Plan.model_validate(data["plan"]), owner=data["owner"], text=data["text"])

    async def claim(self, plan_id: str) -> bool:
        """Take the right to confirm a plan; False if someone has it or it is done."""
        return await self._state.set_if_absent(
            KEY_PREFIX + plan_id + ":claim", "1", ttl_seconds=CLAIM_SECONDS
        )

    async def release(self, plan_id: str) -> None:
        """Give the claim back after a failed confirmation, so it can be retried."""
        await self._state.delete(KEY_PREFIX + plan_id + ":claim")

    async def finish(self, confirmation: Confirmation, *, ttl_seconds: int) -> None:
        """Record what confirming wrote (the claim then never expires before the plan does)."""
        key = KEY_PREFIX + confirmation.plan_id
        ttl = ttl_seconds + EXPIRED_GRACE_SECONDS
        await self._state.set(key + ":result", confirmation.model_dump_json(), ttl_seconds=ttl)
        await self._state.set(key + ":claim", "done", ttl_seconds=ttl)

    async def result(self, plan_id: str) -> Confirmation | None:
        """What an earlier confirmation wrote."""
        raw = await self._state.get(KEY_PREFIX + plan_id + ":result")
        return Confirmation.model_validate_json(raw) if raw else None


def is_expired(plan: Plan, now: datetime) -> bool:
    """Whether a plan can no longer be confirmed."""
    return plan.expires_at <= now
