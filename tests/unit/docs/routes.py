"""The API's operations as docs name them ("GET /api/v1/tickets/{id}"), for tests that keep docs true."""

from __future__ import annotations

import functools

from tests.unit.conftest import offline_app


@functools.cache
def api_operations() -> frozenset[str]:
    """Every operation of the app's OpenAPI document as "METHOD /path" (built once; ~0.3 s)."""
    paths = offline_app().openapi()["paths"]
    return frozenset(f"{method.upper()} {path}" for path, ops in paths.items() for method in ops)
