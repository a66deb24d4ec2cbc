"""structlog set-up: JSON lines, dotted event names, a request id on every line, no PHI.

Log FHIR references (`Patient/123`), vendor ids and counts. Never log names, phone numbers,
message bodies, instruction texts or query strings: they can all carry PHI.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"

log = structlog.get_logger(__name__)


def configure_logging(*, level: str = "INFO", json: bool = True) -> None:
    """Configure structlog and the stdlib root logger once per process."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=_print_to_current_stdout,
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=level.upper(), stream=sys.stdout, format="%(message)s", force=True)
    # httpx logs full URLs at INFO, and search URLs carry phone numbers and names.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # uvicorn's access log prints query strings; the request middleware logs what is safe instead.
    logging.getLogger("uvicorn.access").disabled = True
    # uvicorn logs server-side failures with tracebacks (e.g. a request it could not parse).
    for name in ("uvicorn", "uvicorn.error", "uvicorn.asgi"):
        uvicorn_logger = logging.getLogger(name)
        if not any(isinstance(f, NoExceptionDetails) for f in uvicorn_logger.filters):
            uvicorn_logger.addFilter(NoExceptionDetails())


def _print_to_current_stdout(*_: object) -> structlog.PrintLogger:
    # The sys.stdout of the moment, not of configuration time: tests swap it (and close the old one).
    return structlog.PrintLogger(sys.stdout)


class RequestLog:
    """Outermost middleware: a request id on the logs and the response, one log line per request."""

    # An unexpected exception ends here as a 500 in the API's error shape: nothing is re-raised to
    # the server, which would print a traceback (exception messages can quote request data).

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = incoming if _safe_id(incoming) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        # request.state.request_id: the /fhir proxy passes it to HAPI, which records it in meta.source.
        scope.setdefault("state", {})["request_id"] = request_id
        started_at = time.perf_counter()
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        error_type = None
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # The type only: exception messages can quote request data.
            error_type = type(exc).__name__
            if status is None:
                body = {"error": "internal_error", "message": "Unexpected server error"}
                await JSONResponse(body, status_code=500)(scope, receive, send_with_id)
        fields = {
            "method": scope["method"],
            # The route template only: paths and query strings can carry phone numbers and names.
            "route": _route_of(scope),
            "status": status,
            "duration_ms": round((time.perf_counter() - started_at) * 1000, 1),
        }
        if error_type is None:
            log.info("http.request.completed", **fields)
        else:
            log.error("http.request.completed", error_type=error_type, **fields)


class NoExceptionDetails(logging.Filter):
    """Reduce a logged exception to its type: tracebacks and messages can quote request data."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record, without its traceback."""
        if record.exc_info and record.exc_info[0] is not None:
            record.msg = f"{record.getMessage()} ({record.exc_info[0].__name__})"
            record.args = ()
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


def _route_of(scope: Scope) -> str:
    path = getattr(scope.get("route"), "path", None)
    return str(path) if path else "(unmatched)"


def _safe_id(value: str) -> bool:
    return 0 < len(value) <= 64 and all(c.isalnum() or c in "-_." for c in value)
