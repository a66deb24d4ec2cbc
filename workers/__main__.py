"""`python -m workers [--burst] [--lanes live,feed,bulk]`: run an rq worker on the PRM's lanes, in
priority order, ticking the periodic schedule."""

from __future__ import annotations

import argparse
import asyncio
import threading
from zoneinfo import ZoneInfo

import structlog
from redis import Redis
from rq import SimpleWorker

from app.config import Settings, get_settings
from app.ports.jobs import Lane
from app.services import build_queue
from workers.bootstrap import close_runtime, configure_worker_logging, runtime
from workers.queue import lane_queues
from workers.schedule import TICK_SECONDS, tick

log = structlog.get_logger(__name__)


def _tick(settings: Settings) -> None:
    services = runtime(settings).services
    asyncio.run(tick(build_queue(settings), now=services.clock.now(), tz=ZoneInfo(settings.default_timezone)))


def _tick_forever(settings: Settings, stop: threading.Event) -> None:
    while not stop.wait(TICK_SECONDS):
        try:
            _tick(settings)
        except Exception as exc:  # a missed tick is retried at the next one
            log.warning("worker.schedule.tick_failed", error_type=type(exc).__name__)


def _lanes(text: str) -> tuple[Lane, ...]:
    """`live,feed` → those lanes, in the order given."""
    try:
        return tuple(Lane(name.strip()) for name in text.split(",") if name.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"lanes are {', '.join(Lane)}") from None


def main() -> None:
    """Start a worker; with --burst it exits once its lanes are empty."""
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="process what is queued, then exit")
    parser.add_argument(
        "--lanes",
        type=_lanes,
        default=tuple(Lane),
        help="comma-separated lanes to work, highest priority first (default: live,feed,bulk)",
    )
    args = parser.parse_args()
    settings = get_settings()
    configure_worker_logging(settings)
    _tick(settings)
    stop = threading.Event()
    if not args.burst:
        threading.Thread(target=_tick_forever, args=(settings, stop), daemon=True).start()
    redis = Redis.from_url(settings.redis_url)
    log.info("worker.started", queue=settings.queue_name, lanes=",".join(args.lanes), burst=args.burst)
    try:
        # SimpleWorker runs jobs in this process, so the services are built once, not per job.
        SimpleWorker(lane_queues(redis, settings.queue_name, args.lanes), connection=redis).work(
            burst=args.burst, with_scheduler=True, logging_level="WARNING"
        )
    finally:
        stop.set()
        close_runtime()


if __name__ == "__main__":
    main()
