"""Fixtures of the /fhir tests: the API under a real uvicorn, HAPI's log file, profiled test data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from app.main import create_app
from tests.support.live import serve
from tests.support.servers import Server


@pytest.fixture(scope="session")
def live_api(settings: Settings) -> Iterator[int]:
    """The port of the API served by uvicorn on 127.0.0.1 (the session's HAPI and Redis)."""
    with serve(create_app(settings)) as port:
        yield port


@pytest.fixture(scope="session")
def hapi_log(workdir: Path, hapi: Server) -> Path:
    """The log file of the HAPI this session started (tests/support/servers.py writes it)."""
    if hapi.process is None:
        # A HAPI given by PRM_TEST_FHIR_BASE_URL: its log is wherever PRM_TEST_HAPI_LOG says.
        if given := os.environ.get("PRM_TEST_HAPI_LOG"):
            return Path(given)
        pytest.skip("HAPI was not started by this session and PRM_TEST_HAPI_LOG is not set")
    return workdir / "hapi.log"


@pytest.fixture(scope="session")
def hapi_url(settings: Settings) -> str:
    """HAPI's own base URL (for side-by-side comparisons; clients never use it)."""
    return settings.fhir_base_url
