"""`/fhir/*`: a reverse proxy to HAPI for any FHIR client, locked down by role (DESIGN.md invariant 9).

Bodies stream through unparsed in both directions (bytes, gzip and ETags as HAPI sent them);
HAPI builds every link itself from the forwarded headers set here. Only transaction/batch
Bundles are read, to judge each entry, and are still forwarded byte for byte.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from app.config import Settings
from app.deps import AppSettings, Fhir
from app.errors import ApiError
from app.fhir.client import FHIR_JSON
from app.fhir.errors import FhirError, FhirUnavailable
from app.fhir.upstream import Upstream
from app.fhir_proxy import bundles, subscriptions
from app.fhir_proxy.capability import CapabilityCache
from app.fhir_proxy.forwarding import client_address, request_headers, response_headers
from app.fhir_proxy.outcome import operation_outcome
from app.fhir_proxy.paths import PathRefused, fhir_segments
from app.fhir_proxy.policy import FhirInteraction, Kind, UnsupportedRequest, classify, decide
from app.security import BearerCredentials, authenticate

router = APIRouter(tags=["fhir"])

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
# Bodies up to this size are relayed in one piece (one ASGI message, no streaming machinery);
# larger ones (big searches, $everything) stream, so memory stays bounded.
BUFFERED_BYTES = 256 * 1024
WWW_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="prm"'}
_OUTCOME = {"description": "OperationOutcome", "content": {FHIR_JSON: {"schema": {"type": "object"}}}}
# Statuses the PRM itself answers on /fhir (HAPI's own, e.g. 404/409/412/422, pass through as sent).
RESPONSES: dict[int | str, dict[str, object]] = {
    400: {**_OUTCOME, "description": "Path outside the FHIR base, or not a FHIR interaction"},
    401: {**_OUTCOME, "description": "Missing or invalid API key (WWW-Authenticate: Bearer)"},
    403: {**_OUTCOME, "description": "The key's role may not perform this interaction or operation"},
    404: {**_OUTCOME, "description": "Not found (HAPI's answer, passed through)"},
    405: {**_OUTCOME, "description": "HTTP method not used by FHIR"},
    406: {**_OUTCOME, "description": "metadata in a format other than JSON"},
    413: {**_OUTCOME, "description": "Request body too large"},
    415: {**_OUTCOME, "description": "Transaction or batch Bundle not sent as JSON"},
    429: {**_OUTCOME, "description": "Too many requests"},
    503: {**_OUTCOME, "description": "The FHIR server is unavailable"},
}


async def fhir_metadata(request: Request, fhir: Fhir, settings: AppSettings) -> Response:
    """The PRM's CapabilityStatement (public, like every FHIR server's): what /fhir allows."""
    return await _capabilities(request, fhir, settings)


async def fhir_system(
    request: Request, fhir: Fhir, settings: AppSettings, credentials: BearerCredentials
) -> Response:
    """FHIR system interactions: transaction/batch Bundles, system search and history, paging."""
    return await _proxy(request, fhir, settings, credentials)


async def fhir_passthrough(
    request: Request, fhir: Fhir, settings: AppSettings, credentials: BearerCredentials, path: str
) -> Response:
    """Any FHIR REST interaction the key's role allows, streamed to HAPI and back."""
    del path  # The raw path is judged instead: the decoded one hides escapes.
    return await _proxy(request, fhir, settings, credentials)


async def fhir_method_not_allowed(request: Request) -> Response:
    """Methods FHIR does not use (a CORS preflight is answered before routing)."""
    return operation_outcome(
        405, None, f"{request.method} is not a FHIR interaction", headers={"Allow": ", ".join(METHODS)}
    )


router.add_api_route(
    "/fhir/metadata",
    fhir_metadata,
    methods=["GET"],
    operation_id="fhir_metadata",
    summary="The PRM's FHIR CapabilityStatement (no key needed; JSON only)",
    responses={406: RESPONSES[406], 503: RESPONSES[503]},
)
# One route per method, so that each operation has its own id in the OpenAPI document.
for _method in METHODS:
    router.add_api_route(
        "/fhir",
        fhir_system,
        methods=[_method],
        operation_id=f"fhir_system_{_method.lower()}",
        summary="FHIR system interactions (transaction, batch, paging), streamed to HAPI",
        responses=RESPONSES,
    )
    router.add_api_route(
        "/fhir/{path:path}",
        fhir_passthrough,
        methods=[_method],
        operation_id=f"fhir_{_method.lower()}",
        summary="Any allowed FHIR REST interaction, streamed to HAPI",
        responses=RESPONSES,
    )
for _route in ("/fhir", "/fhir/{path:path}"):
    router.add_api_route(
        _route, fhir_method_not_allowed, methods=["OPTIONS", "TRACE"], include_in_schema=False
    )


