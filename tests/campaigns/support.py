"""Running campaign jobs as the workers would: a queue that keeps jobs (each id once, as rq does) and a
drain that runs those due by the fake clock through workers.registry.JOBS; the test world and makers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from adapters.clock import FakeClock
from adapters.sandbox.messenger import SandboxMessenger
from app.campaigns import service as campaigns
from app.campaigns.resources import Campaign, Schedule, Variant
from app.config import Settings
from app.fhir.builders import Actor, AgentKind
from app.fhir.client import FhirClient, Resource
from app.messaging import throttle
from app.ports.jobs import FailedJob, Job
from app.segments import service as segments
from app.segments.resources import Criteria
from app.services import Services, build_services
from tests.messaging.support import KOLKATA, today_at
from tests.segments.support import Seeded
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


World = tuple[Services, MemoryQueue, SandboxMessenger, FakeClock]
STAFF = Actor(kind=AgentKind.STAFF, user="marketing@test")
OFFER_A = {"clinic_name": "Sunrise Clinic", "offer": "a free ECG", "clinic_phone": "+918041234567"}
OFFER_B = {**OFFER_A, "offer": "20% off a full check-up"}
# Approved WhatsApp templates: a campaign starts the conversation, outside the session window.
SIDS = {
    f"{template}.{lang}": "HX" + digit * 32
    for template in ("health_checkup_invitation", "appointment_confirmation")
    for lang, digit in (("en", "a"), ("hi", "b"), ("kn", "c"))
}


@asynccontextmanager
async def world_of(settings: Settings) -> AsyncIterator[World]:
    """Services on a fake clock at 11:00, a memory queue and the sandbox; batches of 10 at 1/s."""
    clock, sandbox, queue = FakeClock(today_at(11)), SandboxMessenger(), MemoryQueue()
    paced = settings.model_copy(
        update={"campaign_batch_size": 10, "campaign_messages_per_second": 1.0, "twilio_content_sids": SIDS}
    )
    services = build_services(paced, clock=clock, messenger=sandbox, queue=queue, transcriber=None)
    for sender in throttle.senders(paced).values():  # each test's fake clock starts the day afresh
        await services.state.delete(throttle.key_of(sender))
    try:
        yield services, queue, sandbox, clock
    finally:
        await services.aclose()


async def make_segment(services: Services, seeded: Seeded) -> str:
    """A segment of the seeded patients."""
    segment = await segments.create(
        services.fhir,
        name="Campaign test",
        description=None,
        criteria=Criteria(search=f"family={seeded.family}"),
        actor=STAFF,
        now=services.clock.now(),
        tz=KOLKATA,
    )
    return segment.id


async def make_campaign(
    services: Services, segment_id: str, *, channel: str = "whatsapp", **overrides: Any
) -> Campaign:
    """A one-off campaign of the health check-up invitation, due now unless `overrides` say otherwise."""
    values: dict[str, Any] = {
        "name": "Check-up drive",
        "segment_id": segment_id,
        "channel": channel,
        "variants": [Variant("A", "health_checkup_invitation", OFFER_A)],
        "split_b": 0,
        "languages": (),
        "schedule": Schedule.ONCE,
        "start": None,
        "end": None,
        "weekdays": (),
        "window": None,
        "attribution_days": 14,
        **overrides,
    }
    return await campaigns.create(
        services.fhir,
        services.queue,
        content_sids=services.settings.twilio_content_sids,
        actor=STAFF,
        now=services.clock.now(),
        tz=KOLKATA,
        **values,
    )


async def run_to_the_end(services: Services, queue: MemoryQueue, clock: FakeClock) -> list[Any]:
    """Run the jobs, moving the clock 10 s at a time, until no dispatch or batch is left."""
    ran = await drain(services, queue)
    while queue.waiting(Job.DISPATCH_CAMPAIGN_RUN) or queue.waiting(Job.SEND_CAMPAIGN_BATCH):
        clock.advance(seconds=10)
        ran += await drain(services, queue)
    return ran
