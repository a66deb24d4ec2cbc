"""Load test of the production topology: locust drives the clinic's mixed workload (bench/locustfile.py)
against API replicas and workers on one HAPI (on PostgreSQL unless PRM_BENCH_FHIR_BASE_URL is given)
and one Redis. Reports per operation throughput and p50/p99 at each user count, errors and double
bookings, then API scaling (1 vs 2 replicas, same users) and worker scaling (1 vs 2 workers draining
the same burst of WhatsApp messages), all in one run."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis

from app.demo.seed import demo_directory
from app.fhir.client import FhirClient
from bench.support import machine, wait_for_quiet, workers
from tests.support.servers import ROOT, Server, free_port, run_hapi, start_api, start_postgres, start_redis
from tests.support.twilio import INBOUND_PATH, inbound_form, signed_headers

STAFF_KEY = "load-staff-key"
TWILIO_TOKEN = "load-twilio-token"
PUBLIC_URL = "http://prm.load.test"
LOCUSTFILE = ROOT / "bench" / "locustfile.py"
ACTIVE = "pending,booked,arrived,checked-in,fulfilled"
# How often the queues are polled while waiting for the workers to finish.
QUIET_POLL_SECONDS = 0.25


@dataclass(frozen=True)
class Row:
    """One operation's figures from a locust run."""

    name: str
    requests: int
    failures: int
    per_second: float
    p50_ms: float
    p99_ms: float


def _env(fhir_url: str, redis_url: str, queue: str) -> dict[str, str]:
    return {
        "PRM_ENVIRONMENT": "test",
        "PRM_FHIR_BASE_URL": fhir_url,
        "PRM_REDIS_URL": redis_url,
        "PRM_QUEUE_NAME": queue,
        "PRM_LOAD_CONFORMANCE_ON_STARTUP": "false",
        # HAPI cannot reach the made-up public address; the periodic sweep reads the change feed.
        "PRM_CHANGE_FEED_SUBSCRIBE_ON_STARTUP": "false",
        "PRM_TRANSCRIPTION_ENGINE": "none",
        "PRM_PUBLIC_BASE_URL": PUBLIC_URL,
        "PRM_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "PRM_AUTH_FAILURE_LIMIT": "100000/minute",
        "PRM_RATE_LIMIT_PER_KEY": "1000000/minute",
        "PRM_API_KEYS": json.dumps([{"key": STAFF_KEY, "role": "staff", "user": "load@bench"}]),
        "PRM_LOG_LEVEL": "WARNING",
    }


@contextmanager
def _fhir(tmp: Path) -> Iterator[str]:
    """HAPI for the run: PRM_BENCH_FHIR_BASE_URL, or a fresh one on a fresh PostgreSQL."""
    if url := os.environ.get("PRM_BENCH_FHIR_BASE_URL"):
        yield url.rstrip("/")
        return
    database = start_postgres(tmp)
    hapi = run_hapi(tmp, env={**os.environ, "PRM_HAPI_DB": "postgres", "PRM_HAPI_DB_URL": database.url},
                    needs=(database,))  # fmt: skip
    try:
        yield hapi.url
    finally:
        hapi.stop()


@contextmanager
def _apis(env: dict[str, str], count: int) -> Iterator[list[str]]:
    started: list[Server] = []
    try:
        for _ in range(count):
            started.append(start_api(env, free_port()))
        yield [server.url for server in started]
    finally:
        for server in started:
            server.stop()


def _seed(env: dict[str, str], api: str, patients: int) -> dict[str, list[Any]]:
    """The demo clinic, then `patients` registered patients; the locust fixture."""
    subprocess.run([sys.executable, "-m", "app.demo"], env={**os.environ, **env}, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    registered = []
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {STAFF_KEY}"}, timeout=60) as client:
        for i in range(patients):
            phone = f"+9197{uuid.uuid4().int % 10**8:08d}"
            answer = client.post("/api/v1/patients", json={"name": f"Load Patient {i}", "phone": phone})
            answer.raise_for_status()
            registered.append({"id": answer.json()["id"], "phone": phone})
    specialties = sorted({doctor["specialty"] for doctor in demo_directory()["practitioners"]})
    return {"patients": registered, "specialties": specialties}


def _locust(hosts: list[str], fixture: Path, users: int, seconds: int, prefix: Path) -> list[Row]:
    env = {**os.environ, "PRM_LOAD_HOSTS": ",".join(hosts), "PRM_LOAD_KEY": STAFF_KEY,
           "PRM_LOAD_TWILIO_TOKEN": TWILIO_TOKEN, "PRM_LOAD_PUBLIC_URL": PUBLIC_URL,
           "PRM_LOAD_FIXTURE": str(fixture)}  # fmt: skip
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
               "-u", str(users), "-r", str(min(users, 20)), "-t", f"{seconds}s", "--csv", str(prefix),
               "--stop-timeout", "10", "--loglevel", "WARNING"]  # fmt: skip
    # locust exits 1 when any request failed; the failures are in the figures, its own report in the log.
    with Path(f"{prefix}.log").open("wb") as log:
        subprocess.run(command, env=env, cwd=ROOT, check=False, stdout=log, stderr=subprocess.STDOUT)
    with Path(f"{prefix}_stats.csv").open() as stats:
        return [
            Row(
                name=row["Name"],
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                per_second=float(row["Requests/s"]),
                p50_ms=float(row["50%"]),
                p99_ms=float(row["99%"]),
            )
            for row in csv.DictReader(stats)
        ]


