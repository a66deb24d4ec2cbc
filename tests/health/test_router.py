"""/health and /ready, including a real Redis going down."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from tests.conftest import make_settings, started
from tests.support.servers import free_port, start_redis

pytestmark = pytest.mark.integration


async def test_health_answers_without_auth(api: httpx.AsyncClient) -> None:
    response = await api.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_both_dependencies_up_with_latency(api: httpx.AsyncClient) -> None:
    response = await api.get("/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["dependencies"]["fhir"]["status"] == "up"
    assert body["dependencies"]["redis"]["status"] == "up"
    assert body["dependencies"]["fhir"]["latency_ms"] >= 0
    assert body["dependencies"]["redis"]["latency_ms"] >= 0


async def test_ready_names_redis_when_it_stops(settings: Settings, tmp_path: Path) -> None:
    own_redis = start_redis(tmp_path / "redis")
    app = create_app(make_settings(fhir_base_url=settings.fhir_base_url, redis_url=own_redis.url))
    try:
        async for client in started(app):
            assert (await client.get("/ready")).status_code == 200

            own_redis.stop()
            response = await client.get("/ready")

            assert response.status_code == 503
            assert response.json()["status"] == "unavailable: redis"
            assert response.json()["dependencies"]["redis"]["status"] == "down"
            assert response.json()["dependencies"]["fhir"]["status"] == "up"
    finally:
        own_redis.stop()


async def test_ready_names_fhir_when_hapi_is_down(settings: Settings) -> None:
    dead_fhir = f"http://127.0.0.1:{free_port()}/fhir"
    app = create_app(make_settings(fhir_base_url=dead_fhir, redis_url=settings.redis_url))
    async for client in started(app):
        response = await client.get("/ready")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable: fhir"
    assert response.json()["dependencies"]["fhir"]["status"] == "down"


async def test_unknown_route_is_404_in_the_error_shape(api: httpx.AsyncClient) -> None:
    response = await api.get("/no/such/route")

    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "Not Found"}
