"""Running campaign jobs as the workers would: a queue that keeps jobs (each id once, as rq does) and a
drain that runs those due by the fake clock through workers.registry.JOBS."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.fhir.client import FhirClient, Resource
from app.ports.jobs import FailedJob, Job
from app.services import Services
from workers.registry import JOBS


@dataclass
class Queued:
    """One job as queued."""

    job: Job
    payload: dict[str, Any]
    job_id: str
    at: datetime | None
    done: bool = False


@dataclass
class MemoryQueue:
    """The JobQueue port in memory: a job id already queued is not queued again."""

    jobs: list[Queued] = field(default_factory=list)
    count: int = 0

    async def enqueue(
        self, job: Job, payload: dict[str, Any], *, job_id: str | None = None, at: datetime | None = None
    ) -> str:
        self.count += 1
        job_id = job_id or f"job-{self.count}"
        if all(q.job_id != job_id for q in self.jobs):
            self.jobs.append(Queued(job, payload, job_id, at))
        return job_id

    async def failed_jobs(self, *, limit: int = 50) -> list[FailedJob]:
        return []

    def waiting(self, job: Job) -> list[Queued]:
        """Jobs of a kind not run yet."""
        return [q for q in self.jobs if q.job == job and not q.done]


async def drain(services: Services, queue: MemoryQueue) -> list[Queued]:
    """Run every job due by the clock (and those they queue, if due), oldest first; the jobs run."""
    ran = []
    while due := [q for q in queue.jobs if not q.done and (q.at is None or q.at <= services.clock.now())]:
        job = due[0]
        job.done = True
        await JOBS[job.job](services, dict(job.payload))
        ran.append(job)
    return ran


async def replay(services: Services, jobs: list[Queued]) -> None:
    """Run jobs again, as a redelivery would."""
    for job in jobs:
        await JOBS[job.job](services, dict(job.payload))


async def messages_of(fhir: FhirClient, run_id: str) -> list[Resource]:
    """Every Communication of a run."""
    return await fhir.search("Communication", {"based-on": f"CommunicationRequest/{run_id}"})
