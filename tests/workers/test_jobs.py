"""Jobs run by a real worker process against the real Redis and HAPI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from redis import Redis
from rq import Queue
from rq.registry import ScheduledJobRegistry

from adapters.clock import SystemClock
from adapters.memory_state import InMemoryStateStore
from app.config import Settings
from app.directory.index import DirectoryCache
from app.directory.resources import parse_hours
from app.directory.service import create_practitioner
from app.fhir.builders import Actor, AgentKind
from app.fhir.client import FhirClient
from app.ports.jobs import JOB_LANES, Job, Lane
from app.scheduling import booking
from app.scheduling.slots import slots_between
from app.vocabulary import Channel
from tests.clinic import Clinic, bookable
from tests.factories import person_name
from tests.support.servers import ROOT, free_port
from workers.queue import JOB_MAX_RETRIES, RqJobQueue, backlog, lane_queue_name, lane_queues
from workers.schedule import SCHEDULE

pytestmark = pytest.mark.integration
WORKER_TIMEOUT_SECONDS = 120


def run_worker(settings: Settings, **env: str) -> None:
    """Run `python -m workers --burst` as a separate process until the queue is empty."""
    environment = {
        **os.environ,
        "PRM_ENVIRONMENT": "test",
        "PRM_FHIR_BASE_URL": settings.fhir_base_url,
        "PRM_REDIS_URL": settings.redis_url,
        "PRM_QUEUE_NAME": settings.queue_name,
        **env,
    }
    subprocess.run(
        [sys.executable, "-m", "workers", "--burst"],
        cwd=ROOT,
        env=environment,
        check=True,
        timeout=WORKER_TIMEOUT_SECONDS,
    )


async def test_an_expired_hold_is_released_by_the_worker(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    clinic: Clinic,
    fhir: FhirClient,
    settings: Settings,
) -> None:
    _doctor, slot, patient = await bookable(api, admin, staff, clinic)
    held = await booking.book(
        fhir,
        DirectoryCache(fhir, default_timezone="Asia/Kolkata"),
        InMemoryStateStore(SystemClock()),
        slot_id=slot,
        patient_id=patient["id"],
        reason=None,
        channel=Channel.DASHBOARD,
        actors=[Actor(kind=AgentKind.STAFF, user="tests")],
        # Held two seconds ago for one second: expired by the time the worker looks, without sleeping.
        now=datetime.now(UTC) - timedelta(seconds=2),
        hold_seconds=1,
    )
    queue = RqJobQueue(settings.redis_url, queue_name=settings.queue_name)

    await queue.enqueue(Job.RELEASE_EXPIRED_HOLDS, {"slot_id": slot})
    run_worker(settings)

    assert (await fhir.read("Slot", slot))["status"] == "free"
    released = await fhir.read("Appointment", held["id"])
    assert released["status"] == "cancelled"
    assert released["cancelationReason"]["text"] == "hold expired"


async def test_a_hold_through_the_api_schedules_its_release_at_expiry(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic, settings: Settings
) -> None:
    _doctor, slot, patient = await bookable(api, admin, staff, clinic)

    held = await api.post(
        "/api/v1/appointments/holds",
        json={"slot": slot, "patient": patient["id"], "seconds": 120},
        headers=staff,
    )

    registry = ScheduledJobRegistry(
        queue=Queue(settings.queue_name, connection=Redis.from_url(settings.redis_url))
    )
    [job_id] = [j for j in registry.get_job_ids() if j.startswith(f"release-hold-{slot}-")]
    run_at = datetime.fromtimestamp(registry.get_scheduled_time(job_id).timestamp(), UTC)
    expires = datetime.fromisoformat(held.json()["hold_expires"])
    assert expires < run_at <= expires + timedelta(seconds=10)


async def test_horizon_job_creates_the_slots_of_a_role_that_has_none(
    clinic: Clinic, fhir: FhirClient, settings: Settings
) -> None:
    cache = DirectoryCache(fhir, default_timezone="Asia/Kolkata")
    given, family = person_name().split()
    role = await create_practitioner(
        fhir,
        cache,
        given=given,
        family=family,
        prefix="Dr.",
        gender=None,
        specialty="ent",
        organization_id=clinic.organization,
        location_id=clinic.location,
        department_id=None,
        hours=parse_hours({d: ["10:00-11:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}),
        slot_minutes=15,
        actor=Actor(kind=AgentKind.STAFF, user="tests"),
    )
    assert role.schedule_id is not None
    now = datetime.now(UTC)
    assert await slots_between(fhir, [role.schedule_id], now, now + timedelta(days=8)) == []
    queue = RqJobQueue(settings.redis_url, queue_name=settings.queue_name)

    await queue.enqueue(Job.EXTEND_SLOT_HORIZONS, {"days": 8})
    run_worker(settings)

    created = await slots_between(fhir, [role.schedule_id], now, now + timedelta(days=8))
    assert len(created) >= 7 * 4
    assert {s["status"] for s in created} == {"free"}


async def test_a_failing_job_is_retried_then_listed_for_admins(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], settings: Settings
) -> None:
    queue = RqJobQueue(settings.redis_url, queue_name=settings.queue_name, retry_intervals=(0, 0, 0))
    job_id = await queue.enqueue(
        Job.RELEASE_EXPIRED_HOLDS, {"slot_id": "any"}, job_id=f"doomed-{time.time_ns()}"
    )

    run_worker(settings, PRM_FHIR_BASE_URL=f"http://127.0.0.1:{free_port()}/fhir")

    response = await api.get("/api/v1/admin/jobs/failed", headers=admin)
    assert response.status_code == 200
    [failed] = [j for j in response.json() if j["id"] == job_id]
    assert failed["name"] == "release_expired_holds"
    assert failed["error_type"] == "FhirUnavailable"
    assert failed["attempts"] == 1 + JOB_MAX_RETRIES
    assert (await api.get("/api/v1/admin/jobs/failed", headers=staff)).status_code == 403


async def test_enqueueing_the_same_job_id_twice_queues_it_once(settings: Settings) -> None:
    name = f"dedupe-{time.time_ns()}"
    queue = RqJobQueue(settings.redis_url, queue_name=name)
    job_id = f"once-{time.time_ns()}"

    await queue.enqueue(Job.RELEASE_EXPIRED_HOLDS, {"slot_id": "x"}, job_id=job_id)
    await queue.enqueue(Job.RELEASE_EXPIRED_HOLDS, {"slot_id": "x"}, job_id=job_id)

    assert Queue(name, connection=Redis.from_url(settings.redis_url)).count == 1


async def test_a_worker_takes_a_live_job_before_a_backlog_of_feed_and_bulk_jobs(settings: Settings) -> None:
    # A bulk import queues thousands of change-feed jobs; a patient's message must not wait behind them.
    name = f"lanes-{time.time_ns()}"
    queue = RqJobQueue(settings.redis_url, queue_name=name)
    for n in range(20):
        await queue.enqueue(Job.SEND_CAMPAIGN_BATCH, {"n": n})
        await queue.enqueue(Job.HANDLE_CHANGE, {"n": n})
    await queue.enqueue(Job.RECEIVE_MESSAGE, {"n": 0})
    redis = Redis.from_url(settings.redis_url)
    assert (backlog(redis, name), backlog(redis, name, (Lane.LIVE,))) == (41, 1)

    taken = []
    while dequeued := Queue.dequeue_any(lane_queues(redis, name), timeout=None, connection=redis):
        job, _ = dequeued
        taken.append(JOB_LANES[Job(str(job.description))])

    assert taken == [Lane.LIVE] + [Lane.FEED] * 20 + [Lane.BULK] * 20


async def test_a_worker_start_queues_the_nightly_horizon_run_once(settings: Settings) -> None:
    run_worker(settings)
    run_worker(settings)

    feed = lane_queue_name(settings.queue_name, Lane.FEED)
    registry = ScheduledJobRegistry(queue=Queue(feed, connection=Redis.from_url(settings.redis_url)))
    nightly = [j for j in registry.get_job_ids() if j.startswith("slot-horizon-")]
    assert len(nightly) == 1
    expected = SCHEDULE[0].next_run(datetime.now(UTC), ZoneInfo("Asia/Kolkata"))
    assert nightly == [f"slot-horizon-{expected:%Y%m%d}"]
