"""Pure tests: no servers. The session's autouse conformance fixture would start HAPI; not here."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def conformance() -> None:
    """Overrides tests/conftest.py's: pure tests load nothing into any server."""
    return None
