"""The internal receiver of HAPI's rest-hook deliveries: verify the secret, de-duplicate on
type/id/version, queue the handling job, answer. No FHIR reads or writes here.

HAPI 8.8 sends `PUT <endpoint>/<Type>/<id>` (the resource, `If-Match: W/"<version>"`) for creates and
updates, `DELETE <endpoint>/<Type>/<id>` for deletes, and `POST <endpoint>` with no body when a
Subscription has no payload. Not in the public OpenAPI: only HAPI calls it.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from app.changes.model import (
    BadChange,
    check_id,
    check_type,
    dedupe_key,
    handle_job_id,
    kind_of,
    version_from_etag,
)
from app.deps import services
from app.errors import ApiError
from app.fhir.client import FHIR_JSON
from app.ingress import accept, bearer_matches, unavailable
from app.ports.jobs import Job, QueueUnavailable

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/internal/changes", include_in_schema=False)

# A body larger than this is not a resource HAPI would send us.
MAX_BODY_BYTES = 5 * 1024 * 1024
# A payload-less notification asks for a sweep; one per this many seconds is plenty.
SWEEP_REQUEST_BUCKET_SECONDS = 5


def _verify(request: Request, authorization: str | None) -> None:
    secret = services(request).settings.change_feed_secret.get_secret_value()
    if not bearer_matches(authorization, secret):
        log.warning("changes.receiver.unauthorized")
        raise ApiError(401, "unauthorized", "Missing or wrong change feed secret")


def _answer(status: str, change: str | None = None) -> JSONResponse:
    """200 with an OperationOutcome: HAPI's client parses the reply as FHIR, and a body it cannot
    parse counts as a failed delivery that it retries (and that holds up the deliveries behind it)."""
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": status}],
    }
    headers = {"X-PRM-Change-Status": status} | ({"X-PRM-Change": change} if change else {})
    return JSONResponse(outcome, media_type=FHIR_JSON, headers=headers)


def _bad(message: str) -> ApiError:
    return ApiError(422, "invalid_change", message)


async def _body(request: Request) -> dict[str, Any] | None:
    raw = await request.body()
    if not raw.strip():
        return None
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", f"Body over {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise _bad("Body is not JSON") from exc
    if not isinstance(body, dict):
        raise _bad("Body is not a FHIR resource")
    return body


def _version(body: dict[str, Any] | None, resource_type: str, resource_id: str, if_match: str | None) -> str:
    """The version: the body's meta.versionId, else HAPI's If-Match header."""
    if body is not None:
        if body.get("resourceType") != resource_type or body.get("id") != resource_id:
            raise _bad(f"Body is not {resource_type}/{resource_id}")
        meta = body.get("meta")
        version = meta.get("versionId") if isinstance(meta, dict) else None
        if version is not None:
            return check_id(str(version), "version")
    version = version_from_etag(if_match)
    if version is None:
        raise _bad("No version: send the resource with meta.versionId, or If-Match")
    return version


async def _accept_version(
    request: Request, resource_type: str, resource_id: str, version: str
) -> JSONResponse:
    settings = services(request).settings
    payload = {
        "resource_type": resource_type,
        "resource_id": resource_id,
        "version": version,
        "kind": kind_of(version, deleted=False).value,
    }
    queued = await accept(
        services(request).state,
        services(request).queue,
        key=dedupe_key(resource_type, resource_id, version),
        ttl_seconds=settings.change_feed_dedupe_ttl_seconds,
        job=Job.HANDLE_CHANGE,
        payload=payload,
        job_id=handle_job_id(resource_type, resource_id, version),
    )
    reference = f"{resource_type}/{resource_id}/_history/{version}"
    log.info("changes.received", change=reference, duplicate=not queued)
    return _answer("accepted" if queued else "duplicate", reference)


def _checked(resource_type: str, resource_id: str) -> tuple[str, str]:
    try:
        return check_type(resource_type), check_id(resource_id)
    except BadChange as exc:
        raise _bad(str(exc)) from exc


@router.api_route("/{resource_type}/{resource_id}", methods=["PUT", "POST"])
async def receive(
    request: Request,
    resource_type: str,
    resource_id: str,
    authorization: Annotated[str | None, Header()] = None,
    if_match: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """A create or update delivered with its resource."""
    _verify(request, authorization)
    resource_type, resource_id = _checked(resource_type, resource_id)
    try:
        version = _version(await _body(request), resource_type, resource_id, if_match)
    except BadChange as exc:
        raise _bad(str(exc)) from exc
    return await _accept_version(request, resource_type, resource_id, version)


@router.api_route("/{resource_type}/{resource_id}/_history/{version}", methods=["PUT", "POST"])
async def receive_version(
    request: Request,
    resource_type: str,
    resource_id: str,
    version: str,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """A delivery naming its version in the path."""
    _verify(request, authorization)
    resource_type, resource_id = _checked(resource_type, resource_id)
    try:
        version = check_id(version, "version")
    except BadChange as exc:
        raise _bad(str(exc)) from exc
    return await _accept_version(request, resource_type, resource_id, version)


@router.delete("/{resource_type}/{resource_id}")
async def receive_delete(
    request: Request,
    resource_type: str,
    resource_id: str,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """A delete (HAPI names no version): the job finds it in the history and de-duplicates there."""
    _verify(request, authorization)
    resource_type, resource_id = _checked(resource_type, resource_id)
    payload = {"resource_type": resource_type, "resource_id": resource_id, "version": None, "kind": "deleted"}
    # Replays within a minute are one job; a later replay resolves to the same version and is dropped then.
    job_id = f"change-{resource_type}-{resource_id}-deleted-{int(time.time()) // 60}"
    try:
        await services(request).queue.enqueue(Job.HANDLE_CHANGE, payload, job_id=job_id)
    except QueueUnavailable as exc:
        raise unavailable("job queue") from exc
    log.info("changes.received", change=f"{resource_type}/{resource_id}", kind="deleted")
    return _answer("accepted", f"{resource_type}/{resource_id}")


@router.post("")
async def receive_ping(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> JSONResponse:
    """A payload-less notification names nothing: queue a sweep soon instead."""
    _verify(request, authorization)
    bucket = int(time.time()) // SWEEP_REQUEST_BUCKET_SECONDS
    try:
        await services(request).queue.enqueue(Job.SWEEP_CHANGES, {}, job_id=f"change-sweep-now-{bucket}")
    except QueueUnavailable as exc:
        raise unavailable("job queue") from exc
    log.info("changes.received", kind="notification")
    return _answer("sweep_queued")
