"""Statuses that global middleware and authentication add to every operation, in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.errors import ErrorBody
from app.fhir.client import FHIR_JSON
from app.ingress import SIGNATURE_SCHEMES
from app.limits import is_fhir_path

_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
# Any secured operation: a missing or wrong key, a role without access, a rate limit, a dependency down.
SECURED_STATUSES = {
    "401": "Missing or invalid API key",
    "403": "The key's role may not do this",
    "429": "Rate limited (see Retry-After)",
    "503": "A dependency (HAPI FHIR, Redis) is unavailable",
}
# Any operation with a body: undecodable (400), too large (413), invalid (422).
BODY_STATUSES = {
    "400": "Malformed request body",
    "413": "Request body too large",
    "422": "Invalid request",
}


def document_common_errors(app: FastAPI) -> None:
    """Make `app.openapi()` list the statuses every operation can get from middleware and auth."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {}).setdefault("ErrorBody", ErrorBody.model_json_schema())
        components.setdefault("securitySchemes", {}).update(SIGNATURE_SCHEMES)
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                _add_statuses(path, operation)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise


def _add_statuses(path: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    api_key = any(
        scheme not in SIGNATURE_SCHEMES for entry in operation.get("security", []) for scheme in entry
    )
    statuses = {**(SECURED_STATUSES if api_key else {})}
    if "requestBody" in operation:
        statuses.update(BODY_STATUSES)
    if is_fhir_path(path):
        # The FHIR endpoint answers OperationOutcomes (some still in the API shape): any object.
        content = {media: {"schema": {"type": "object"}} for media in (FHIR_JSON, "application/json")}
    else:
        content = {"application/json": {"schema": _ERROR_REF}}
    for status, description in statuses.items():
        responses.setdefault(status, {"description": description, "content": content})
    if "422" in responses and not is_fhir_path(path):
        # FastAPI documents its own validation shape; the API answers ErrorBody (app.errors).
        responses["422"]["content"] = content
