"""Production's topology on one machine: two API processes and two workers on one HAPI and one Redis
(`make test-postgres` runs this on HAPI over PostgreSQL). The concurrency guarantees hold across
replicas, not only inside one process, and periodic jobs run once whatever the number of workers."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.fhir.canonical import SID_PHONE
from app.fhir.client import FhirClient
from tests.clinic import Clinic, free_slots, make_patient, make_practitioner
from tests.conftest import ADMIN_KEY, STAFF_KEY, TWILIO_AUTH_TOKEN, bearer
from tests.factories import person_name, phone
from tests.messaging.twilio_webhooks import communications
from tests.support.servers import ROOT, Server, free_port, start_api, start_redis
from tests.support.twilio import INBOUND_PATH, inbound_form, signed_headers

pytestmark = pytest.mark.integration

# Both replicas verify Twilio signatures over the address the load balancer answers on.
PUBLIC_URL = "http://prm.replicas.test"
WORKER_COUNT = 2
# Long enough for several runs of the 30-second change-feed sweep across both workers.
SCHEDULE_WATCH_SECONDS = 75


@dataclass
class Replicas:
    """Two API base URLs and the log files of two worker processes."""

    apis: tuple[str, str]
    worker_logs: tuple[Path, ...]
    settings: Settings


def _env(settings: Settings) -> dict[str, str]:
    return {
        "PRM_ENVIRONMENT": "test",
        "PRM_FHIR_BASE_URL": settings.fhir_base_url,
        "PRM_REDIS_URL": settings.redis_url,
        "PRM_QUEUE_NAME": settings.queue_name,
        "PRM_LOAD_CONFORMANCE_ON_STARTUP": "false",
        "PRM_CHANGE_FEED_SUBSCRIBE_ON_STARTUP": "false",
        "PRM_TRANSCRIPTION_ENGINE": "none",
        "PRM_PUBLIC_BASE_URL": PUBLIC_URL,
        "PRM_TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "PRM_AUTH_FAILURE_LIMIT": "1000/minute",
        "PRM_RATE_LIMIT_PER_KEY": "100000/minute",
        "PRM_API_KEYS": json.dumps(
            [
                {"key": ADMIN_KEY, "role": "admin", "user": "admin@test"},
                {"key": STAFF_KEY, "role": "staff", "user": "reception@test"},
            ]
        ),
        "PRM_LOG_JSON": "true",
        "PRM_LOG_LEVEL": "INFO",
        # The sweep starts from a minute ago, not from the whole session's changes in the shared HAPI.
        "PRM_CHANGE_FEED_LOOKBACK_SECONDS": "60",
    }


@pytest.fixture(scope="module")
def replicas(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    """Two `uvicorn` API processes and two `python -m workers` processes on one Redis of their own (its
    queue, change-feed cursor and de-duplication marks are theirs alone) and the session's HAPI."""
    logs = tmp_path_factory.mktemp("workers")
    redis = start_redis(logs / "redis")
    own = settings.model_copy(update={"redis_url": redis.url})
    env = _env(own)
    servers: list[Server] = [redis, *(start_api(env, free_port()) for _ in range(2))]
    workers: list[subprocess.Popen[bytes]] = []
    paths = tuple(logs / f"worker-{i}.log" for i in range(WORKER_COUNT))
    try:
        for path in paths:
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "workers"],
                    cwd=ROOT,
                    env={**os.environ, **env},
                    stdout=path.open("wb"),
                    stderr=subprocess.STDOUT,
                )
            )
        yield Replicas(apis=(servers[1].url, servers[2].url), worker_logs=paths, settings=own)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        for server in reversed(servers):
            server.stop()


async def test_twenty_racers_for_one_slot_across_two_apis_book_it_once(
    replicas: Replicas,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    clinic: Clinic,
    fhir: FhirClient,
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    slot = (await free_slots(api, staff, doctor))[0]["id"]
    patients = await asyncio.gather(*(make_patient(api, staff) for _ in range(20)))

    async with httpx.AsyncClient(timeout=60) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    f"{replicas.apis[i % 2]}/api/v1/appointments",
                    json={"slot": slot, "patient": p["id"], "reason": "checkup"},
                    headers=bearer(STAFF_KEY),
                )
                for i, p in enumerate(patients)
            )
        )

    assert sorted(r.status_code for r in responses) == [201] + [409] * 19
    assert {r.json()["error"] for r in responses if r.status_code == 409} == {"slot_taken"}
    booked = await fhir.search("Appointment", {"slot": f"Slot/{slot}", "status": "booked"})
    assert len(booked) == 1


