"""The FHIR gateway client: every request the PRM makes to HAPI goes through here.

It speaks plain FHIR REST over httpx: search with paging, conditional create with the
`If-None-Exist` header, updates guarded by `If-Match`, transactions and `$validate`, and maps
HAPI's answers onto the errors in `app.fhir.errors`.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
import structlog

from app.fhir.errors import (
    FhirConflict,
    FhirError,
    FhirInvalid,
    FhirNotFound,
    FhirUnavailable,
    outcome_text,
)
from app.fhir.query import (
    SearchParams,
    counted,
    flatten,
    next_link,
    page_is_full,
    query_params,
    with_count,
)
from app.fhir.upstream import Upstream

FHIR_JSON = "application/fhir+json"
log = structlog.get_logger(__name__)

Resource = dict[str, Any]

# Readiness must answer quickly even when HAPI hangs.
PING_TIMEOUT_SECONDS = 3.0

# What the /fhir proxy may ask for: plain segments below the base (app/fhir_proxy/paths.py).
_PROXY_PATH = re.compile(r"[A-Za-z0-9\-._$]+(/[A-Za-z0-9\-._$]+)*")


def version_of(resource: Resource) -> str:
    """The resource's meta.versionId (what an If-Match header names)."""
    version = resource.get("meta", {}).get("versionId")
    if not version:
        raise ValueError(f"{resource.get('resourceType')}/{resource.get('id')} carries no meta.versionId")
    return str(version)


def search_query(params: Mapping[str, str] | Sequence[tuple[str, str]]) -> str:
    """A search as a query string, values percent-encoded ('+' in a phone would otherwise read as a space)."""
    return urlencode(params, quote_via=quote)


def etag(version: str) -> str:
    """The weak ETag HAPI expects in If-Match for a version id."""
    return f'W/"{version}"'


def resource_path(resource_type: str, resource_id: str) -> str:
    """`Type/id` with the id percent-encoded, so no id can reach another path or a query."""
    return f"{quote(resource_type, safe='')}/{quote(str(resource_id), safe='')}"


def bundle_resources(bundle: Resource, *, mode: str | None = "match") -> list[Resource]:
    """The resources of a search Bundle's entries; `mode` filters match vs include entries."""
    return [
        entry["resource"]
        for entry in bundle.get("entry", [])
        if "resource" in entry and (mode is None or entry.get("search", {}).get("mode", "match") == mode)
    ]


