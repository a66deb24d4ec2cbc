"""Thin wrappers that build the change feed jobs' dependencies (app/changes/jobs.py does the work)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from redis.asyncio import Redis

from adapters.redis_state import RedisStateStore
from app.changes import jobs
from app.changes.registry import ChangeContext, load_handlers, registry, watched_types
from workers.bootstrap import JobContext, job_context


def _run(work: Callable[[JobContext, ChangeContext], Awaitable[None]]) -> None:
    """Run with a fresh gateway, queue and state store (rq forks a process per job)."""

    async def main() -> None:
        async with job_context() as ctx:
            redis = Redis.from_url(
                ctx.settings.redis_url,
                socket_timeout=ctx.settings.redis_timeout_seconds,
                socket_connect_timeout=ctx.settings.redis_timeout_seconds,
            )
            try:
                change_ctx = ChangeContext(
                    fhir=ctx.fhir, queue=ctx.queue, state=RedisStateStore(redis), now=datetime.now(UTC)
                )
                await work(ctx, change_ctx)
            finally:
                await redis.aclose()

    load_handlers()
    asyncio.run(main())


def handle_change(
    resource_type: str, resource_id: str, version: str | None = None, kind: str = "updated"
) -> None:
    """Handle one version of one resource (see app.changes.jobs.handle_change)."""

    async def work(ctx: JobContext, change_ctx: ChangeContext) -> None:
        await jobs.handle_change(
            resource_type=resource_type,
            resource_id=resource_id,
            version=version,
            kind=kind,
            context=change_ctx,
            dedupe_ttl_seconds=ctx.settings.change_feed_dedupe_ttl_seconds,
        )

    _run(work)


def sweep_changes() -> None:
    """Schedule the next sweep, then sweep every watched type's history once."""

    async def work(ctx: JobContext, change_ctx: ChangeContext) -> None:
        # The next one first: a failing sweep (HAPI down) is retried by rq and the chain goes on.
        await jobs.schedule_next_sweep(
            ctx.queue, now=change_ctx.now, every_seconds=ctx.settings.change_feed_sweep_seconds
        )
        await jobs.sweep_changes(
            context=change_ctx,
            types=watched_types(registry, ctx.settings.change_feed_types),
            overlap_seconds=ctx.settings.change_feed_overlap_seconds,
            lookback_seconds=ctx.settings.change_feed_lookback_seconds,
            dedupe_ttl_seconds=ctx.settings.change_feed_dedupe_ttl_seconds,
        )

    _run(work)
