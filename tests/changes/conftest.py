"""The change feed against the real HAPI and Redis: the API runs as a uvicorn process HAPI can call."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr
from redis import Redis

from app.changes.registry import registry
from app.changes.subscriptions import remove_subscriptions, subscription_id, wait_until_active
from app.config import Settings
from app.fhir.client import FhirClient
from tests.changes.support import WATCHED, Recorder, run_jobs, worker_env
from tests.support.servers import Server, free_port, start_api

LIVE_TIMEOUT_SECONDS = 90


class FeedApi:
    """The API process receiving HAPI's deliveries; stop() / start() simulate an outage."""

    def __init__(self, settings: Settings, port: int) -> None:
        self.settings, self.port = settings, port
        self.server: Server | None = None

    def start(self) -> None:
        self.server = start_api(worker_env(self.settings), self.port)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


@pytest.fixture(scope="session")
def feed_settings(settings: Settings) -> Settings:
    """This run's own endpoint (a free port), secret and queue, so a shared HAPI stays unconfused."""
    run = uuid.uuid4().hex[:10]
    port = free_port()
    return settings.model_copy(
        update={
            "change_feed_endpoint": f"http://127.0.0.1:{port}/internal/changes",
            "change_feed_secret": SecretStr(f"test-feed-{run}"),
            "change_feed_types": [WATCHED],
            "queue_name": f"changes-{run}",
        }
    )


async def _wait_until_live(fhir: FhirClient, settings: Settings) -> None:
    """Write probes until one reaches the receiver: HAPI matches a new Subscription a little after
    it reports it active."""
    redis = Redis.from_url(settings.redis_url)
    deadline = time.monotonic() + LIVE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        probe = await fhir.create({"resourceType": WATCHED, "code": {"text": "change-feed-probe"}})
        for _ in range(20):
            if redis.exists(f"prm:ingress:changes:seen:{WATCHED}/{probe['id']}/1"):
                await asyncio.to_thread(run_jobs, settings)
                return
            await asyncio.sleep(0.25)
    raise TimeoutError("HAPI never delivered to the test receiver")


@pytest.fixture(scope="session")
async def feed_api(feed_settings: Settings, fhir: FhirClient) -> AsyncIterator[FeedApi]:
    """The API on its port, its Subscription active and delivering; removed from HAPI afterwards."""
    port = int(feed_settings.change_feed_endpoint.split(":")[2].split("/")[0])
    api = FeedApi(feed_settings, port)
    api.start()
    try:
        await wait_until_active(
            fhir, [subscription_id(WATCHED, feed_settings.change_feed_endpoint)], timeout_seconds=60
        )
        await _wait_until_live(fhir, feed_settings)
        yield api
    finally:
        api.stop()
        await remove_subscriptions(fhir, feed_settings.change_feed_endpoint)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """A handler for the watched type, registered for one test."""
    handler = Recorder()
    registry.register(WATCHED, handler)
    yield handler
    registry.unregister(WATCHED, handler)