def _print(title: str, rows: list[Row]) -> None:
    print(
        f"\n### {title}\n\n| operation | requests | failures | req/s | p50 ms | p99 ms |\n|---|---|---|---|---|---|"
    )
    for row in rows:
        print(
            f"| {row.name} | {row.requests} | {row.failures} | {row.per_second:.1f} | {row.p50_ms:.0f} | {row.p99_ms:.0f} |"
        )


def _total(rows: list[Row]) -> Row:
    return next(row for row in rows if row.name == "Aggregated")


async def _double_bookings(fhir_url: str) -> tuple[int, int]:
    """(active appointments, slots held by more than one of them)."""
    fhir = FhirClient(fhir_url, timeout_seconds=120)
    try:
        found = await fhir.search("Appointment", {"status": ACTIVE, "_elements": "slot", "_count": "1000"})
    finally:
        await fhir.aclose()
    holders = Counter(ref["reference"] for appointment in found for ref in appointment.get("slot", []))
    return len(found), sum(1 for count in holders.values() if count > 1)


def _drain(env: dict[str, str], api: str, phones: list[str], burst: int, worker_count: int) -> float:
    """Messages per second `worker_count` ready workers handle from a burst of `burst` WhatsApp messages."""
    queue = env["PRM_QUEUE_NAME"]
    store = redis.Redis.from_url(env["PRM_REDIS_URL"])
    url = f"{PUBLIC_URL}{INBOUND_PATH}"
    with workers(env, worker_count), httpx.Client(base_url=api, timeout=60) as client:
        while int(store.scard(f"rq:workers:{queue}")) < worker_count:
            time.sleep(0.25)
        started = time.perf_counter()
        for i in range(burst):
            form = inbound_form(sender=phones[i % len(phones)], text="hi")
            client.post(
                INBOUND_PATH, data=form, headers=signed_headers(TWILIO_TOKEN, url, form)
            ).raise_for_status()
        # Queued and being worked alike: answers enqueue their sends.
        return burst / (wait_for_quiet(store, queue, poll_seconds=QUIET_POLL_SECONDS) - started)


def run(users: list[int], seconds: int, patients: int, burst: int) -> None:
    """Seed, load at each user count, then the scaling runs; print markdown tables."""
    with tempfile.TemporaryDirectory(prefix="prm-load-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        fhir_url = stack.enter_context(_fhir(work))
        redis_server = start_redis(work / "redis")
        stack.callback(redis_server.stop)
        env = _env(fhir_url, redis_server.url, f"load-{uuid.uuid4().hex[:6]}")
        apis = stack.enter_context(_apis(env, 2))
        started = time.perf_counter()
        fixture = _seed(env, apis[0], patients)
        (work / "fixture.json").write_text(json.dumps(fixture))
        print(f"# Load test, {machine()}, load average {os.getloadavg()[0]:.1f} at start")
        print(f"seeded the demo clinic and {patients} patients in {time.perf_counter() - started:.0f} s")
        with workers(env, 2):
            for count in users:
                rows = _locust(apis, work / "fixture.json", count, seconds, work / f"u{count}")
                _print(f"{count} users, 2 API replicas, 2 workers, {seconds} s", rows)
            middle = users[len(users) // 2]
            one = _total(_locust(apis[:1], work / "fixture.json", middle, seconds, work / "one-api"))
            two = _total(_locust(apis, work / "fixture.json", middle, seconds, work / "two-apis"))
            store = redis.Redis.from_url(env["PRM_REDIS_URL"])
            wait_for_quiet(store, env["PRM_QUEUE_NAME"], poll_seconds=QUIET_POLL_SECONDS)
        print(
            f"\nAPI scaling at {middle} users: 1 replica {one.per_second:.1f} req/s (p50 {one.p50_ms:.0f} ms), "
            f"2 replicas {two.per_second:.1f} req/s (p50 {two.p50_ms:.0f} ms): x{two.per_second / one.per_second:.2f}"
        )
        phones = [patient["phone"] for patient in fixture["patients"]]
        single = _drain(env, apis[0], phones, burst, 1)
        double = _drain(env, apis[0], phones, burst, 2)
        print(
            f"worker scaling, {burst} WhatsApp messages: 1 worker {single:.1f} msg/s, 2 workers {double:.1f} msg/s: "
            f"x{double / single:.2f}"
        )
        active, doubled = asyncio.run(_double_bookings(fhir_url))
        print(f"active appointments {active}, slots booked twice: {doubled}")
        print(f"load average {os.getloadavg()[0]:.1f} at end")


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", default="10,50,100", help="user counts, comma-separated")
    parser.add_argument("--seconds", type=int, default=60, help="duration of each locust run")
    parser.add_argument("--patients", type=int, default=300, help="patients registered before the runs")
    parser.add_argument("--burst", type=int, default=100, help="WhatsApp messages for the worker scaling")
    args = parser.parse_args()
    run([int(n) for n in args.users.split(",")], args.seconds, args.patients, args.burst)


if __name__ == "__main__":
    main()
