"""Authentication against key hashes; with Redis down, rate limiting fails open and says so."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from app.config import ApiKey, Role, sha256_hex
from tests.conftest import bearer
from tests.unit.conftest import offline_app, serve

PLAIN_KEY = "plain-key-for-unit-tests-0123456789"
HASHED_KEY = "hashed-key-for-unit-tests-0123456789"
KEYS = [
    ApiKey(key=SecretStr(PLAIN_KEY), role=Role.ADMIN, user="plain@test"),
    ApiKey(sha256=sha256_hex(HASHED_KEY), role=Role.STAFF, user="hashed@test"),
]


@pytest.fixture(scope="module")
async def keyed() -> AsyncIterator[httpx.AsyncClient]:
    """One app with KEYS for the module (building an app takes ~0.3 s)."""
    async for api in serve(offline_app(api_keys=KEYS)):
        yield api


@pytest.mark.parametrize(("key", "user"), [(PLAIN_KEY, "plain@test"), (HASHED_KEY, "hashed@test")])
async def test_plain_and_hashed_keys_authenticate(keyed: httpx.AsyncClient, key: str, user: str) -> None:
    response = await keyed.get("/whoami", headers=bearer(key))

    assert response.status_code == 200
    assert response.json() == {"user": user}


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Missing API key: send 'Authorization: Bearer <key>'"),
        (bearer(sha256_hex(HASHED_KEY)), "Invalid API key"),
        (bearer(PLAIN_KEY[:-1]), "Invalid API key"),
        ({"Authorization": f"Basic {PLAIN_KEY}"}, "Missing API key: send 'Authorization: Bearer <key>'"),
    ],
)
async def test_a_missing_or_wrong_key_is_401(
    keyed: httpx.AsyncClient, headers: dict[str, str], message: str
) -> None:
    response = await keyed.get("/whoami", headers=headers)

    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized", "message": message}


async def test_with_redis_down_rate_limiting_fails_open_with_one_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async for api in serve(offline_app(api_keys=KEYS, auth_failure_limit="1/minute")):
        capsys.readouterr()
        wrong = [await api.get("/whoami", headers=bearer("wrong")) for _ in range(3)]
        good = await api.get("/whoami", headers=bearer(PLAIN_KEY))
        logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    assert [r.status_code for r in wrong] == [401, 401, 401]
    assert good.status_code == 200
    warnings = [line for line in logged if line["event"] == "ratelimit.unavailable"]
    # Redis is tried once, then skipped for a while instead of paying its timeout on every request.
    assert len(warnings) == 1
    assert warnings[0]["level"] == "warning"
    assert warnings[0]["error_type"] == "ConnectionError"
