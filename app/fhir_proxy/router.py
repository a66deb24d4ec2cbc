"""`/fhir/*`: an authenticated pass-through to HAPI for any FHIR client (EHRs, tools)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response

from app.config import Role
from app.deps import AppSettings, Fhir
from app.errors import ApiError
from app.security import AnyUser

router = APIRouter(tags=["fhir"])

# Request headers a FHIR client relies on; Authorization is ours and never forwarded.
FORWARDED_REQUEST_HEADERS = (
    "accept",
    "content-type",
    "if-match",
    "if-none-exist",
    "if-none-match",
    "if-modified-since",
    "prefer",
)
RETURNED_RESPONSE_HEADERS = ("content-type", "etag", "location", "content-location", "last-modified")
READ_METHODS = ("GET", "HEAD")
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


async def fhir_system(request: Request, fhir: Fhir, settings: AppSettings, principal: AnyUser) -> Response:
    """Forward a system-level request (transaction/batch Bundle, `_getpages` paging) to HAPI."""
    return await _forward(request, fhir, settings, principal, "")


async def fhir_passthrough(
    request: Request, fhir: Fhir, settings: AppSettings, principal: AnyUser, path: str
) -> Response:
    """Forward the request to HAPI; status, body and ETags come back unchanged, links point here."""
    return await _forward(request, fhir, settings, principal, path)


# One route per method, so that each operation has its own id in the OpenAPI document.
for _method in METHODS:
    router.add_api_route(
        "/fhir",
        fhir_system,
        methods=[_method],
        operation_id=f"fhir_system_{_method.lower()}",
        summary="FHIR system interactions (transaction, paging), passed to HAPI",
    )
    router.add_api_route(
        "/fhir/{path:path}",
        fhir_passthrough,
        methods=[_method],
        operation_id=f"fhir_{_method.lower()}",
        summary="Any FHIR REST interaction, passed to HAPI",
    )


async def _forward(
    request: Request, fhir: Fhir, settings: AppSettings, principal: AnyUser, path: str
) -> Response:
    if principal.role == Role.STAFF and request.method not in READ_METHODS:
        # Staff write through the PRM API so that its rules and Provenance apply.
        raise ApiError(403, "forbidden", "Role 'staff' may only read through /fhir; use the PRM API to write")
    headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED_REQUEST_HEADERS}
    upstream = await fhir.forward(
        request.method,
        path,
        params=list(request.query_params.multi_items()),
        headers=headers,
        content=await request.body(),
    )
    hapi_base = fhir.base_url
    public_base = settings.public_base_url.rstrip("/") + "/fhir"
    out_headers = {
        k: _rebase(v, hapi_base, public_base)
        for k, v in upstream.headers.items()
        if k.lower() in RETURNED_RESPONSE_HEADERS
    }
    body = _rewrite_bundle_links(upstream.content, hapi_base, public_base)
    return Response(content=body, status_code=upstream.status_code, headers=out_headers)


def _rebase(url: str, hapi_base: str, public_base: str) -> str:
    return public_base + url[len(hapi_base) :] if url.startswith(hapi_base) else url


def _rewrite_bundle_links(content: bytes, hapi_base: str, public_base: str) -> bytes:
    """Point a Bundle's paging links and entry fullUrls at the PRM instead of HAPI."""
    if b'"Bundle"' not in content[:200]:
        return content
    try:
        bundle: dict[str, Any] = json.loads(content)
    except ValueError:
        return content
    if bundle.get("resourceType") != "Bundle":
        return content
    for link in bundle.get("link", []):
        if "url" in link:
            link["url"] = _rebase(link["url"], hapi_base, public_base)
    for entry in bundle.get("entry", []):
        if "fullUrl" in entry:
            entry["fullUrl"] = _rebase(entry["fullUrl"], hapi_base, public_base)
    return json.dumps(bundle, ensure_ascii=False).encode()
