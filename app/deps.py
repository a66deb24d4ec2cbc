"""FastAPI dependencies for what the composition root built (see app.main.lifespan)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis

from app.config import Settings
from app.directory.index import DirectoryCache
from app.fhir.client import FhirClient
from app.ports.jobs import JobQueue


def _fhir(request: Request) -> FhirClient:
    client: FhirClient = request.app.state.fhir
    return client


def _queue(request: Request) -> JobQueue:
    queue: JobQueue = request.app.state.queue
    return queue


def _redis(request: Request) -> Redis:
    redis: Redis = request.app.state.redis
    return redis


def _directory(request: Request) -> DirectoryCache:
    cache: DirectoryCache = request.app.state.directory
    return cache


def _now() -> datetime:
    return datetime.now(UTC)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Fhir = Annotated[FhirClient, Depends(_fhir)]
Queue = Annotated[JobQueue, Depends(_queue)]
RedisClient = Annotated[Redis, Depends(_redis)]
AppSettings = Annotated[Settings, Depends(_settings)]
Directory = Annotated[DirectoryCache, Depends(_directory)]
# The current instant; a dependency so that one request uses one "now" throughout.
Now = Annotated[datetime, Depends(_now)]
