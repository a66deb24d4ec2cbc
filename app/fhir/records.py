"""Record-level helpers every capability writes with: read-or-404, commit a transaction (a version
conflict becomes the caller's domain error), and one-resource writes that carry their Provenance."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from app.errors import Conflict, DomainError, NotFound
from app.fhir.builders import Actor, provenance
from app.fhir.bundle import Transaction, response_resources
from app.fhir.client import FhirClient, Resource, version_of
from app.fhir.errors import FhirConflict, FhirNotFound


async def require(fhir: FhirClient, resource_type: str, resource_id: str, *, what: str) -> Resource:
    """Read a resource, or NotFound naming it."""
    try:
        return await fhir.read(resource_type, resource_id)
    except FhirNotFound:
        raise NotFound(what, resource_id) from None


async def require_kind(
    fhir: FhirClient, resource_type: str, resource_id: str, *, what: str, kind: Callable[[Resource], bool]
) -> Resource:
    """Read a resource that must be of one kind (`kind`: e.g. a Task whose code says ticket), or NotFound
    naming it: an id of another kind is as unknown as a missing one."""
    try:
        resource = await fhir.read(resource_type, resource_id)
    except FhirNotFound:
        raise NotFound(what, resource_id) from None
    if not kind(resource):
        raise NotFound(what, resource_id)
    return resource


async def page_of(
    fhir: FhirClient, resource_type: str, params: Sequence[tuple[str, str]], *, page: int, count: int
) -> tuple[list[Resource], bool]:
    """Page `page` (from 1) of `count` matches of a search, and whether another page follows (one more
    match is asked for instead of counting them all)."""
    query = [*params, ("_count", str(count + 1)), ("_offset", str((page - 1) * count))]
    bundle = await fhir.search_page(resource_type, query)
    found = [
        e["resource"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode", "match") == "match"
    ]
    return found[:count], len(found) > count


async def commit(fhir: FhirClient, tx: Transaction, *, on_conflict: Conflict) -> list[Resource]:
    """Send a transaction; a stale If-Match (HAPI: 409/412) raises `on_conflict`. The resources written."""
    try:
        return response_resources(await fhir.transaction(tx.bundle()))
    except FhirConflict:
        raise on_conflict from None


async def create_with_provenance(
    fhir: FhirClient,
    resource: Resource,
    *,
    actors: Sequence[Actor],
    activity: str,
    if_none_exist: Mapping[str, str] | None = None,
    instruction: str | None = None,
) -> Resource:
    """Create one resource and its Provenance in one transaction; returns the stored resource.

    With `if_none_exist`, a resource matching that search is returned instead of a new one.
    """
    tx = Transaction()
    ref = tx.update(resource) if "id" in resource else tx.create(resource, if_none_exist=if_none_exist)
    tx.create(provenance(targets=[ref], actors=list(actors), activity=activity, instruction=instruction))
    return response_resources(await fhir.transaction(tx.bundle()))[0]


async def update_with_provenance(
    fhir: FhirClient,
    resource: Resource,
    *,
    actors: Sequence[Actor],
    activity: str,
    if_match: str | None = None,
    instruction: str | None = None,
) -> Resource:
    """Update one resource (guarded by its version) with its Provenance, in one transaction."""
    tx = Transaction()
    ref = tx.update(resource, if_match=if_match)
    tx.create(
        provenance(
            targets=[ref], actors=list(actors), activity=activity, operation="UPDATE", instruction=instruction
        )
    )
    return response_resources(await fhir.transaction(tx.bundle()))[0]


async def update_edited(
    fhir: FhirClient,
    resource: Resource,
    edit: Callable[[Resource], bool],
    *,
    on_conflict: DomainError,
    actors: Sequence[Actor] = (),
    activity: str = "update",
    attempts: int = 5,
) -> Resource:
    """Apply `edit` and write the resource guarded by its version (with its Provenance when `actors`
    are given); after a concurrent write, re-read the latest version and apply `edit` again.

    `edit` changes the resource in place and returns False when there is nothing to write (the resource
    is returned as it is); `on_conflict` is raised when every attempt lost a race.
    """
    for _ in range(attempts):
        if not edit(resource):
            return resource
        try:
            if actors:
                return await update_with_provenance(
                    fhir, resource, actors=actors, activity=activity, if_match=version_of(resource)
                )
            return await fhir.update(resource, if_match=version_of(resource))
        except FhirConflict:
            resource = await fhir.read(resource["resourceType"], str(resource["id"]))
    raise on_conflict
