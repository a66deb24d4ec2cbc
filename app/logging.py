"""structlog set-up: JSON lines, dotted event names, a request id on every line, no PHI.

Log FHIR references (`Patient/123`), vendor ids and counts. Never log names, phone numbers,
message bodies, instruction texts or query strings: they can all carry PHI.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Awaitable, Callable

import structlog
from starlette.requests import Request
from starlette.responses import Response

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
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=level.upper(), stream=sys.stdout, format="%(message)s", force=True)
    # httpx logs full URLs at INFO, and search URLs carry phone numbers and names.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # uvicorn's access log prints query strings; the request middleware logs what is safe instead.
    logging.getLogger("uvicorn.access").disabled = True


async def log_requests(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """HTTP middleware: bind a request id (X-Request-ID or a new one) to the logs and the response."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = incoming if _safe_id(incoming) else uuid.uuid4().hex
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    # The /fhir proxy passes it on to HAPI, which records it in meta.source of what it writes.
    request.state.request_id = request_id
    response = await call_next(request)
    response.headers[REQUEST_ID_HEADER] = request_id
    # The route template only: paths and query strings can carry phone numbers and names.
    log.info(
        "http.request.completed", method=request.method, route=_route_of(request), status=response.status_code
    )
    return response


def _route_of(request: Request) -> str:
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "(unmatched)"


def _safe_id(value: str) -> bool:
    return 0 < len(value) <= 64 and all(c.isalnum() or c in "-_." for c in value)
