"""Every periodic job and its cadence, in one table; workers tick it, and a deterministic job id per
period makes several workers ticking the same period queue one run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol
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


@dataclass(frozen=True)
class Every:
    """A job run every `seconds`, at multiples of `seconds` since the epoch (the same for every worker)."""

    job: Job
    seconds: int
    key: str
    payload: dict[str, Any] = field(default_factory=dict)

    def next_run(self, now: datetime, tz: ZoneInfo) -> datetime:
        """The next multiple of `seconds` after `now` (`tz` does not matter for a fixed cadence)."""
        del tz
        epoch = int(now.timestamp())
        return datetime.fromtimestamp((epoch // self.seconds + 1) * self.seconds, UTC)

    def job_id(self, run: datetime) -> str:
        """One id per period."""
        return f"{self.key}-{int(run.timestamp())}"


class Periodic(Protocol):
    """A row of the schedule."""

    @property
    def job(self) -> Job: ...
    @property
    def payload(self) -> dict[str, Any]: ...
    def next_run(self, now: datetime, tz: ZoneInfo) -> datetime: ...
    def job_id(self, run: datetime) -> str: ...


SCHEDULE: tuple[Periodic, ...] = (
    # Slots are extended every night, so a 30-day horizon never shrinks.
    Daily(Job.EXTEND_SLOT_HORIZONS, at=time(1, 0), key="slot-horizon"),
    # The change feed's catch-up: the worst-case lag of a change that rest-hook did not deliver.
    Every(Job.SWEEP_CHANGES, seconds=30, key="change-sweep"),
    # Messages whose send job was never queued (Redis down at the time) are sent within two minutes.
    Every(Job.REQUEUE_PENDING_SENDS, seconds=60, key="pending-sends"),
    # Appointment reminders due by now go out within a minute of their time.
    Every(Job.SEND_DUE_REMINDERS, seconds=60, key="due-reminders"),
    # Tickets past their SLA due time are escalated within a minute of the breach.
    Every(Job.ESCALATE_OVERDUE_TICKETS, seconds=60, key="ticket-escalation"),
    # Leads whose appointment was cancelled and not rebooked in time are lost (a day's precision is plenty).
    Every(Job.LOSE_CANCELLED_OPPORTUNITIES, seconds=3600, key="cancelled-opportunities"),
    # Journey stage actions (messages, tickets) due by now run within five minutes of their time.
    Every(Job.RUN_JOURNEY_ACTIONS, seconds=300, key="journey-actions"),
    # Appointments at high no-show risk get their extra reminder (72 h ahead) within the hour.
    Every(Job.REMIND_HIGH_RISK, seconds=3600, key="high-risk-reminders"),
    # Care gaps are counted in days: one look each morning opens the day's outreach tickets.
    Daily(Job.OPEN_CARE_GAP_TICKETS, at=time(7, 0), key="care-gaps"),
    # Yesterday's analytics roll-ups, once the day is over (late changes re-roll a day through the feed).
    Daily(Job.ROLL_UP_ANALYTICS, at=time(0, 20), key="analytics-rollup"),
    # Campaign runs (daily, weekly, or once at a time) open within a minute of their time.
    Every(Job.RUN_DUE_CAMPAIGNS, seconds=60, key="due-campaigns"),
)
# Workers tick the schedule this often: often enough for the shortest cadence above.
TICK_SECONDS = 10


async def tick(queue: JobQueue, *, now: datetime, tz: ZoneInfo) -> list[str]:
    """Queue the next run of every periodic job (a run already queued is not queued again); their ids."""
    queued = []
    for entry in SCHEDULE:
        run = entry.next_run(now, tz)
        queued.append(await queue.enqueue(entry.job, entry.payload, job_id=entry.job_id(run), at=run))
    return queued