async def _proxy(
    request: Request, fhir: Fhir, settings: Settings, credentials: BearerCredentials
) -> Response:
    try:
        segments = fhir_segments(_raw_fhir_path(request))
    except PathRefused as exc:
        return operation_outcome(400, None, str(exc))
    if segments == ["metadata"] and request.method in ("GET", "HEAD"):
        return await _capabilities(request, fhir, settings)
    try:
        principal = await authenticate(request, credentials)
    except ApiError as exc:
        return operation_outcome(401, None, exc.message, headers=WWW_AUTHENTICATE)
    query = parse_qsl(request.url.query, keep_blank_values=True)
    try:
        interaction = classify(request.method, segments, query)
    except UnsupportedRequest as exc:
        return operation_outcome(400, None, str(exc))
    if interaction.kind == Kind.CREATE and "if-none-exist" in request.headers:
        interaction = FhirInteraction(Kind.CREATE, interaction.resource_type, conditional=True)
    decision = decide(principal.role, interaction, query)
    if not decision.allowed:
        return operation_outcome(403, None, f"Refused {interaction.describe()}: {decision.reason}")
    content: bytes | None = None
    if decision.check_subscription:
        content = await request.body()
        refused = await subscriptions.refusal(fhir, content, request.headers, segments)
        if refused is not None:
            return operation_outcome(refused[0], None, f"Refused {interaction.describe()}: {refused[1]}")
    if interaction.kind == Kind.BUNDLE:
        content = await request.body()
        refusal = bundles.judge(principal.role, content, request.headers)
        if refusal is not None:
            return refusal
    scheme, host, prefix = client_address(request, settings)
    headers = request_headers(
        request.headers,
        forwarded=(scheme, host, prefix),
        request_id=getattr(request.state, "request_id", None),
        user=principal.user,
    )
    try:
        upstream = await fhir.stream(
            request.method,
            "/".join(segments),
            query=request.scope.get("query_string", b""),
            headers=headers,
            content=content if content is not None else _body_stream(request),
        )
    except FhirUnavailable:
        return operation_outcome(503, None, "The FHIR server is unavailable")
    return await _relay(upstream)


async def _relay(upstream: Upstream) -> Response:
    """HAPI's answer to the client: small bodies in one piece, large ones streamed as they come."""
    headers = response_headers(upstream.headers)
    try:
        head, complete = await upstream.read_up_to(BUFFERED_BYTES)
    except FhirUnavailable:
        await upstream.aclose()
        return operation_outcome(503, None, "The FHIR server is unavailable")
    if complete:
        await upstream.aclose()
        return Response(head, status_code=upstream.status_code, headers=headers)

    async def body() -> AsyncIterator[bytes]:
        yield head
        async for chunk in upstream.rest():
            yield chunk

    return StreamingResponse(
        body(), status_code=upstream.status_code, headers=headers, background=BackgroundTask(upstream.aclose)
    )


def _body_stream(request: Request) -> AsyncIterator[bytes] | None:
    """The request body as a stream, or None when the request has none."""
    if "content-length" not in request.headers and "transfer-encoding" not in request.headers:
        return None
    if request.headers.get("content-length") == "0":
        return None
    return request.stream()


def _raw_fhir_path(request: Request) -> str:
    """The path after `/fhir` as the client sent it (escapes and `..` intact), without the query."""
    raw: bytes = request.scope.get("raw_path") or str(request.scope["path"]).encode()
    path = raw.split(b"?", 1)[0].decode("latin-1")
    root = str(request.scope.get("root_path", ""))
    if root and path.startswith(root):
        path = path[len(root) :]
    return path.removeprefix("/fhir")


async def _capabilities(request: Request, fhir: Fhir, settings: Settings) -> Response:
    if not _wants_json(request):
        return operation_outcome(
            406, None, "The PRM's CapabilityStatement is served as JSON only (_format=json)"
        )
    cache: CapabilityCache | None = getattr(request.app.state, "fhir_capability", None)
    if cache is None:
        cache = request.app.state.fhir_capability = CapabilityCache(fhir.capabilities)
    scheme, host, prefix = client_address(request, settings)
    try:
        body = await cache.render(
            base_url=f"{scheme}://{host}{prefix}",
            version=request.app.version,
            pretty=request.query_params.get("_pretty") == "true",
        )
    except FhirUnavailable:
        return operation_outcome(503, None, "The FHIR server is unavailable")
    except FhirError:
        return operation_outcome(502, None, "The FHIR server did not return its CapabilityStatement")
    # RequestLog puts X-Request-ID on every response, this one included.
    return Response(body, media_type=FHIR_JSON)


def _wants_json(request: Request) -> bool:
    fmt = request.query_params.get("_format")
    if fmt is not None:
        return "json" in fmt
    accept = request.headers.get("accept", "")
    return not accept or any(t in accept for t in ("json", "*/*", "application/*"))
