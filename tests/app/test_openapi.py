"""The OpenAPI document: every route documented, secured and with its error shapes."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.integration
PUBLIC_PATHS = {"/health", "/ready", "/fhir/metadata"}


async def test_every_api_route_is_documented_with_bearer_auth_and_a_summary(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()

    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
            if path not in PUBLIC_PATHS:
                assert operation.get("security"), f"{method.upper()} {path} is not secured"


async def test_fixed_points_of_the_api_are_present(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]

    for path, method in [
        ("/api/v1/practitioners", "get"),
        ("/api/v1/patients", "get"),
        ("/api/v1/slots", "get"),
        ("/api/v1/appointments", "post"),
        ("/api/v1/appointments/{appointment_id}/cancel", "post"),
        ("/health", "get"),
        ("/ready", "get"),
    ]:
        assert method in paths[path]
    assert "409" in paths["/api/v1/appointments"]["post"]["responses"]
