"""The worker process's services: built once with the same `build_services` as the API, on one event
loop that every job of the process runs on (the worker is an rq SimpleWorker: no fork per job)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import structlog
from rq import get_current_job

from app.changes.registry import load_handlers
from app.config import Settings, get_settings
from app.logging import configure_logging
from app.ports.jobs import Job
from app.services import Services, build_services
from workers.registry import JOBS

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Runtime:
    """The process's event loop and services."""

    loop: asyncio.AbstractEventLoop
    services: Services


_runtime: Runtime | None = None


def runtime(settings: Settings | None = None) -> Runtime:
    """This process's runtime, built on first use."""
    global _runtime
    if _runtime is None:
        # Importing the capabilities' handler modules registers their change-feed handlers.
        load_handlers()
        _runtime = Runtime(loop=asyncio.new_event_loop(), services=build_services(settings or get_settings()))
    return _runtime


def close_runtime() -> None:
    """Close this process's services and forget them (the worker's exit; a test's in-process worker)."""
    global _runtime
    if _runtime is not None:
        _runtime.loop.run_until_complete(_runtime.services.aclose())
        _runtime.loop.close()
        _runtime = None


def perform(job: str, payload: dict[str, Any]) -> None:
    """What rq calls for every job: run its function with the process's services, ids bound to the logs."""
    name = Job(job)
    current = get_current_job()
    with structlog.contextvars.bound_contextvars(job_id=current.id if current else None, job=name.value):
        rt = runtime()
        log.info("job.started")
        rt.loop.run_until_complete(JOBS[name](rt.services, payload))
        log.info("job.finished")


def configure_worker_logging(settings: Settings) -> None:
    """Worker processes log like the API: JSON, dotted event names, no PHI."""
    configure_logging(level=settings.log_level, json=settings.log_json)
    structlog.contextvars.bind_contextvars(process="worker")
