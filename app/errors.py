"""Typed domain errors raised by use cases, and their one mapping onto the API's error shape:
`{"error": <code>, "message": <text>, ...details}`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.fhir.errors import FhirConflict, FhirError, FhirInvalid, FhirNotFound, FhirUnavailable
from app.ports.jobs import QueueUnavailable
from app.ports.state import StateUnavailable

log = structlog.get_logger(__name__)


class DomainError(Exception):
    """A use case refused: a stable `code` (default: the class's), a human message and details."""

    code: ClassVar[str] = "error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.error = code or self.code
        self.details = details


class NotFound(DomainError):
    """An id names nothing."""

    code = "not_found"

    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"{what} {ident!r} does not exist")


class Invalid(DomainError):
    """Input a use case cannot accept; `field` names the part at fault when there is one."""

    code = "validation_error"

    def __init__(self, field: str | None, message: str, *, code: str | None = None, **details: Any) -> None:
        if field is None:
            super().__init__(message, code=code, **details)
        else:
            fields = [{"field": field, "message": message}]
            super().__init__(f"{field}: {message}", code=code, fields=fields, **details)
        self.field = field


class TooLarge(Invalid):
    """The input is larger than the limit."""


class UnsupportedMedia(Invalid):
    """The input is not of a kind the use case reads."""


class Forbidden(DomainError):
    """The caller may not do this to this thing (someone else's plan, an admin-only option)."""

    code = "forbidden"


class Expired(DomainError):
    """The thing existed but can no longer be used."""

    code = "expired"


class Conflict(DomainError):
    """The current state forbids the change (someone else was faster, or the workflow says no)."""

    code = "conflict"


class SlotTaken(Conflict):
    """The slot is no longer free."""

    code = "slot_taken"

    def __init__(self, slot_id: str) -> None:
        super().__init__(f"Slot {slot_id!r} is no longer free", slot=slot_id)
        self.slot_id = slot_id


class PatientBusy(Conflict):
    """The patient already has an appointment at an overlapping time."""

    code = "patient_busy"

    def __init__(self, appointment_ref: str) -> None:
        super().__init__(
            f"The patient already has {appointment_ref} at an overlapping time "
            "(an admin may book anyway with force=true)",
            appointment=appointment_ref,
        )


class PatientInactive(Conflict):
    """The patient record is deactivated (or merged away): nothing is booked or sent for it."""

    code = "patient_inactive"

    def __init__(self, patient_id: str) -> None:
        super().__init__(
            f"Patient {patient_id!r} is inactive; reactivate the record first", patient=patient_id
        )


class OptedOut(Conflict):
    """The patient opted out of the channel."""

    code = "opted_out"

    def __init__(self, patient_id: str, channel: str) -> None:
        super().__init__(f"Patient/{patient_id} opted out of {channel} messages")


class MarketingOptedOut(OptedOut):
    """The patient opted out of marketing (do not disturb): no campaign message on any channel."""

    code = "marketing_opted_out"

    def __init__(self, patient_id: str) -> None:
        Conflict.__init__(self, f"Patient/{patient_id} opted out of marketing messages")


class OutsideSessionWindow(Conflict):
    """WhatsApp allows free text only within 24 hours of the patient's last message."""

    code = "outside_session_window"


class InvalidTransition(Conflict):
    """A status change the workflow does not allow; carries the ones it does."""

    code = "invalid_transition"

    def __init__(
        self, *, current: str, wanted: str, allowed: Sequence[str], what: str = "An appointment"
    ) -> None:
        super().__init__(
            f"{what} that is {current!r} cannot become {wanted!r}"
            + (f"; allowed: {', '.join(allowed)}" if allowed else "; it cannot change any more"),
            current_status=current,
            allowed=list(allowed),
        )
        self.allowed = tuple(allowed)


class Unavailable(DomainError):
    """Something the use case depends on cannot answer now; retrying later may work."""

    code = "unavailable"


class UpstreamFailed(Unavailable):
    """A third party answered, but not usefully (a language model's malformed output)."""


class NotSupported(Unavailable):
    """This deployment cannot do it at all (no speech engine configured)."""


class ApiError(Exception):
    """An HTTP-level refusal raised at the edge (authentication, roles): a status, a code and a message."""

    def __init__(
        self, status: int, error: str, message: str, *, headers: dict[str, str] | None = None, **details: Any
    ) -> None:
        super().__init__(message)
        self.headers = headers
        self.status = status
        self.error = error
        self.message = message
        self.details = details


# The one mapping from domain errors to HTTP statuses; the most specific class wins.
HTTP_STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    Invalid: 422,
    TooLarge: 413,
    UnsupportedMedia: 415,
    Forbidden: 403,
    Expired: 410,
    Conflict: 409,
    Unavailable: 503,
    UpstreamFailed: 502,
    NotSupported: 501,
}


def http_status(error: DomainError) -> int:
    """The HTTP status of a domain error."""
    return next((HTTP_STATUS[cls] for cls in type(error).__mro__ if cls in HTTP_STATUS), 400)


class ErrorBody(BaseModel):
    """The body of every error response (documented in OpenAPI)."""

    error: str
    message: str


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the error statuses a route can answer."""
    return {status: {"model": ErrorBody} for status in statuses}


def _body(error: str, message: str, **details: Any) -> dict[str, Any]:
    return {"error": error, "message": message, **details}


def install_error_handlers(app: FastAPI) -> None:
    """Map every exception the API can raise onto the one error shape."""
    # Unexpected exceptions are not handled here: `app.logging.RequestLog` turns them into a 500
    # (Starlette's own handler would re-raise them to the server, which prints a traceback).

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(_body(exc.error, exc.message, **exc.details), status_code=http_status(exc))

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            _body(exc.error, exc.message, **exc.details), status_code=exc.status, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {"field": ".".join(str(part) for part in err["loc"]), "message": err["msg"]}
            for err in exc.errors()
        ]
        message = "; ".join(f"{f['field']}: {f['message']}" for f in fields) or "invalid request"
        return JSONResponse(_body("validation_error", message, fields=fields), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            400: "bad_request",
            404: "not_found",
            405: "method_not_allowed",
            401: "unauthorized",
            403: "forbidden",
        }.get(exc.status_code, "http_error")
        return JSONResponse(
            _body(code, str(exc.detail)), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(FhirError)
    async def _fhir(_: Request, exc: FhirError) -> JSONResponse:
        if isinstance(exc, FhirUnavailable):
            return JSONResponse(_body("fhir_unavailable", "The FHIR server is unavailable"), status_code=503)
        if isinstance(exc, FhirNotFound):
            return JSONResponse(_body("not_found", exc.message), status_code=404)
        if isinstance(exc, FhirConflict):
            return JSONResponse(_body("conflict", exc.message), status_code=409)
        if isinstance(exc, FhirInvalid):
            return JSONResponse(
                _body("fhir_invalid", exc.message, operation_outcome=exc.outcome), status_code=422
            )
        log.error("fhir.error.unmapped", status=exc.status)
        return JSONResponse(_body("fhir_error", exc.message), status_code=502)

    @app.exception_handler(QueueUnavailable)
    async def _queue(_: Request, exc: QueueUnavailable) -> JSONResponse:
        return JSONResponse(
            _body("queue_unavailable", str(exc)), status_code=503, headers={"Retry-After": "5"}
        )

    @app.exception_handler(StateUnavailable)
    async def _state(_: Request, exc: StateUnavailable) -> JSONResponse:
        return JSONResponse(
            _body("state_unavailable", str(exc)), status_code=503, headers={"Retry-After": "5"}
        )
