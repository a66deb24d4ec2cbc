"""One error shape for the whole API: `{"error": <code>, "message": <text>, ...details}`."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.fhir.errors import FhirConflict, FhirError, FhirInvalid, FhirNotFound, FhirUnavailable
from app.ports import QueueUnavailable, StateUnavailable

log = structlog.get_logger(__name__)


class ErrorBody(BaseModel):
    """The body of every error response (documented in OpenAPI)."""

    error: str
    message: str


class ApiError(Exception):
    """An error the API reports as is: an HTTP status, a stable code and a human message."""

    def __init__(
        self, status: int, error: str, message: str, *, headers: dict[str, str] | None = None, **details: Any
    ) -> None:
        super().__init__(message)
        self.headers = headers
        self.status = status
        self.error = error
        self.message = message
        self.details = details


def not_found(what: str, ident: str) -> ApiError:
    """404 for an unknown id."""
    return ApiError(404, "not_found", f"{what} {ident!r} does not exist")


def invalid(field: str, message: str) -> ApiError:
    """422 naming the field at fault."""
    return ApiError(
        422, "validation_error", f"{field}: {message}", fields=[{"field": field, "message": message}]
    )


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the error statuses a route can answer."""
    return {status: {"model": ErrorBody} for status in statuses}


def _body(error: str, message: str, **details: Any) -> dict[str, Any]:
    return {"error": error, "message": message, **details}


def install_error_handlers(app: FastAPI) -> None:
    """Map every exception the API can raise onto the one error shape."""

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
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}.get(
            exc.status_code, "http_error"
        )
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

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # The type only: exception messages can quote request data.
        log.error("http.request.failed", error_type=type(exc).__name__)
        return JSONResponse(_body("internal_error", "Unexpected server error"), status_code=500)
