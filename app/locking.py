"""Short exclusive sections over the StateStore: what a FHIR conditional write cannot make atomic
(one registration per phone, one booking per patient at a time) is serialised here."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from app.errors import Unavailable
from app.ports.state import LockTimeout, StateStore

# A holder that crashed frees the lock after this long; the work inside takes a few HAPI round trips.
LOCK_TTL_SECONDS = 30.0
# Waiting longer than this for someone else's section answers 503 (retry), never a silent duplicate.
LOCK_WAIT_SECONDS = 20.0


class Busy(Unavailable):
    """Another request holds the section too long; the caller retries."""

    code = "busy"


@asynccontextmanager
async def exclusive(state: StateStore, kind: str, key: str) -> AsyncIterator[None]:
    """Hold the `kind` lock of `key` (hashed: keys may be phone numbers, and lock names are visible)."""
    name = f"{kind}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"
    async with AsyncExitStack() as stack:
        try:
            await stack.enter_async_context(
                state.lock(name, ttl_seconds=LOCK_TTL_SECONDS, wait_seconds=LOCK_WAIT_SECONDS)
            )
        except LockTimeout:
            raise Busy(f"Another request is changing this {kind}; retry shortly") from None
        yield
