"""Transient shared state (plans, dialogue state, de-duplication marks, cursors, locks): the StateStore port.

Nothing here is the source of truth for a clinical or CRM fact: that is FHIR. Losing the store loses
only work in progress (a plan to confirm again, a dialogue to restart).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol


class StateUnavailable(Exception):
    """The store cannot answer (Redis down); callers answer 503 so that clients retry."""


class LockTimeout(Exception):
    """A lock held by someone else was not released within the wait allowed."""


class StateStore(Protocol):
    """Keys to short strings with optional expiry, set-if-absent, and locks with a timeout."""

    async def ping(self) -> float:
        """Round-trip time in seconds; raises StateUnavailable (readiness checks)."""
        ...

    async def get(self, key: str) -> str | None:
        """The value, or None if absent or expired."""
        ...

    async def set(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        """Store `value` (expiring after `ttl_seconds`, if given)."""
        ...

    async def set_if_absent(self, key: str, value: str, *, ttl_seconds: int | None = None) -> bool:
        """Store `value` only if `key` is absent; True if it was stored (the de-duplication primitive)."""
        ...

    async def delete(self, key: str) -> None:
        """Remove `key` (absent is fine)."""
        ...

    def lock(
        self, name: str, *, ttl_seconds: float, wait_seconds: float
    ) -> AbstractAsyncContextManager[None]:
        """Hold an exclusive lock on `name` for at most `ttl_seconds` (a crashed holder cannot block
        forever); waits up to `wait_seconds` for it, then raises LockTimeout."""
        ...
