"""`python -m workers [--burst]`: run an rq worker on the PRM queue."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import structlog
from redis import Redis
from rq import Queue, Worker

from app.changes.jobs import schedule_next_sweep
from app.config import get_settings
from workers.bootstrap import build_queue, configure_worker_logging
from workers.jobs import schedule_next_horizon_run

log = structlog.get_logger(__name__)


def main() -> None:
    """Start a worker; with --burst it exits once the queue is empty."""
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="process what is queued, then exit")
    args = parser.parse_args()
    settings = get_settings()
    configure_worker_logging(settings)
    redis = Redis.from_url(settings.redis_url)
    queue = Queue(settings.queue_name, connection=redis)
    # Every worker makes sure the nightly horizon extension is queued (one job per day, by id).
    asyncio.run(
        schedule_next_horizon_run(
            build_queue(settings), now=datetime.now(UTC), tz=ZoneInfo(settings.default_timezone)
        )
    )
    # ... and the next change feed sweep (one job per period, by id; each sweep queues the next).
    asyncio.run(
        schedule_next_sweep(
            build_queue(settings), now=datetime.now(UTC), every_seconds=settings.change_feed_sweep_seconds
        )
    )
    log.info("worker.started", queue=settings.queue_name, burst=args.burst)
    Worker([queue], connection=redis).work(burst=args.burst, with_scheduler=True, logging_level="WARNING")


if __name__ == "__main__":
    main()
