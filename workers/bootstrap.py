"""What a job needs, built from settings: the worker side's composition root."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import structlog

from app.config import Settings, get_settings
from app.fhir.client import FhirClient
from app.logging import configure_logging
from app.ports.jobs import JobQueue


@dataclass(frozen=True)
class JobContext:
    """Clients a job uses, closed when it ends."""

    settings: Settings
    fhir: FhirClient
    queue: JobQueue


def build_queue(settings: Settings) -> JobQueue:
    """The job queue adapter (rq on Redis) for these settings."""
    from workers.queue import RqJobQueue

    return RqJobQueue(
        settings.redis_url, queue_name=settings.queue_name, timeout_seconds=settings.redis_timeout_seconds
    )


@asynccontextmanager
async def job_context(settings: Settings | None = None) -> AsyncIterator[JobContext]:
    """Build the clients one job uses and close them afterwards."""
    settings = settings or get_settings()
    fhir = FhirClient(
        settings.fhir_base_url,
        timeout_seconds=settings.fhir_timeout_seconds,
        connect_timeout_seconds=settings.fhir_connect_timeout_seconds,
    )
    try:
        yield JobContext(settings=settings, fhir=fhir, queue=build_queue(settings))
    finally:
        await fhir.aclose()


def configure_worker_logging(settings: Settings) -> None:
    """Worker processes log like the API: JSON, dotted event names, no PHI."""
    configure_logging(level=settings.log_level, json=settings.log_json)
    structlog.contextvars.bind_contextvars(process="worker")
