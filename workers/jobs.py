"""Jobs run by `python -m workers`. Each takes ids or small JSON, re-reads state and is idempotent."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import structlog

from app.directory.index import DirectoryCache
from app.ports.jobs import Job, JobQueue
from app.scheduling.booking import release_expired_holds as release_expired_holds_of
from app.scheduling.slots import DEFAULT_HORIZON_DAYS, generate_slots
from workers.bootstrap import JobContext, job_context
from workers.changes import handle_change, sweep_changes

log = structlog.get_logger(__name__)

# Slots are extended every night at this local time.
DAILY_HORIZON_RUN_AT = time(1, 0)


def _run(work: Callable[[JobContext], Awaitable[None]]) -> None:
    """Run async job work with a fresh context (clients are per job: rq forks a process per job)."""

    async def main() -> None:
        async with job_context() as ctx:
            await work(ctx)

    asyncio.run(main())


def next_daily_run(now: datetime, tz: ZoneInfo) -> datetime:
    """The next DAILY_HORIZON_RUN_AT in the clinic's time zone after `now`."""
    local = now.astimezone(tz)
    run = datetime.combine(local.date(), DAILY_HORIZON_RUN_AT, tzinfo=tz)
    return run if run > local else run + timedelta(days=1)


async def schedule_next_horizon_run(queue: JobQueue, *, now: datetime, tz: ZoneInfo) -> str:
    """Queue tomorrow's (or tonight's) horizon extension; one job per day whoever asks."""
    run_at = next_daily_run(now, tz)
    return await queue.enqueue(
        Job.EXTEND_SLOT_HORIZONS, {}, job_id=f"slot-horizon-{run_at:%Y%m%d}", at=run_at
    )


def extend_slot_horizons(days: int = DEFAULT_HORIZON_DAYS) -> None:
    """Generate missing slots for every active role from today over `days` days, then schedule
    the next daily run."""

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
        await schedule_next_horizon_run(ctx.queue, now=now, tz=ZoneInfo(ctx.settings.default_timezone))

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
    "handle_change": handle_change,
    "sweep_changes": sweep_changes,
}
