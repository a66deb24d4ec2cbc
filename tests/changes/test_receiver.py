"""The receiver in-process against the real Redis: replay, bad secret, bad input, queue or state down."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from redis import Redis
from rq import Queue

from app.config import Settings
from app.main import create_app
from app.ports.jobs import Lane
from tests.conftest import started
from tests.support.servers import free_port
from workers.queue import RqJobQueue, lane_queue_name

pytestmark = pytest.mark.integration


def _settings(feed_settings: Settings, **overrides: object) -> Settings:
    return feed_settings.model_copy(
        update={
            "change_feed_subscribe_on_startup": False,
            "queue_name": f"receiver-{uuid.uuid4().hex[:8]}",
            **overrides,
        }
    )


@pytest.fixture
async def receiver(feed_settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    settings = _settings(feed_settings)
    async for client in started(create_app(settings)):
        yield client, settings


def _auth(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.change_feed_secret.get_secret_value()}"}


def _delivery(resource_id: str, version: str = "1") -> dict[str, object]:
    return {"resourceType": "Basic", "id": resource_id, "meta": {"versionId": version}}


def _queued(settings: Settings) -> list[str]:
    feed = lane_queue_name(settings.queue_name, Lane.FEED)
    return Queue(feed, connection=Redis.from_url(settings.redis_url)).job_ids


async def test_a_replayed_notification_is_queued_once(receiver: tuple[httpx.AsyncClient, Settings]) -> None:
    client, settings = receiver
    rid = f"r{uuid.uuid4().hex[:12]}"

    first = await client.put(f"/internal/changes/Basic/{rid}", json=_delivery(rid), headers=_auth(settings))
    again = await client.put(f"/internal/changes/Basic/{rid}", json=_delivery(rid), headers=_auth(settings))

    assert (first.status_code, first.headers["X-PRM-Change-Status"]) == (200, "accepted")
    assert (again.status_code, again.headers["X-PRM-Change-Status"]) == (200, "duplicate")
    assert first.json()["resourceType"] == "OperationOutcome"
    assert _queued(settings) == [f"change-Basic-{rid}-1"]


async def test_the_version_can_come_from_if_match_or_the_path(
    receiver: tuple[httpx.AsyncClient, Settings],
) -> None:
    client, settings = receiver
    rid = f"r{uuid.uuid4().hex[:12]}"

    by_etag = await client.put(
        f"/internal/changes/Basic/{rid}", headers={**_auth(settings), "If-Match": 'W/"4"'}
    )
    by_path = await client.post(f"/internal/changes/Basic/{rid}/_history/5", headers=_auth(settings))

    assert (by_etag.status_code, by_path.status_code) == (200, 200)
    assert sorted(_queued(settings)) == [f"change-Basic-{rid}-4", f"change-Basic-{rid}-5"]


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Basic dGVzdA=="])
async def test_a_bad_secret_is_401_and_queues_nothing(
    receiver: tuple[httpx.AsyncClient, Settings], authorization: str | None
) -> None:
    client, settings = receiver
    headers = {"Authorization": authorization} if authorization else {}

    response = await client.put("/internal/changes/Basic/b1", json=_delivery("b1"), headers=headers)
    deleted = await client.delete("/internal/changes/Basic/b1", headers=headers)

    assert (response.status_code, deleted.status_code) == (401, 401)
    assert response.json()["error"] == "unauthorized"
    assert _queued(settings) == []


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/internal/changes/Basic/b1", {"resourceType": "Basic", "id": "other", "meta": {"versionId": "1"}}, "Body is not Basic/b1"),
        ("/internal/changes/Basic/b1", {"resourceType": "Basic", "id": "b1"}, "No version: send the resource with meta.versionId, or If-Match"),
        ("/internal/changes/basic/b1", _delivery("b1"), "not a FHIR resource type: 'basic'"),
        ("/internal/changes/Basic/b1", [1, 2], "Body is not a FHIR resource"),
    ],
)  # fmt: skip
async def test_bad_input_is_a_precise_422_and_queues_nothing(
    receiver: tuple[httpx.AsyncClient, Settings], path: str, body: object, message: str
) -> None:
    client, settings = receiver

    response = await client.put(path, json=body, headers=_auth(settings))

    assert response.status_code == 422
    assert response.json() == {"error": "invalid_change", "message": message}
    assert _queued(settings) == []


async def test_queue_down_is_503_and_the_retry_is_not_taken_for_a_duplicate(feed_settings: Settings) -> None:
    settings = _settings(feed_settings)
    dead = RqJobQueue(
        f"redis://127.0.0.1:{free_port()}/0", queue_name=settings.queue_name, timeout_seconds=0.5
    )
    rid = f"r{uuid.uuid4().hex[:12]}"
    async for client in started(create_app(settings, queue=dead)):
        down = await client.put(
            f"/internal/changes/Basic/{rid}", json=_delivery(rid), headers=_auth(settings)
        )
        assert down.status_code == 503
        assert down.headers["Retry-After"] == "5"
    async for client in started(create_app(settings)):
        retried = await client.put(
            f"/internal/changes/Basic/{rid}", json=_delivery(rid), headers=_auth(settings)
        )
        assert retried.headers["X-PRM-Change-Status"] == "accepted"
    assert _queued(settings) == [f"change-Basic-{rid}-1"]


async def test_state_store_down_is_503(feed_settings: Settings) -> None:
    settings = _settings(
        feed_settings, redis_url=f"redis://127.0.0.1:{free_port()}/0", redis_timeout_seconds=0.5
    )
    async for client in started(create_app(settings)):
        response = await client.put(
            "/internal/changes/Basic/b1", json=_delivery("b1"), headers=_auth(settings)
        )
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"


async def test_the_receiver_is_not_in_the_public_openapi(
    receiver: tuple[httpx.AsyncClient, Settings],
) -> None:
    client, _ = receiver

    paths = (await client.get("/openapi.json")).json()["paths"]

    assert not [p for p in paths if p.startswith("/internal")]
