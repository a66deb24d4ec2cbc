"""The RateLimiter port on Redis (the `limits` library): wrong API keys per client address, requests per key.

The client address is the ASGI client host. Behind a load balancer uvicorn rewrites it from
`X-Forwarded-For` only for proxies listed in `--forwarded-allow-ips`; otherwise every caller
shares the proxy's address and its failure budget.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable

import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from app.ports.ratelimit import RateLimited

log = structlog.get_logger(__name__)

# After Redis fails, skip rate limiting this long instead of paying its timeout on every request.
FAIL_OPEN_PAUSE_SECONDS = 5.0
_FAILURES = "auth-failures"
_PER_KEY = "api-key"


class RedisRateLimiter:
    """Moving-window limits in Redis; when Redis fails they are skipped (fail open) with a warning."""

    def __init__(
        self, redis_url: str, *, timeout_seconds: float, auth_failure_limit: str, per_key_limit: str
    ) -> None:
        storage = RedisStorage(
            "async+" + redis_url,
            implementation="redispy",
            wrap_exceptions=True,
            key_prefix="prm-limits",
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
        )
        self._limiter = MovingWindowRateLimiter(storage)
        self._failures = parse(auth_failure_limit)
        self._per_key = parse(per_key_limit)
        self._paused_until = 0.0

    async def refuse_blocked_address(self, address: str) -> None:
        """429 while `address` has used up its failed-authentication budget (even for a good key)."""
        if not await self._admits(self._limiter.test, self._failures, _FAILURES, address):
            raise await self._limited(
                self._failures, (_FAILURES, address), "Too many failed authentications from this address"
            )

    async def record_failure(self, address: str) -> None:
        """Count one failed authentication from `address`."""
        await self._admits(self._limiter.hit, self._failures, _FAILURES, address)

    async def hit_key(self, key_id: str) -> None:
        """Count one request with the key `key_id` (its hash); 429 over the per-key limit."""
        if not await self._admits(self._limiter.hit, self._per_key, _PER_KEY, key_id):
            raise await self._limited(self._per_key, (_PER_KEY, key_id), "Too many requests for this API key")

    async def _admits(self, check: Callable[..., Awaitable[bool]], item: RateLimitItem, *ids: str) -> bool:
        if time.monotonic() < self._paused_until:
            return True
        try:
            return await check(item, *ids)
        except StorageError as exc:
            self._paused_until = time.monotonic() + FAIL_OPEN_PAUSE_SECONDS
            log.warning("ratelimit.unavailable", error_type=type(exc.storage_error).__name__)
            return True

    async def _limited(self, item: RateLimitItem, ids: tuple[str, ...], message: str) -> RateLimited:
        try:
            stats = await self._limiter.get_window_stats(item, *ids)
            retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        except StorageError:
            retry_after = item.get_expiry()
        log.info("ratelimit.exceeded", limit=ids[0], retry_after=retry_after)
        return RateLimited(message, retry_after)
