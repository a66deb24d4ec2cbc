"""Acknowledged means durable (DESIGN.md invariant 8): Redis as every run path starts it (append-only,
fsync on every write) keeps each acknowledged job through a SIGKILL."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue

from app.ports.jobs import Job
from tests.support.servers import start_redis
from workers.queue import RqJobQueue

pytestmark = pytest.mark.integration

JOBS = 200
QUEUE = "durability"


async def test_every_acknowledged_job_survives_a_sigkill(tmp_path: Path) -> None:
    first = start_redis(tmp_path)
    try:
        queue = RqJobQueue(first.url, queue_name=QUEUE)
        acknowledged = [
            await queue.enqueue(Job.HANDLE_CHANGE, {"n": n}, job_id=f"durable-{n}") for n in range(JOBS)
        ]
    finally:
        assert first.process is not None
        first.process.send_signal(signal.SIGKILL)  # no shutdown, no final save: only what was fsynced
        first.process.wait(timeout=10)

    second = start_redis(tmp_path)
    try:
        stored = Queue(QUEUE, connection=Redis.from_url(second.url)).job_ids
    finally:
        second.stop()

    assert len(acknowledged) == JOBS
    assert sorted(stored) == sorted(acknowledged)
