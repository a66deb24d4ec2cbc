"""FastAPI dependencies: `Annotated` aliases over the one Services object the lifespan built."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from app.config import Settings
from app.fhir.client import FhirClient
from app.ports.jobs import JobQueue
from app.ports.state import StateStore

if TYPE_CHECKING:  # the composition root imports every capability; routers must not, even indirectly
    from app.services import Services


def services(request: Request) -> Services:
    """The Services built by the app's lifespan (app.main)."""
    built: Services = request.app.state.services
    return built


# The dependencies are `async def` though they never await: FastAPI runs a plain `def` dependency in
# its thread pool, a thread hand-off each per request (about 2 ms of a booking's 5 dependencies).


async def _fhir(request: Request) -> FhirClient:
    return services(request).fhir


async def _queue(request: Request) -> JobQueue:
    return services(request).queue


async def _state(request: Request) -> StateStore:
    return services(request).state


async def _settings(request: Request) -> Settings:
    return services(request).settings


async def _now(request: Request) -> datetime:
    return services(request).clock.now()


Fhir = Annotated[FhirClient, Depends(_fhir)]
Queue = Annotated[JobQueue, Depends(_queue)]
State = Annotated[StateStore, Depends(_state)]
AppSettings = Annotated[Settings, Depends(_settings)]
# The clock's instant; a dependency so that one request uses one "now" throughout.
Now = Annotated[datetime, Depends(_now)]
