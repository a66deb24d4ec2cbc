"""Fuzz the OpenAPI with schemathesis (fixed seed, bounded): no 5xx, conforming bodies, documented statuses.

Runs in-process against the demo clinic, once with the admin key and once with the staff key,
over every operation except the FHIR pass-through (its own suite) and the audio upload.
Every failure is collected and printed (operation, status, reason), not only the first.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
import schemathesis
import structlog
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from app.config import Settings
from app.logging import configure_logging
from app.main import create_app
from tests.conftest import ADMIN_KEY, STAFF_KEY, bearer, make_settings

pytestmark = pytest.mark.integration

# Examples per operation and key: valid inputs, then invalid ones (which must get a 4xx).
# 25 per operation in all; 50 doubled the run to 6 minutes on 2 shared cores.
EXAMPLES = {schemathesis.GenerationMode.POSITIVE: 15, schemathesis.GenerationMode.NEGATIVE: 10}
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
EXCLUDED_PATH_REGEX = r"^/fhir"
# The event stream never ends by itself (tests/inbox/test_events.py reads it over a real server).
EXCLUDED_PATHS = ["/api/v1/assistant/interpret-audio", "/api/v1/events"]


@dataclass(frozen=True)
class Found:
    """One distinct failure: where, what status, why (generated data, so no PHI concern)."""

    operation: str
    status: int | None
    reason: str

    def __str__(self) -> str:
        return f"{self.operation} -> {self.status}: {self.reason}"


@pytest.fixture(scope="module")
def fuzz_app(settings: Settings, demo_clinic: None) -> Iterator[FastAPI]:
    # Its own app: schemathesis runs it (and its lifespan) on its own event loop thread.
    # make_settings lifts the per-key limit, so the fuzzer is not answered 429 half-way through.
    yield create_app(
        make_settings(
            fhir_base_url=settings.fhir_base_url,
            redis_url=settings.redis_url,
            log_level="WARNING",
        )
    )
    # Logging is configured per process: the tests after this module (it runs first) log at INFO.
    configure_logging(level=settings.log_level, json=settings.log_json)


def _titles(error: BaseException) -> Iterator[str]:
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from _titles(inner)
    else:
        yield error.title if isinstance(error, Failure) else type(error).__name__


def _error_type(logged: list[dict[str, Any]], request_id: str) -> str:
    """The exception class the app logged for a request (its one `http.request.completed` line)."""
    types = [e.get("error_type") for e in logged if e.get("request_id") == request_id]
    return next((str(t) for t in types if t), "?")


def fuzz_operation(
    operation: schemathesis.APIOperation, key: str, found: set[Found], logged: list[dict[str, Any]]
) -> int:
    """Run the bounded examples of one operation; record every distinct failure; return calls made."""
    calls = 0
    name = f"{operation.method.upper()} {operation.path}"
    for mode, examples in EXAMPLES.items():

        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis.settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            nonlocal calls
            calls += 1
            try:
                response = case.call(headers=bearer(key))
            except Exception as exc:  # the request could not even be sent (e.g. a header it cannot encode)
                found.add(Found(name, None, f"request not sent: {type(exc).__name__}"))
                return
            try:
                case.validate_response(response, checks=CHECKS)
            except (Failure, BaseExceptionGroup) as error:
                if response.status_code >= 500:
                    request_id = response.headers.get("x-request-id", [""])[0]
                    reason = f"server error {_error_type(logged, request_id)}"
                else:
                    reason = "; ".join(sorted(set(_titles(error))))
                found.add(Found(name, response.status_code, reason))

        # Unsatisfiable: nothing to make invalid (no parameters, no body), so no negative cases.
        with contextlib.suppress(hypothesis.errors.Unsatisfiable):
            run()
    return calls


@pytest.mark.parametrize("key", [ADMIN_KEY, STAFF_KEY], ids=["admin", "staff"])
def test_the_api_survives_fuzzing(fuzz_app: FastAPI, key: str, capsys: pytest.CaptureFixture[str]) -> None:
    schema = (
        schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
        .exclude(path_regex=EXCLUDED_PATH_REGEX)
        .exclude(path=EXCLUDED_PATHS)
    )
    found: set[Found] = set()
    started, calls, operations = time.monotonic(), 0, 0
    # The app's log lines, to name the exception behind each 500 (the response does not say).
    with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logged:
        for result in schema.get_all_operations():
            calls += fuzz_operation(result.ok(), key, found, logged)
            operations += 1

    report = "\n".join(sorted(map(str, found)))
    with capsys.disabled():
        sys.stdout.write(
            f"\nfuzz ({key.split('-')[1]} key): {operations} operations, {calls} requests, "
            f"{time.monotonic() - started:.0f} s, {len(found)} distinct failures\n{report}\n"
        )
    assert operations > 20
    assert not found, f"{len(found)} distinct failures:\n{report}"
