"""Which headers cross the proxy, and the address HAPI is told the client called."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.requests import Request

from app.config import Settings
from app.logging import REQUEST_ID_HEADER

# What a FHIR client may tell HAPI. Authorization is the PRM's and never forwarded; X-Forwarded-*,
# X-Request-ID and the attribution header are set by the PRM only; Origin and cookies stay here.
FORWARDED_REQUEST_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "cache-control",
        "content-encoding",
        "content-length",
        "content-type",
        "if-match",
        "if-modified-since",
        "if-none-exist",
        "if-none-match",
        "prefer",
    }
)
RETURNED_RESPONSE_HEADERS = frozenset(
    {
        "content-encoding",
        "content-length",
        "content-location",
        "content-type",
        "etag",
        "last-modified",
        "location",
        "retry-after",
    }
)
# Who made the request: HAPI's AttributionInterceptor (hapi-config) writes it into meta.source.
USER_HEADER = "X-PRM-User"
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(:\d{1,5})?")


def client_address(request: Request, settings: Settings) -> tuple[str, str, str]:
    """(scheme, host[:port], path prefix of /fhir) as the client sees the PRM.

    The Host the client sent is used when it names one of `settings.fhir_link_hosts` (by default
    the loopback names, so `localhost:8000` and `127.0.0.1:8000` both page through themselves);
    any other Host gets the public base URL, so a forged Host cannot plant links to elsewhere.
    """
    host = request.headers.get("host", "")
    match = _HOST.fullmatch(host)
    public = urlsplit(settings.public_base_url)
    if match and host != public.netloc and match.group(1).lower() in settings.fhir_link_hosts:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return request.url.scheme, host, f"{root}/fhir"
    return public.scheme, public.netloc, public.path.rstrip("/") + "/fhir"


def request_headers(
    incoming: Mapping[str, str],
    *,
    forwarded: tuple[str, str, str],
    request_id: str | None,
    user: str,
) -> dict[str, str]:
    """The headers HAPI gets: the client's allowed ones plus the PRM's forwarding and attribution."""
    headers = {name: value for name, value in incoming.items() if name.lower() in FORWARDED_REQUEST_HEADERS}
    scheme, host, prefix = forwarded
    headers["X-Forwarded-Proto"] = scheme
    headers["X-Forwarded-Host"] = host
    headers["X-Forwarded-Prefix"] = prefix
    headers[USER_HEADER] = user
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    return headers


def response_headers(upstream: Mapping[str, str]) -> dict[str, str]:
    """HAPI's headers a client needs; the rest (server banners, HAPI's CORS) stay behind."""
    return {name: value for name, value in upstream.items() if name.lower() in RETURNED_RESPONSE_HEADERS}
