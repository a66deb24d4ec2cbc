"""Pure tests: no HAPI, no Redis (overrides the session's autouse conformance load)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def conformance() -> None:
    """Nothing to load: these tests start no server."""
