"""Change feed lag: from a write straight into HAPI to the start of the registered handler, by rest-hook
(the API as a real uvicorn process HAPI calls) and by a sweep run right after the writes (receiver down)."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

from pydantic import SecretStr
from redis import Redis

from app.changes.model import Change
from app.changes.registry import ChangeContext, registry
from app.changes.subscriptions import remove_subscriptions, subscription_id, wait_until_active
from app.config import Settings
from app.fhir.client import FhirClient
from app.ports.jobs import Job
from bench.support import Timing, report, servers
from tests.changes.support import WATCHED, ThreadWorker, environment, worker_env
from tests.support.servers import free_port, start_api
from workers.queue import RqJobQueue, lane_queues

WRITES = 50
# Writes are spaced like a busy clinic's, not a flood (HAPI delivers on a 1 s cycle).
WRITE_INTERVAL_SECONDS = 0.1
TIMEOUT_SECONDS = 120


class Stamps:
    """Handler start times (perf_counter) per resource id: the handler under measurement."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.__name__ = "bench_stamps"

    async def __call__(self, change: Change, *, context: ChangeContext) -> None:
        """Record when the first handling of this id began."""
        self.started.setdefault(change.id, time.perf_counter())


def _work_until(settings: Settings, stop: threading.Event) -> None:
    """A worker in this process (so the handler is registered in it), polling for jobs."""
    redis = Redis.from_url(settings.redis_url)
    with environment(worker_env(settings)):
        while not stop.is_set():
            queues = lane_queues(redis, settings.queue_name)
            if any(queue.count for queue in queues):
                ThreadWorker(queues, connection=redis).work(burst=True, logging_level="WARNING")
            else:
                time.sleep(0.02)


async def _write(fhir: FhirClient, tag: str) -> dict[str, float]:
    written: dict[str, float] = {}
    for _ in range(WRITES):
        created = await fhir.create({"resourceType": WATCHED, "code": {"text": tag}})
        written[created["id"]] = time.perf_counter()
        await asyncio.sleep(WRITE_INTERVAL_SECONDS)
    return written


async def _lags(name: str, stamps: Stamps, written: dict[str, float]) -> Timing:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while not set(written) <= set(stamps.started) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    missing = set(written) - set(stamps.started)
    if missing:
        raise RuntimeError(f"{name}: {len(missing)} of {len(written)} writes never reached the handler")
    return Timing(name, [stamps.started[i] - written[i] for i in written])


async def _sweep_now(settings: Settings) -> None:
    queue = RqJobQueue(settings.redis_url, queue_name=settings.queue_name)
    await queue.enqueue(Job.SWEEP_CHANGES, {}, job_id=f"bench-sweep-{uuid.uuid4().hex}")


async def run(fhir_url: str, redis_url: str) -> None:
    """Measure and print."""
    port, run_id = free_port(), uuid.uuid4().hex[:8]
    settings = Settings(
        environment="test",
        fhir_base_url=fhir_url,
        redis_url=redis_url,
        queue_name=f"bench-changes-{run_id}",
        change_feed_endpoint=f"http://127.0.0.1:{port}/internal/changes",
        change_feed_secret=SecretStr(f"bench-{run_id}"),
        change_feed_types=[WATCHED],
    )
    fhir = FhirClient(fhir_url)
    stamps, stop = Stamps(), threading.Event()
    registry.register(WATCHED, stamps)
    worker = threading.Thread(target=_work_until, args=(settings, stop), daemon=True)
    api = start_api(worker_env(settings), port)
    try:
        await wait_until_active(
            fhir, [subscription_id(WATCHED, settings.change_feed_endpoint)], timeout_seconds=60
        )
        worker.start()
        await _write(fhir, "bench warm-up")  # HAPI matches a new Subscription shortly after "active"
        await asyncio.sleep(5)
        await _sweep_now(settings)  # sets the cursor, so the measured sweep reads only the window
        await asyncio.sleep(3)
        stamps.started.clear()
        rest_hook = await _lags("write -> handler, rest-hook", stamps, await _write(fhir, "bench rest-hook"))
        api.stop()  # the receiver is down: only the sweep can see these
        await asyncio.sleep(1)
        written = await _write(fhir, "bench sweep")
        await _sweep_now(settings)
        sweep = await _lags("write -> handler, sweep run right after the writes", stamps, written)
    finally:
        stop.set()
        api.stop()
        registry.unregister(WATCHED, stamps)
        await remove_subscriptions(fhir, settings.change_feed_endpoint)
        await fhir.aclose()
    report(f"Change feed lag, {WRITES} writes each", [], [rest_hook, sweep])
    print(
        f"\nWorst case without rest-hook: the sweep cadence (every 30 s, workers/schedule.py) "
        f"plus one sweep; the overlap window is {settings.change_feed_overlap_seconds} s."
    )


def main() -> None:
    """Run against PRM_BENCH_* servers or fresh ones."""
    with servers() as (fhir_url, redis_url):
        asyncio.run(run(fhir_url, redis_url))


if __name__ == "__main__":
    main()
