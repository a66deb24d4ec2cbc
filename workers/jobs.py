"""Jobs run by `python -m workers`. Each takes ids or small JSON, re-reads state and is idempotent."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog

from app.directory.index import DirectoryCache
from app.scheduling.booking import release_expired_holds as release_expired_holds_of
from app.scheduling.slots import DEFAULT_HORIZON_DAYS, generate_slots
from workers.bootstrap import JobContext, job_context

log = structlog.get_logger(__name__)


def _run(work: Callable[[JobContext], Awaitable[None]]) -> None:
    """Run async job work with a fresh context (clients are per job: rq forks a process per job)."""

    async def main() -> None:
        async with job_context() as ctx:
            await work(ctx)

    asyncio.run(main())


def extend_slot_horizons(days: int = DEFAULT_HORIZON_DAYS) -> None:
    """Generate missing slots for every active role from today over `days` days (daily)."""

    async def work(ctx: JobContext) -> None:
        now = datetime.now(UTC)
        index = await DirectoryCache(ctx.fhir, default_timezone=ctx.settings.default_timezone).get()
        created = 0
        for entry in index.roles:
            if entry.active and entry.schedule_id:
                report = await generate_slots(
                    ctx.fhir, entry, first_day=now.astimezone(entry.timezone).date(), days=days, now=now
                )
                created += report.created
        log.info("job.slot_horizon.extended", roles=len(index.roles), created=created)

    _run(work)


def release_expired_holds(slot_id: str) -> None:
    """Free a slot whose hold expired unbooked (nothing happens if it was booked or already released)."""

    async def work(ctx: JobContext) -> None:
        released = await release_expired_holds_of(ctx.fhir, slot_id=slot_id, now=datetime.now(UTC))
        log.info("job.hold.checked", slot=f"Slot/{slot_id}", released=released)

    _run(work)


JOBS: dict[str, Callable[..., None]] = {
    "extend_slot_horizons": extend_slot_horizons,
    "release_expired_holds": release_expired_holds,
}
