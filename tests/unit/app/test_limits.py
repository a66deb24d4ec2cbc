"""Request body limits: 413 before authentication and parsing, on Content-Length at once or while reading."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable

import httpx
import pytest
from fastapi import FastAPI, Request

from app.limits import MULTIPART_OVERHEAD_BYTES, BodySizeLimit
from tests.conftest import ADMIN_KEY, STAFF_KEY, bearer
from tests.unit.conftest import offline_app, serve

API_LIMIT = 1024 * 1024
FHIR_LIMIT = 4096
AUDIO_LIMIT = 2048
TOO_LARGE = {"error": "payload_too_large", "message": f"Request body is larger than {API_LIMIT} bytes"}


def limited_app() -> FastAPI:
    app = offline_app(max_fhir_body_bytes=FHIR_LIMIT, max_audio_bytes=AUDIO_LIMIT)

    @app.post("/api/v1/test-echo", summary="test only")
    async def echo(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    return app


@pytest.fixture(scope="module")
async def limited() -> AsyncIterator[httpx.AsyncClient]:
    """One app for the module: the limits keep no state between requests."""
    async for client in serve(limited_app()):
        yield client


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A body without Content-Length (chunked transfer), `total` bytes long."""
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b"x" * piece


async def test_a_10_7_mb_body_is_refused_at_once_and_health_stays_prompt(limited: httpx.AsyncClient) -> None:
    body = b'{"name": "' + b"a" * int(10.7 * 1024 * 1024) + b'"}'

    async def timed(call: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
        started = time.perf_counter()
        response = await call
        return response, time.perf_counter() - started

    (big, big_seconds), (health, health_seconds) = await asyncio.gather(
        timed(limited.post("/api/v1/patients", content=body, headers=bearer(STAFF_KEY))),
        timed(limited.get("/health")),
    )

    assert big.status_code == 413
    assert big.json() == TOO_LARGE
    assert big.headers["connection"] == "close"
    assert big.headers["x-request-id"]
    assert big_seconds < 1.0
    assert health.status_code == 200
    assert health_seconds < 1.0


async def test_the_limit_applies_before_authentication(limited: httpx.AsyncClient) -> None:
    response = await limited.post("/api/v1/patients", content=b"{" + b" " * API_LIMIT + b"}")

    assert response.status_code == 413
    assert response.json() == TOO_LARGE


async def test_a_body_at_the_limit_is_accepted(limited: httpx.AsyncClient) -> None:
    response = await limited.post("/api/v1/test-echo", content=b"x" * API_LIMIT)

    assert response.status_code == 200
    assert response.json() == {"received": API_LIMIT}


async def test_a_chunked_body_over_the_limit_is_refused_while_reading(limited: httpx.AsyncClient) -> None:
    response = await limited.post("/api/v1/test-echo", content=chunks(API_LIMIT + 1))

    assert response.status_code == 413
    assert response.json() == TOO_LARGE


async def test_a_chunked_json_body_over_the_limit_is_413_not_a_parse_error(
    limited: httpx.AsyncClient,
) -> None:
    response = await limited.post(
        "/api/v1/patients",
        content=chunks(10 * API_LIMIT),
        headers={**bearer(STAFF_KEY), "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json() == TOO_LARGE


async def test_a_chunked_body_under_the_limit_is_read_whole(limited: httpx.AsyncClient) -> None:
    response = await limited.post("/api/v1/test-echo", content=chunks(API_LIMIT - 10, size=1000))

    assert response.status_code == 200
    assert response.json() == {"received": API_LIMIT - 10}


@pytest.mark.parametrize("chunked", [False, True])
async def test_the_fhir_endpoint_answers_an_operation_outcome(
    limited: httpx.AsyncClient, chunked: bool
) -> None:
    content = chunks(FHIR_LIMIT + 1) if chunked else b"x" * (FHIR_LIMIT + 1)

    response = await limited.post("/fhir", content=content, headers=bearer(ADMIN_KEY))

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/fhir+json"
    assert response.json() == {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "too-costly",
                "diagnostics": f"Request body is larger than {FHIR_LIMIT} bytes",
            }
        ],
    }


async def test_the_fhir_limit_is_its_own(limited: httpx.AsyncClient) -> None:
    # Over the FHIR limit is 413; under it the body reaches authentication (no key: 401).
    assert (await limited.post("/fhir/Patient", content=b"x" * FHIR_LIMIT)).status_code == 401
    assert (await limited.post("/fhir/Patient", content=b"x" * (FHIR_LIMIT + 1))).status_code == 413


async def test_the_audio_upload_gets_the_audio_limit_plus_multipart_overhead(
    limited: httpx.AsyncClient,
) -> None:
    path = "/api/v1/assistant/interpret-audio"
    allowed = AUDIO_LIMIT + MULTIPART_OVERHEAD_BYTES

    assert (await limited.post(path, content=b"x" * allowed)).status_code == 401
    too_large = await limited.post(path, content=b"x" * (allowed + 1))
    assert too_large.status_code == 413
    assert too_large.json()["message"] == f"Request body is larger than {allowed} bytes"


async def _app(scope: object, receive: object, send: object) -> None:  # never called
    raise AssertionError


def test_document_uploads_get_their_own_limit_and_nothing_else_does() -> None:
    limits = BodySizeLimit(_app, api_bytes=10, fhir_bytes=20, audio_bytes=30, document_bytes=40)

    assert limits.limit_for("/api/v1/patients/p-1/documents") == 40 + MULTIPART_OVERHEAD_BYTES
    assert limits.limit_for("/api/v1/patients/p-1/documents/d-1/content") == 10
    assert limits.limit_for("/api/v1/patients/p-1/documents/x") == 10
    assert limits.limit_for("/api/v1/patients") == 10
    assert limits.limit_for("/api/v1/assistant/interpret-audio") == 30 + MULTIPART_OVERHEAD_BYTES
    assert limits.limit_for("/fhir/Binary") == 20
