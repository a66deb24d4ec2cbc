"""The job registry and the periodic schedule, without a worker."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.ports.jobs import Job
from workers.registry import JOBS
from workers.schedule import SCHEDULE, tick

KOLKATA = ZoneInfo("Asia/Kolkata")


class OncePerId:
    """A queue that, like rq with a job id, queues an id once."""

    def __init__(self) -> None:
        self.queued: dict[str, tuple[Job, datetime | None]] = {}

    async def enqueue(
        self, job: Job, payload: dict[str, Any], *, job_id: str | None = None, at: datetime | None = None
    ) -> str:
        assert job_id is not None
        self.queued.setdefault(job_id, (job, at))
        return job_id


def test_every_job_has_a_function() -> None:
    assert set(JOBS) == set(Job)


def test_every_periodic_job_is_a_registered_job() -> None:
    assert {entry.job for entry in SCHEDULE} <= set(JOBS)


def test_the_nightly_run_is_the_next_1am_in_the_clinic_time_zone() -> None:
    [nightly] = [e for e in SCHEDULE if e.job is Job.EXTEND_SLOT_HORIZONS]

    evening = nightly.next_run(datetime(2026, 12, 1, 20, 0, tzinfo=KOLKATA), KOLKATA)
    small_hours = nightly.next_run(datetime(2026, 12, 1, 0, 30, tzinfo=KOLKATA), KOLKATA)

    assert evening == datetime(2026, 12, 2, 1, 0, tzinfo=KOLKATA)
    assert small_hours == datetime(2026, 12, 1, 1, 0, tzinfo=KOLKATA)


async def test_two_schedulers_ticking_one_period_queue_one_run() -> None:
    queue = OncePerId()

    first = await tick(queue, now=datetime(2026, 12, 1, 20, 0, tzinfo=KOLKATA), tz=KOLKATA)
    second = await tick(queue, now=datetime(2026, 12, 1, 23, 59, tzinfo=KOLKATA), tz=KOLKATA)

    assert first[0] == second[0] == "slot-horizon-20261202"
    assert queue.queued["slot-horizon-20261202"] == (
        Job.EXTEND_SLOT_HORIZONS,
        datetime(2026, 12, 2, 1, 0, tzinfo=KOLKATA),
    )


async def test_sweeps_fall_on_the_same_30_second_boundary_for_every_worker() -> None:
    queue = OncePerId()
    now = datetime(2026, 12, 1, 20, 0, 7, tzinfo=KOLKATA)

    await tick(queue, now=now, tz=KOLKATA)
    await tick(queue, now=now.replace(second=29), tz=KOLKATA)

    sweeps = {k: v for k, v in queue.queued.items() if v[0] is Job.SWEEP_CHANGES}
    boundary = now.replace(second=30)
    assert sweeps == {f"change-sweep-{int(boundary.timestamp())}": (Job.SWEEP_CHANGES, boundary)}
