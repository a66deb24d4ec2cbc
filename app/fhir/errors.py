"""Errors raised by the FHIR gateway, one per thing a caller can act on."""

from __future__ import annotations

from typing import Any


class FhirError(Exception):
    """HAPI answered with an error, or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None, outcome: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.outcome = outcome


class FhirNotFound(FhirError):
    """The resource does not exist (404) or was deleted (410)."""


class FhirConflict(FhirError):
    """A version conflict: a stale If-Match (HAPI answers 409, the spec says 412) or several matches."""


class FhirInvalid(FhirError):
    """HAPI rejected the content (400/422); the OperationOutcome says why."""


class FhirUnavailable(FhirError):
    """HAPI is down, timed out or failed (5xx)."""


def outcome_text(outcome: dict[str, Any] | None) -> str:
    """The diagnostics of an OperationOutcome's error issues, joined for a message."""
    if not outcome:
        return ""
    issues = outcome.get("issue", [])
    texts = [
        issue.get("diagnostics") or issue.get("details", {}).get("text", "")
        for issue in issues
        if issue.get("severity") in ("error", "fatal")
    ]
    return "; ".join(t for t in texts if t)
