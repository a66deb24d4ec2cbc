"""Every periodic job and its cadence, in one table; workers tick it, and a deterministic job id per
period makes several workers ticking the same period queue one run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.ports.jobs import Job, JobQueue


@dataclass(frozen=True)
class Daily:
    """A job run once a day at a local time of the clinic's time zone."""

    job: Job
    at: time
    key: str
    payload: dict[str, Any] = field(default_factory=dict)

    def next_run(self, now: datetime, tz: ZoneInfo) -> datetime:
        """The next `at` in `tz` after `now`."""
        local = now.astimezone(tz)
        run = datetime.combine(local.date(), self.at, tzinfo=tz)
        return run if run > local else run + timedelta(days=1)

    def job_id(self, run: datetime) -> str:
        """One id per period: whoever queues the run of that day queues the same job."""
        return f"{self.key}-{run:%Y%m%d}"


SCHEDULE: tuple[Daily, ...] = (
    # Slots are extended every night, so a 30-day horizon never shrinks.
    Daily(Job.EXTEND_SLOT_HORIZONS, at=time(1, 0), key="slot-horizon"),
)


async def tick(queue: JobQueue, *, now: datetime, tz: ZoneInfo) -> list[str]:
    """Queue the next run of every periodic job (a run already queued is not queued again); their ids."""
    queued = []
    for entry in SCHEDULE:
        run = entry.next_run(now, tz)
        queued.append(await queue.enqueue(entry.job, entry.payload, job_id=entry.job_id(run), at=run))
    return queued