async def test_one_patient_into_two_overlapping_slots_on_two_apis_is_booked_once(
    replicas: Replicas,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    clinic: Clinic,
    fhir: FhirClient,
) -> None:
    first = await make_practitioner(api, admin, clinic)
    second = await make_practitioner(api, admin, clinic)
    slots = {s["start"]: s["id"] for s in await free_slots(api, staff, second)}
    start, slot_b = next(
        (s["start"], slots[s["start"]]) for s in await free_slots(api, staff, first) if s["start"] in slots
    )
    slot_a = next(s["id"] for s in await free_slots(api, staff, first) if s["start"] == start)
    patient = await make_patient(api, staff)

    async with httpx.AsyncClient(timeout=60) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    f"{base}/api/v1/appointments",
                    json={"slot": slot, "patient": patient["id"], "reason": "checkup"},
                    headers=bearer(STAFF_KEY),
                )
                for base, slot in zip(replicas.apis, (slot_a, slot_b), strict=True)
            )
        )

    assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
    assert [r.json()["error"] for r in responses if r.status_code == 409] == ["patient_busy"]
    booked = await fhir.search("Appointment", {"patient": f"Patient/{patient['id']}", "status": "booked"})
    assert len(booked) == 1


async def test_concurrent_registrations_of_one_phone_on_two_apis_create_one_patient(
    replicas: Replicas, fhir: FhirClient
) -> None:
    e164 = phone()

    async with httpx.AsyncClient(timeout=60) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    f"{replicas.apis[i % 2]}/api/v1/patients",
                    json={"name": person_name(), "phone": e164},
                    headers=bearer(STAFF_KEY),
                )
                for i in range(10)
            )
        )

    assert {r.status_code for r in responses} <= {200, 201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(await fhir.search("Patient", {"identifier": f"{SID_PHONE}|{e164}"})) == 1


async def test_a_webhook_replayed_to_both_apis_is_stored_once_by_two_workers(
    replicas: Replicas, fhir: FhirClient
) -> None:
    form = inbound_form(sender=phone(), text="replayed across replicas")
    headers = signed_headers(TWILIO_AUTH_TOKEN, f"{PUBLIC_URL}{INBOUND_PATH}", form)

    async with httpx.AsyncClient(timeout=60) as client:
        responses = await asyncio.gather(
            *(
                client.post(f"{replicas.apis[i % 2]}{INBOUND_PATH}", data=form, headers=headers)
                for i in range(10)
            )
        )

    assert {r.status_code for r in responses} == {200}
    stored: list[dict[str, Any]] = []
    # The workers may first work through the changes the earlier tests made (the sweep's minute).
    deadline = time.monotonic() + 240
    while not stored and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        stored = await communications(fhir, form["MessageSid"])
    await asyncio.sleep(3)  # a second copy, if any worker were to store one, would be there by now
    assert len(await communications(fhir, form["MessageSid"])) == 1


def _runs(paths: tuple[Path, ...], prefix: str) -> dict[str, list[int]]:
    """Which worker (by index) started each job whose id starts with `prefix`, from the JSON logs."""
    runs: dict[str, list[int]] = {}
    for index, path in enumerate(paths):
        for line in path.read_text(errors="replace").splitlines():
            if not line.startswith("{"):
                continue
            event = json.loads(line)
            job_id = event.get("job_id") or ""
            if event.get("event") == "job.started" and job_id.startswith(prefix):
                runs.setdefault(job_id, []).append(index)
    return runs


async def test_periodic_jobs_run_once_per_period_with_two_workers(replicas: Replicas) -> None:
    # Both workers tick the same schedule every 10 s; each period's job id is queued and run once.
    await asyncio.sleep(SCHEDULE_WATCH_SECONDS)

    sweeps = _runs(replicas.worker_logs, "change-sweep-")
    assert len(sweeps) >= 2, "the change-feed sweep ran in at least two periods"
    assert all(len(workers) == 1 for workers in sweeps.values()), sweeps
