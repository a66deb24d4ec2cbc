"""Rate limits on authentication: the RateLimiter port (failed keys per client address, requests per key)."""

from __future__ import annotations

from typing import Protocol


class RateLimited(Exception):
    """Too many requests; `retry_after` seconds until one is admitted again."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class RateLimiter(Protocol):
    """Counts and refuses; an adapter whose store is down admits (fails open) and says so in the log."""

    async def refuse_blocked_address(self, address: str) -> None:
        """Raise RateLimited while `address` has used up its failed-authentication budget."""
        ...

    async def record_failure(self, address: str) -> None:
        """Count one failed authentication from `address`."""
        ...

    async def hit_key(self, key_id: str) -> None:
        """Count one request with the key `key_id` (its hash); RateLimited over the per-key limit."""
        ...