class FhirClient:
    """Async client for one FHIR base URL (the HAPI server)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_seconds: float = 15.0,
        connect_timeout_seconds: float = 3.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = httpx.Timeout(timeout_seconds, connect=connect_timeout_seconds)
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=20)
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            timeout=self._timeout,
            headers={"Accept": FHIR_JSON},
            transport=transport,
            limits=limits,
        )
        # The /fhir proxy talks to the transport itself: no client defaults to undo (Accept,
        # User-Agent), no redirects, cookies or hooks, and about half the CPU per request.
        self._proxy = transport or httpx.AsyncHTTPTransport(limits=limits)

    async def aclose(self) -> None:
        """Close the connection pools."""
        await self._http.aclose()
        await self._proxy.aclose()

    # -- reads ------------------------------------------------------------------------------

    async def read(self, resource_type: str, resource_id: str) -> Resource:
        """Read one resource; FhirNotFound when it does not exist or was deleted."""
        return await self._json("GET", resource_path(resource_type, resource_id))

    async def vread(self, resource_type: str, resource_id: str, version: str) -> Resource:
        """Read one version of a resource; FhirNotFound when that version does not exist."""
        return await self._json(
            "GET", f"{resource_path(resource_type, resource_id)}/_history/{quote(version, safe='')}"
        )

    async def search_page(self, resource_type: str, params: SearchParams | None = None) -> Resource:
        """The first page of a search, as HAPI's Bundle (with any _include entries)."""
        return await self._json(
            "GET", resource_type, params=with_count(params), headers={"Cache-Control": "no-cache"}
        )

    async def search(
        self, resource_type: str, params: SearchParams | None = None, *, limit: int | None = None
    ) -> list[Resource]:
        """All matching resources (following `next` links), up to `limit` if given."""
        bundles = await self.search_bundles(resource_type, params, limit=limit)
        found = [resource for bundle in bundles for resource in bundle_resources(bundle)]
        return found[:limit] if limit is not None else found

    async def search_bundles(
        self, resource_type: str, params: SearchParams | None = None, *, limit: int | None = None
    ) -> list[Resource]:
        """Every page Bundle of a search (matches and includes), stopping once `limit` matches are in."""
        return await self.following(await self.search_page(resource_type, params), limit=limit)

    async def following(self, page: Resource, *, limit: int | None = None) -> list[Resource]:
        """A search's first page and every page after it (Bundle.link[next]), stopping once `limit`
        matches are in."""
        pages = [page]
        seen = len(bundle_resources(page))
        while (next_url := next_link(page)) and (limit is None or seen < limit):
            page = await self._json("GET", self._relative(next_url), headers={"Cache-Control": "no-cache"})
            pages.append(page)
            seen += len(bundle_resources(page))
        return pages

    async def batch_get(self, urls: Mapping[str, str]) -> dict[str, Resource | None]:
        """Several reads and searches (`Type/id`, `Type?query`, by name) in one round trip: a `batch`
        Bundle of GETs. None for an entry not found (404/410); a search answers its first page as a
        searchset Bundle (`following` reads the rest). Any other failed entry raises."""
        searches = {name: counted(url) for name, url in urls.items() if "?" in url}
        bundle = {
            "resourceType": "Bundle",
            "type": "batch",
            "entry": [{"request": {"method": "GET", "url": searches.get(n, u)}} for n, u in urls.items()],
        }
        # no-store: HAPI answers the searches without storing them (a third of the batch's time), but
        # gives them no next link, so a search whose page comes back full is asked again, paged.
        answer = await self._json("POST", "", json=bundle, headers={"Cache-Control": "no-store"})
        entries = answer.get("entry", [])
        if len(entries) != len(urls):
            raise FhirError(f"a batch of {len(urls)} GETs answered {len(entries)} entries")
        found: dict[str, Resource | None] = {}
        for (name, url), entry in zip(urls.items(), entries, strict=True):
            response = entry.get("response", {})
            status = str(response.get("status", ""))
            code = int(status.split(" ", 1)[0]) if status[:3].isdigit() else 0
            if not 200 <= code < 300:
                error = _error_of(code, response.get("outcome"), "GET", url, reason=status)
                if not isinstance(error, FhirNotFound):
                    raise error
                found[name] = None
            elif name in searches and page_is_full(
                searches[name], len(bundle_resources(entry.get("resource") or {}))
            ):
                found[name] = await self._json("GET", searches[name], headers={"Cache-Control": "no-cache"})
            else:
                found[name] = entry.get("resource")
        return found

    async def count(self, resource_type: str, params: SearchParams | None = None) -> int:
        """How many resources match a search, without fetching them."""
        items = list(params.items()) if isinstance(params, Mapping) else list(params or [])
        bundle = await self._json(
            "GET",
            resource_type,
            params=[*flatten(items), ("_summary", "count"), ("_total", "accurate")],
            headers={"Cache-Control": "no-cache"},
        )
        return int(bundle.get("total", 0))

    # -- writes -----------------------------------------------------------------------------

    async def create(self, resource: Resource) -> Resource:
        """Create a resource with a server-assigned id; returns it as stored."""
        return await self._json(
            "POST", resource["resourceType"], json=resource, headers={"Prefer": "return=representation"}
        )

    async def conditional_create(
        self, resource: Resource, *, match: Mapping[str, str]
    ) -> tuple[Resource, bool]:
        """Create unless a resource matches the search `match` (If-None-Exist); (resource, created)."""
        response = await self._request(
            "POST",
            resource["resourceType"],
            json=resource,
            headers={"Prefer": "return=representation", "If-None-Exist": search_query(match)},
        )
        return response.json(), response.status_code == 201

    async def update(self, resource: Resource, *, if_match: str | None = None) -> Resource:
        """Update (or create, for a client-assigned id) by PUT; `if_match` is the version to guard."""
        headers = {"Prefer": "return=representation"}
        if if_match is not None:
            headers["If-Match"] = etag(if_match)
        return await self._json(
            "PUT", resource_path(resource["resourceType"], resource["id"]), json=resource, headers=headers
        )

    async def delete(self, resource_type: str, resource_id: str) -> None:
        """Delete one resource (deleting a missing one is not an error in FHIR)."""
        await self._request("DELETE", resource_path(resource_type, resource_id))

    async def transaction(self, bundle: Resource) -> Resource:
        """Send a transaction Bundle; all of it is written or none of it."""
        return await self._json("POST", "", json=bundle, headers={"Prefer": "return=representation"})

    # -- operations -------------------------------------------------------------------------

    async def validate(self, resource: Resource, *, profile: str | None = None) -> Resource:
        """Run `$validate` and return the OperationOutcome (errors do not raise)."""
        params = {"profile": profile} if profile else None
        response = await self._request(
            "POST",
            f"{resource['resourceType']}/$validate",
            json=resource,
            params=params,
            accept_statuses=(200, 400, 412, 422),
        )
        outcome: Resource = response.json()
        return outcome

    async def operation(
        self,
        path: str,
        *,
        method: str = "POST",
        body: Resource | None = None,
        params: SearchParams | None = None,
    ) -> Resource:
        """Invoke a FHIR operation such as `Patient/$merge` or `$reindex`."""
        return await self._json(method, path, json=body, params=params)

    async def ping(self) -> float:
        """Seconds HAPI takes to answer a trivial request; raises FhirUnavailable when it does not."""
        started = time.perf_counter()
        await self._request("GET", "metadata", params={"_summary": "true"}, timeout=PING_TIMEOUT_SECONDS)
        return time.perf_counter() - started

    async def capabilities(self) -> Resource:
        """HAPI's CapabilityStatement (the base of the PRM's own at /fhir/metadata)."""
        return await self._json("GET", "metadata")

    async def stream(
        self,
        method: str,
        path: str,
        *,
        query: bytes,
        headers: Mapping[str, str],
        content: bytes | AsyncIterator[bytes] | None,
    ) -> Upstream:
        """Send a request as is and return HAPI's response, body unread, whatever its status.

        The `/fhir` reverse proxy: `path` is relative to the FHIR base (already confined by the
        caller; checked again here), `query` the client's raw query string, `headers` exactly what
        HAPI gets (none of the client's defaults are added). The caller must `aclose()` the response.
        """
        if path and (not _PROXY_PATH.fullmatch(path) or {".", ".."} & set(path.split("/"))):
            raise ValueError("proxied paths are plain segments below the FHIR base")
        url = httpx.URL(f"{self.base_url}/{path}").copy_with(query=query or None)
        request = httpx.Request(method, url, headers=headers, content=content)
        if "accept-encoding" not in request.headers:
            # The client cannot decode what it did not ask for.
            request.headers["Accept-Encoding"] = "identity"
        request.extensions["timeout"] = self._timeout.as_dict()
        try:
            response = await self._proxy.handle_async_request(request)
        except httpx.TimeoutException as exc:
            log.warning("fhir.proxy.timeout", method=method, resource_type=_type_of(path))
            raise FhirUnavailable(f"FHIR server timed out on {method} {_type_of(path)}") from exc
        except httpx.HTTPError as exc:
            log.warning("fhir.proxy.unreachable", method=method, error=type(exc).__name__)
            raise FhirUnavailable(f"FHIR server unreachable: {type(exc).__name__}") from exc
        response.request = request
        return Upstream(response)

    # -- plumbing ---------------------------------------------------------------------------

    def _relative(self, url: str) -> str:
        if url.startswith(self.base_url):
            return url[len(self.base_url) :].lstrip("/")
        parts = urlsplit(url)
        base_path = urlsplit(self.base_url).path
        path = parts.path[len(base_path) :] if parts.path.startswith(base_path) else parts.path
        return path.lstrip("/") + (f"?{parts.query}" if parts.query else "")

    async def _json(
        self,
        method: str,
        path: str,
        *,
        json: Resource | None = None,
        params: SearchParams | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Resource:
        response = await self._request(method, path, json=json, params=params, headers=headers)
        body: Resource = response.json()
        return body

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Resource | None = None,
        params: SearchParams | None = None,
        headers: Mapping[str, str] | None = None,
        accept_statuses: Sequence[int] = (),
        timeout: float | None = None,
    ) -> httpx.Response:
        request_headers = dict(headers or {})
        if json is not None:
            request_headers["Content-Type"] = FHIR_JSON
        try:
            response = await self._http.request(
                method,
                path,
                json=json,
                params=query_params(params),
                headers=request_headers,
                timeout=httpx.Timeout(timeout) if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TimeoutException as exc:
            log.warning("fhir.request.timeout", method=method, resource_type=_type_of(path))
            raise FhirUnavailable(f"FHIR server timed out on {method} {_type_of(path)}") from exc
        except httpx.HTTPError as exc:
            log.warning("fhir.request.unreachable", method=method, error=type(exc).__name__)
            raise FhirUnavailable(f"FHIR server unreachable: {type(exc).__name__}") from exc
        if response.is_success or response.status_code in accept_statuses:
            return response
        raise _error_for(response, method, path)


def _error_for(response: httpx.Response, method: str, path: str) -> FhirError:
    try:
        body = response.json()
    except ValueError:
        body = None
    return _error_of(response.status_code, body, method, path, reason=response.reason_phrase)


def _error_of(status: int, body: Any, method: str, path: str, *, reason: str) -> FhirError:
    """The gateway error for an HTTP status and its body (or a batch entry's status and outcome)."""
    outcome: Resource | None = None
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        outcome = body
    elif isinstance(body, dict) and body.get("resourceType") == "Parameters":
        # Operations such as $merge report failures inside an "outcome" parameter.
        outcome = next(
            (p.get("resource") for p in body.get("parameter", []) if p.get("name") == "outcome"), None
        )
    detail = outcome_text(outcome) or reason
    where = f"{method} {_type_of(path)}"
    log.info("fhir.request.rejected", method=method, resource_type=_type_of(path), status=status)
    if status in (404, 410):
        return FhirNotFound(f"{where}: not found ({detail})", status=status, outcome=outcome)
    if status in (409, 412):
        return FhirConflict(f"{where}: conflict ({detail})", status=status, outcome=outcome)
    if status in (400, 422):
        return FhirInvalid(f"{where}: invalid ({detail})", status=status, outcome=outcome)
    if status >= 500:
        return FhirUnavailable(
            f"{where}: FHIR server error {status} ({detail})", status=status, outcome=outcome
        )
    return FhirError(f"{where}: unexpected status {status} ({detail})", status=status, outcome=outcome)


def _type_of(path: str) -> str:
    head = path.lstrip("/").split("/", 1)[0].split("?", 1)[0]
    return head or "(system)"
