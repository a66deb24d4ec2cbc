"""The JobQueue port on rq/Redis."""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry

from app.ports.jobs import JOB_LANES, FailedJob, Lane, QueueUnavailable
from app.ports.jobs import Job as JobName

# A job is retried after a failure once per interval, waiting that many seconds each time.
JOB_RETRY_INTERVALS_SECONDS = (10, 60, 300)
JOB_MAX_RETRIES = len(JOB_RETRY_INTERVALS_SECONDS)
# Jobs that retry longer, one interval per retry: a provider outage (Twilio 429/5xx) can last minutes,
# and the send job's message stays in preparation until it goes (about 43 minutes in all).
RETRY_INTERVALS_SECONDS: dict[JobName, tuple[int, ...]] = {
    JobName.SEND_MESSAGE: (10, 30, 120, 600, 1800),
}
# A job running longer than this is killed and counts as failed.
JOB_TIMEOUT_SECONDS = 300
# Failed jobs stay listed (for the admin endpoint) this long.
FAILED_JOB_TTL_SECONDS = 7 * 24 * 3600
# Finished jobs' ids are kept this long, so a replayed job id is recognised and not run again.
FINISHED_JOB_TTL_SECONDS = 24 * 3600


# rq calls this with the job's name and payload; it looks the function up in workers.registry.
PERFORM = "workers.bootstrap.perform"

# rq accepts only these characters in a job id; ids built from FHIR ids may carry dots.
_RQ_JOB_ID = re.compile(r"[A-Za-z0-9_-]+")


def lane_queue_name(base: str, lane: Lane) -> str:
    """The rq queue of `lane`: the base name for live jobs (where every job went before lanes), else
    `<base>-<lane>`."""
    return base if lane is Lane.LIVE else f"{base}-{lane.value}"


def lane_queues(redis: Redis, base: str, lanes: tuple[Lane, ...] = tuple(Lane)) -> list[Queue]:
    """The rq queues of `lanes`, in the order a worker takes jobs from them."""
    return [Queue(lane_queue_name(base, lane), connection=redis) for lane in lanes]


def backlog(redis: Redis, base: str, lanes: tuple[Lane, ...] = tuple(Lane)) -> int:
    """Jobs queued or being worked in `lanes` (scheduled ones not counted)."""
    return sum(
        queue.count + queue.started_job_registry.get_job_count(cleanup=False)
        for queue in lane_queues(redis, base, lanes)
    )


def rq_job_id(job_id: str) -> str:
    """`job_id` as rq accepts it: unchanged when it can be, else made safe and kept distinct by a hash."""
    if _RQ_JOB_ID.fullmatch(job_id):
        return job_id
    digest = hashlib.sha256(job_id.encode()).hexdigest()[:12]
    return re.sub(r"[^A-Za-z0-9_-]", "_", job_id)[:80] + "-" + digest


class RqJobQueue:
    """Queue jobs for `python -m workers` by name (the registry maps each Job to its function)."""

    def __init__(
        self,
        redis_url: str,
        *,
        queue_name: str,
        timeout_seconds: float = 2.0,
        retry_intervals: tuple[int, ...] = JOB_RETRY_INTERVALS_SECONDS,
        job_retry_intervals: dict[JobName, tuple[int, ...]] | None = None,
    ) -> None:
        self._redis = Redis.from_url(
            redis_url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds
        )
        self._queues = dict(zip(Lane, lane_queues(self._redis, queue_name), strict=True))
        self._retry_intervals = retry_intervals
        self._job_retry_intervals = (
            RETRY_INTERVALS_SECONDS if job_retry_intervals is None else job_retry_intervals
        )

    async def enqueue(
        self, job: JobName, payload: dict[str, Any], *, job_id: str | None = None, at: datetime | None = None
    ) -> str:
        """Queue `job` (at `at`, if given); a job id queued, running or done is not queued again."""
        return await asyncio.to_thread(self._enqueue, JobName(job).value, payload, job_id, at)

    def _enqueue(self, name: str, payload: dict[str, Any], job_id: str | None, at: datetime | None) -> str:
        unique = job_id is not None
        job_name = JobName(name)
        intervals = self._job_retry_intervals.get(job_name, self._retry_intervals)
        job_id = rq_job_id(job_id) if job_id is not None else None
        queue = self._queues[JOB_LANES[job_name]]
        try:
            job = queue.create_job(
                PERFORM,
                kwargs={"job": name, "payload": payload},
                job_id=job_id,
                timeout=JOB_TIMEOUT_SECONDS,
                result_ttl=FINISHED_JOB_TTL_SECONDS,
                failure_ttl=FAILED_JOB_TTL_SECONDS,
                retry=Retry(max=len(intervals), interval=list(intervals)),
                description=name,
            )
            if at is None:
                queue.enqueue_job(job, unique=unique)
            else:
                queue.schedule_job(job, at, unique=unique)
        except DuplicateJobError:
            return str(job_id)
        except RedisError as exc:
            raise QueueUnavailable(f"job queue unavailable ({type(exc).__name__})") from exc
        return str(job.id)

    async def failed_jobs(self, *, limit: int = 50) -> list[FailedJob]:
        """Jobs in the lanes' failed registries, newest first."""
        return await asyncio.to_thread(self._failed_jobs, limit)

    def _failed_jobs(self, limit: int) -> list[FailedJob]:
        try:
            ids = [
                job_id
                for queue in self._queues.values()
                for job_id in FailedJobRegistry(queue=queue).get_job_ids(0, limit - 1, desc=True)
            ]
            jobs = [job for job in Job.fetch_many(ids, connection=self._redis) if job is not None]
        except RedisError as exc:
            raise QueueUnavailable(f"job queue unavailable ({type(exc).__name__})") from exc
        failed = [_failed(job, self._max_retries(job.description)) for job in jobs]
        oldest = datetime.min.replace(tzinfo=UTC)
        return sorted(failed, key=lambda job: job.failed_at or oldest, reverse=True)[:limit]

    def _max_retries(self, name: str | None) -> int:
        by_name = {job.value: intervals for job, intervals in self._job_retry_intervals.items()}
        return len(by_name.get(name or "", self._retry_intervals))


def _failed(job: Job, max_retries: int) -> FailedJob:
    try:
        result = job.latest_result()
        trace = (result.exc_string or "") if result else ""
    except NoSuchJobError:
        trace = ""
    # The exception's type only: its message may quote patient data.
    last_line = trace.strip().splitlines()[-1] if trace.strip() else ""
    error_type = last_line.split(":", 1)[0].rsplit(".", 1)[-1] or "unknown"
    retries_left = job.retries_left or 0
    return FailedJob(
        id=job.id,
        name=job.description or job.func_name or "unknown",
        enqueued_at=job.enqueued_at,
        failed_at=job.ended_at,
        error_type=error_type,
        attempts=1 + max_retries - retries_left,
    )
