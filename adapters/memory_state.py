"""InMemoryStateStore: the StateStore port in one process's memory (tests; expiry follows a Clock)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from app.ports.clock import Clock
from app.ports.state import LockTimeout


class InMemoryStateStore:
    """A dict with expiry; `fail` set to an exception makes every call raise it (to test outages)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._values: dict[str, tuple[str, datetime | None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.fail: Exception | None = None

    async def ping(self) -> float:
        """Instant."""
        self._check()
        return 0.0

    async def get(self, key: str) -> str | None:
        """The value, or None if absent or expired."""
        self._check()
        value, expires = self._values.get(key, ("", None))
        if key not in self._values or (expires is not None and expires <= self._clock.now()):
            self._values.pop(key, None)
            return None
        return value

    async def set(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        """Store `value`."""
        self._check()
        expires = self._clock.now() + timedelta(seconds=ttl_seconds) if ttl_seconds else None
        self._values[key] = (value, expires)

    async def set_if_absent(self, key: str, value: str, *, ttl_seconds: int | None = None) -> bool:
        """Store unless present; True if stored."""
        if await self.get(key) is not None:
            return False
        await self.set(key, value, ttl_seconds=ttl_seconds)
        return True

    async def delete(self, key: str) -> None:
        """Remove `key`."""
        self._check()
        self._values.pop(key, None)

    @asynccontextmanager
    async def lock(self, name: str, *, ttl_seconds: float, wait_seconds: float) -> AsyncIterator[None]:
        """An asyncio lock per name (ttl is not simulated: one process cannot crash while holding it)."""
        self._check()
        lock = self._locks.setdefault(name, asyncio.Lock())
        try:
            await asyncio.wait_for(lock.acquire(), timeout=wait_seconds)
        except TimeoutError as exc:
            raise LockTimeout(name) from exc
        try:
            yield
        finally:
            lock.release()

    def _check(self) -> None:
        if self.fail is not None:
            raise self.fail
