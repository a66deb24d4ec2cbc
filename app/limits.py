"""Request body size limits, enforced before authentication and parsing (pure ASGI middleware)."""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.fhir_proxy.outcome import operation_outcome
from app.ports.ratelimit import RateLimited

FHIR_PREFIX = "/fhir"
AUDIO_PATH = "/api/v1/assistant/interpret-audio"
# Patient document uploads (app/documents) take max_document_bytes.
DOCUMENT_PATH = re.compile(r"/api/v1/patients/[^/]+/documents")
# Multipart framing and the form's other fields around the audio file.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def is_fhir_path(path: str) -> bool:
    """Whether `path` is the FHIR endpoint, whose clients expect OperationOutcomes."""
    return path == FHIR_PREFIX or path.startswith(FHIR_PREFIX + "/")


def rejection(
    path: str,
    status: int,
    *,
    error: str,
    message: str,
    fhir_code: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """An error in the API's shape, or as an OperationOutcome on the FHIR endpoint."""
    if is_fhir_path(path):
        return operation_outcome(status, fhir_code, message, headers=headers)
    return JSONResponse({"error": error, "message": message}, status_code=status, headers=headers)


class _TooLarge(Exception):
    """Raised from `receive` when a body without a usable Content-Length passes the limit."""


class BodySizeLimit:
    """413 for request bodies over the path's limit: at once on Content-Length, else while reading."""

    def __init__(
        self, app: ASGIApp, *, api_bytes: int, fhir_bytes: int, audio_bytes: int, document_bytes: int = 0
    ) -> None:
        self.app = app
        self.api_bytes = api_bytes
        self.fhir_bytes = fhir_bytes
        self.audio_bytes = audio_bytes + MULTIPART_OVERHEAD_BYTES
        self.document_bytes = document_bytes + MULTIPART_OVERHEAD_BYTES

    def limit_for(self, path: str) -> int:
        """The largest body accepted on `path`."""
        if is_fhir_path(path):
            return self.fhir_bytes
        if path == AUDIO_PATH:
            return self.audio_bytes
        return self.document_bytes if DOCUMENT_PATH.fullmatch(path) else self.api_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.limit_for(path)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            # Answered without reading the body: the server discards it and closes the connection.
            await self._reject(path, limit, scope, receive, send)
            return

        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                # Whatever the app made of the interrupted read (400, 500) is replaced by the 413.
                raise _TooLarge
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _TooLarge:
            if started:
                raise
            await self._reject(path, limit, scope, receive, send)

    @staticmethod
    async def _reject(path: str, limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"Request body is larger than {limit} bytes"
        response = rejection(path, 413, error="payload_too_large", message=message, fhir_code="too-costly")
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


async def rate_limited_response(request: Request, exc: Exception) -> Response:
    """The 429 with Retry-After (an OperationOutcome on the FHIR endpoint)."""
    assert isinstance(exc, RateLimited)
    return rejection(
        request.url.path,
        429,
        error="rate_limited",
        message=exc.message,
        fhir_code="throttled",
        headers={"Retry-After": str(exc.retry_after)},
    )
