"""The live event stream over a real uvicorn server and Redis pub/sub: a dashboard connected to one
API process hears of a message and a conversation change dispatched by another process's services,
and its subscription ends when it disconnects."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from adapters.redis_events import CHANNEL
from app.changes.jobs import handle_change
from app.config import Settings
from app.fhir.client import FhirClient, Resource
from app.main import create_app
from app.services import Services
from tests.clinic import make_patient
from tests.inbox.support import open_thread, receive
from tests.support.live import serve
from workers.registry import change_context

pytestmark = pytest.mark.integration

READ_TIMEOUT_SECONDS = 20


async def _dispatch(services: Services, resource: Resource) -> None:
    """Run the change job for this version, as the worker does when HAPI's rest-hook calls."""
    version = resource["meta"]["versionId"]
    await handle_change(
        resource_type=resource["resourceType"],
        resource_id=resource["id"],
        version=version,
        kind="created" if version == "1" else "updated",
        context=change_context(services),
        dedupe_ttl_seconds=60,
    )  # fmt: skip


async def _events(lines: AsyncIterator[str], wanted: str) -> dict[str, Any]:
    """The data of the next event of type `wanted` (others are skipped)."""
    kind = None
    async for line in lines:
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: ") and kind == wanted:
            data: dict[str, Any] = json.loads(line.removeprefix("data: "))
            return data
    raise AssertionError("the stream ended")


async def _subscribers(settings: Settings) -> int:
    redis = Redis.from_url(settings.redis_url)
    try:
        counts = await redis.pubsub_numsub(CHANNEL)
        return int(counts[0][1])
    finally:
        await redis.aclose()


async def test_a_dashboard_hears_of_new_messages_and_conversation_changes_by_id(
    api: httpx.AsyncClient, staff: dict[str, str], app: FastAPI, fhir: FhirClient, settings: Settings
) -> None:
    services: Services = app.state.services  # "another replica": the process that handles the change
    patient = await make_patient(api, staff)
    now = services.clock.now()
    thread = await open_thread(
        fhir, services.state, channel="whatsapp", address=patient["phone"], patient_id=patient["id"],
        at=now - timedelta(minutes=1),
    )  # fmt: skip
    before = await _subscribers(settings)

    with serve(create_app(settings)) as port:
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=READ_TIMEOUT_SECONDS) as client,
            client.stream("GET", "/api/v1/events", headers=staff) as stream,
        ):
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            async with asyncio.timeout(READ_TIMEOUT_SECONDS):
                assert await anext(lines) == ": connected"
                assert await _subscribers(settings) == before + 1

                message = await receive(
                    fhir,
                    thread_id=thread,
                    channel="whatsapp",
                    patient_id=patient["id"],
                    text="Need a refill",
                    at=now,
                )
                await _dispatch(services, message)
                created = await _events(lines, "message.created")

                assigned = await api.put(
                    f"/api/v1/conversations/{thread}/assignee", json={"user": "nurse@test"}, headers=staff
                )
                await _dispatch(services, await fhir.read("Task", thread))
                updated = await _events(lines, "conversation.updated")
        # The client went away (the server still runs): it ended the stream and dropped the subscription.
        async with asyncio.timeout(10):
            while await _subscribers(settings) != before:
                await asyncio.sleep(0.1)

    assert created == {
        "type": "message.created",
        "data": {"conversation": thread, "communication": message["id"], "direction": "inbound"},
    }
    assert assigned.status_code == 200
    assert updated == {
        "type": "conversation.updated",
        "data": {"conversation": thread, "status": "open", "assignee": "nurse@test"},
    }
    everything = json.dumps([created, updated])
    assert "refill" not in everything and patient["phone"] not in everything


async def test_the_event_stream_needs_a_staff_key(
    api: httpx.AsyncClient, integration: dict[str, str]
) -> None:
    assert (await api.get("/api/v1/events")).status_code == 401
    assert (await api.get("/api/v1/events", headers=integration)).status_code == 403
