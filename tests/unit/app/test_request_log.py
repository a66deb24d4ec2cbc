"""One log line per request; an unexpected exception is a 500 with X-Request-ID and no traceback or data."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from fastapi import FastAPI, Request

from app.logging import NoExceptionDetails
from tests.unit.conftest import offline_app, serve

NAME, PHONE, BIRTH = "Meera Krishnan", "+919844111173", "1984-02-29"
PLANTED = (NAME, "Meera", "Krishnan", PHONE, PHONE[3:], BIRTH)


def failing_app() -> FastAPI:
    app = offline_app()

    @app.post("/test-explode/{ident}", summary="test only")
    async def explode(ident: str, request: Request) -> None:
        body = await request.json()
        raise ValueError(f"cannot handle {body} for {request.query_params} at {ident}")

    return app


def lines_with(output: str, request_id: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if request_id in line]


async def test_an_unexpected_exception_is_a_500_with_request_id_and_one_log_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async for api in serve(failing_app()):
        capsys.readouterr()
        response = await api.post(
            "/test-explode/42",
            params={"name": NAME, "phone": PHONE},
            json={"name": NAME, "phone": PHONE, "birthDate": BIRTH},
            headers={"X-Request-ID": "req-explode-1"},
        )
        captured = capsys.readouterr()

    assert response.status_code == 500
    assert response.json() == {"error": "internal_error", "message": "Unexpected server error"}
    assert response.headers["x-request-id"] == "req-explode-1"
    [line] = lines_with(captured.out, "req-explode-1")
    assert {k: line[k] for k in ("event", "level", "status", "error_type", "route", "method")} == {
        "event": "http.request.completed",
        "level": "error",
        "status": 500,
        "error_type": "ValueError",
        "route": "/test-explode/{ident}",
        "method": "POST",
    }
    everything = captured.out + captured.err
    assert "Traceback" not in everything
    for secret in PLANTED:
        assert secret not in everything


async def test_a_normal_request_leaves_one_line_with_its_route_template(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async for api in serve(offline_app()):
        capsys.readouterr()
        response = await api.get("/health", headers={"X-Request-ID": "req-health-1"})
        captured = capsys.readouterr()

    assert response.headers["x-request-id"] == "req-health-1"
    [line] = lines_with(captured.out, "req-health-1")
    assert (line["event"], line["status"], line["route"]) == ("http.request.completed", 200, "/health")


async def test_an_unsafe_request_id_is_replaced() -> None:
    async for api in serve(offline_app()):
        response = await api.get("/health", headers={"X-Request-ID": "<script>" + PHONE})

    assert PHONE not in response.headers["x-request-id"]
    assert len(response.headers["x-request-id"]) == 32


def test_the_uvicorn_filter_keeps_the_message_and_drops_the_traceback() -> None:
    try:
        raise ValueError(f"birth date {BIRTH}")
    except ValueError:
        record = logging.LogRecord(
            "uvicorn.error", logging.ERROR, __file__, 1, "Exception in %s", ("ASGI",), sys.exc_info()
        )

    NoExceptionDetails().filter(record)

    formatted = logging.Formatter().format(record)
    assert formatted == "Exception in ASGI (ValueError)"
