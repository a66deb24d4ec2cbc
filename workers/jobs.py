"""Jobs run by `python -m workers`. Each takes ids or small JSON, re-reads state and is idempotent."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from workers.bootstrap import JobContext, job_context

JOBS: dict[str, Callable[..., None]] = {}


def _run(work: Callable[[JobContext], Awaitable[None]]) -> None:
    """Run async job work with a fresh context (clients are per job: rq forks a process per job)."""

    async def main() -> None:
        async with job_context() as ctx:
            await work(ctx)

    asyncio.run(main())
