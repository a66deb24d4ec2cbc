"""The StateStore port on Redis (with redis-py's own lock: a token, an expiry, safe release)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import LockError, RedisError

from app.ports.state import LockTimeout, StateUnavailable

T = TypeVar("T")
# Every key the PRM writes carries this prefix, so one Redis can be shared and inspected safely.
KEY_PREFIX = "prm:"


class RedisStateStore:
    """Transient state in Redis; every failure to reach it is StateUnavailable."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    @classmethod
    def from_url(cls, url: str, *, timeout_seconds: float) -> RedisStateStore:
        """A store on the Redis at `url`; every call gives up after `timeout_seconds`."""
        return cls(
            Redis.from_url(url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds)
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()

    async def ping(self) -> float:
        """PING's round trip, in seconds."""
        started = time.perf_counter()
        await self._call(self._redis.ping())
        return time.perf_counter() - started

    async def get(self, key: str) -> str | None:
        """The value, or None."""
        raw = await self._call(self._redis.get(KEY_PREFIX + key))
        return raw.decode() if isinstance(raw, bytes) else raw

    async def set(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        """Store `value`, expiring after `ttl_seconds` if given."""
        await self._call(self._redis.set(KEY_PREFIX + key, value, ex=ttl_seconds))

    async def set_if_absent(self, key: str, value: str, *, ttl_seconds: int | None = None) -> bool:
        """SET NX: True if stored."""
        return bool(await self._call(self._redis.set(KEY_PREFIX + key, value, nx=True, ex=ttl_seconds)))

    async def delete(self, key: str) -> None:
        """DEL."""
        await self._call(self._redis.delete(KEY_PREFIX + key))

    @asynccontextmanager
    async def lock(self, name: str, *, ttl_seconds: float, wait_seconds: float) -> AsyncIterator[None]:
        """A Redis lock that expires after `ttl_seconds`; LockTimeout after `wait_seconds` of waiting."""
        lock = self._redis.lock(
            KEY_PREFIX + "lock:" + name, timeout=ttl_seconds, blocking_timeout=wait_seconds
        )
        acquired = await self._call(lock.acquire())
        if not acquired:
            raise LockTimeout(name)
        try:
            yield
        finally:
            try:
                await lock.release()
            except LockError:
                pass  # it expired while held: someone else may hold it now, and that is theirs to release
            except RedisError as exc:
                raise StateUnavailable(f"state store unavailable ({type(exc).__name__})") from exc

    @staticmethod
    async def _call(awaitable: Awaitable[T]) -> T:
        try:
            return await awaitable
        except RedisError as exc:
            raise StateUnavailable(f"state store unavailable ({type(exc).__name__})") from exc
