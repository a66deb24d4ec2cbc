"""The statuses middleware and authentication can answer are documented on every operation."""

from __future__ import annotations

import functools
from typing import Any

from app.openapi import BODY_STATUSES, SECURED_STATUSES
from tests.unit.conftest import offline_app


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The app's OpenAPI document, built once for this module (building an app takes ~0.3 s)."""
    return offline_app().openapi()


ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def test_secured_operations_document_401_403_429_503_in_the_error_shape() -> None:
    spec = openapi_document()

    secured = [
        (p, m, op)
        for p, m, op in operations(spec)
        if op.get("security") and not p.startswith(("/fhir", "/webhooks"))  # webhooks: signatures
    ]
    assert len(secured) > 20
    for path, method, op in secured:
        for status in SECURED_STATUSES:
            assert op["responses"][status]["content"] == ERROR_BODY, f"{method} {path} {status}"


def test_operations_with_a_body_document_400_413_422_in_the_error_shape() -> None:
    spec = openapi_document()

    with_body = [(p, m, op) for p, m, op in operations(spec) if "requestBody" in op]
    assert with_body
    for path, method, op in with_body:
        for status in BODY_STATUSES:
            assert op["responses"][status]["content"] == ERROR_BODY, f"{method} {path} {status}"
    assert "ErrorBody" in spec["components"]["schemas"]


def test_public_operations_get_no_auth_statuses() -> None:
    responses = openapi_document()["paths"]["/health"]["get"]["responses"]

    assert set(responses) == {"200"}


def test_the_fhir_endpoint_documents_its_statuses_as_any_object() -> None:
    responses = openapi_document()["paths"]["/fhir/{path}"]["post"]["responses"]

    assert responses["429"]["content"]["application/fhir+json"] == {"schema": {"type": "object"}}
