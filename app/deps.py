"""FastAPI dependencies for what the composition root built (see app.main.lifespan)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis

from app.config import Settings
from app.fhir.client import FhirClient
from app.ports import JobQueue


def _fhir(request: Request) -> FhirClient:
    client: FhirClient = request.app.state.fhir
    return client


def _queue(request: Request) -> JobQueue:
    queue: JobQueue = request.app.state.queue
    return queue


def _redis(request: Request) -> Redis:
    redis: Redis = request.app.state.redis
    return redis


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Fhir = Annotated[FhirClient, Depends(_fhir)]
Queue = Annotated[JobQueue, Depends(_queue)]
RedisClient = Annotated[Redis, Depends(_redis)]
AppSettings = Annotated[Settings, Depends(_settings)]
