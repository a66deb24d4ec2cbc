"""FHIR-shaped errors: the OperationOutcome every PRM-made error on `/fhir` answers with."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.responses import Response

from app.fhir.client import FHIR_JSON

# The OperationOutcome issue code (http://hl7.org/fhir/issue-type) for each status the PRM produces.
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    413: "too-costly",
    415: "not-supported",
    429: "throttled",
    502: "exception",
    503: "transient",
}


def outcome_body(code: str, diagnostics: str) -> dict[str, object]:
    """An OperationOutcome with one error issue."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    }


def operation_outcome(
    status: int, code: str | None, diagnostics: str, *, headers: Mapping[str, str] | None = None
) -> Response:
    """A `status` response whose body is an OperationOutcome (`code` defaults from the status)."""
    body = outcome_body(code or ISSUE_CODES.get(status, "processing"), diagnostics)
    return Response(
        json.dumps(body).encode(), status_code=status, media_type=FHIR_JSON, headers=dict(headers or {})
    )
