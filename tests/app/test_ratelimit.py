"""Rate limits in the real Redis: wrong keys per client address, requests per key."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from app.config import ApiKey, Role, Settings
from app.main import create_app
from tests.conftest import bearer, make_settings

pytestmark = pytest.mark.integration
PER_KEY_LIMIT = 5
# Unique per run: a limit's window outlives the test in the session's Redis.
OTHER_KEY = f"rate-limit-other-key-{uuid.uuid4().hex}"


def unique_address() -> str:
    """A client address no other test (or run within the window) has used."""
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


@pytest.fixture
def key() -> str:
    return f"rate-limit-test-key-{uuid.uuid4().hex}"


@pytest.fixture
def limited_app(settings: Settings, key: str) -> FastAPI:
    return create_app(
        make_settings(
            fhir_base_url=settings.fhir_base_url,
            redis_url=settings.redis_url,
            auth_failure_limit="20/minute",
            rate_limit_per_key=f"{PER_KEY_LIMIT}/minute",
            api_keys=[
                ApiKey(key=SecretStr(key), role=Role.STAFF, user="limits@test"),
                ApiKey(key=SecretStr(OTHER_KEY), role=Role.STAFF, user="other@test"),
            ],
        )
    )


async def clients(app: FastAPI, *addresses: str) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One in-process client per client address, sharing the app's lifespan."""
    async with app.router.lifespan_context(app):
        made = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, client=(address, 4000)), base_url="http://testserver"
            )
            for address in addresses
        ]
        try:
            yield made
        finally:
            for client in made:
                await client.aclose()


async def test_after_20_wrong_keys_an_address_gets_429_even_with_a_good_key(
    limited_app: FastAPI, key: str
) -> None:
    async for attacker, neighbour in clients(limited_app, unique_address(), unique_address()):
        failures = [
            (await attacker.get("/api/v1/practitioners", headers=bearer(f"guess-{i}"))).status_code
            for i in range(20)
        ]
        blocked = await attacker.get("/api/v1/practitioners", headers=bearer("guess-21"))
        blocked_good = await attacker.get("/api/v1/practitioners", headers=bearer(key))
        blocked_fhir = await attacker.get("/fhir/Patient", headers=bearer(key))
        neighbour_good = await neighbour.get("/api/v1/practitioners", headers=bearer(key))

    assert failures == [401] * 20
    for response in (blocked, blocked_good):
        assert response.status_code == 429
        assert response.json() == {
            "error": "rate_limited",
            "message": "Too many failed authentications from this address",
        }
        assert 1 <= int(response.headers["retry-after"]) <= 60
    assert blocked_fhir.status_code == 429
    assert blocked_fhir.headers["content-type"] == "application/fhir+json"
    assert blocked_fhir.json()["issue"][0]["code"] == "throttled"
    assert neighbour_good.status_code == 200


async def test_a_key_over_its_limit_gets_429_and_other_keys_do_not(limited_app: FastAPI, key: str) -> None:
    async for (api,) in clients(limited_app, unique_address()):
        within = [
            (await api.get("/api/v1/practitioners", headers=bearer(key))).status_code
            for _ in range(PER_KEY_LIMIT)
        ]
        over = await api.get("/api/v1/practitioners", headers=bearer(key))
        other = await api.get("/api/v1/practitioners", headers=bearer(OTHER_KEY))

    assert within == [200] * PER_KEY_LIMIT
    assert over.status_code == 429
    assert over.json() == {"error": "rate_limited", "message": "Too many requests for this API key"}
    assert 1 <= int(over.headers["retry-after"]) <= 60
    assert other.status_code == 200
