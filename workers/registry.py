"""Every Job the workers run, mapped to its function beside its capability (`app/<capability>/jobs.py`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from app.ports.jobs import Job
from app.scheduling import jobs as scheduling
from app.services import Services

# A job gets the process's services and its payload (ids or small JSON, never PHI).
JobFunction = Callable[[Services, dict[str, Any]], Awaitable[object]]


async def _extend_slot_horizons(services: Services, payload: dict[str, Any]) -> object:
    return await scheduling.extend_slot_horizons(
        fhir=services.fhir, directory=services.directory, now=services.clock.now(), **payload
    )


async def _release_expired_holds(services: Services, payload: dict[str, Any]) -> object:
    return await scheduling.release_expired_holds(fhir=services.fhir, now=services.clock.now(), **payload)


JOBS: dict[Job, JobFunction] = {
    Job.EXTEND_SLOT_HORIZONS: _extend_slot_horizons,
    Job.RELEASE_EXPIRED_HOLDS: _release_expired_holds,
}
