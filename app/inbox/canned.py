"""Canned responses: reusable replies in several languages, stored in FHIR (see resources.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import datetime

import structlog

from app.errors import Conflict, NotFound
from app.fhir.builders import Actor
from app.fhir.client import FhirClient, Resource, version_of
from app.fhir.errors import FhirConflict
from app.fhir.records import create_with_provenance, require, update_with_provenance
from app.inbox import resources as res
from app.inbox.resources import CannedResponse, canned_of, is_canned_response
from app.locking import exclusive
from app.ports.state import StateStore

log = structlog.get_logger(__name__)


class ShortcutTaken(Conflict):
    """Another active canned response already has this shortcut."""

    code = "shortcut_taken"

    def __init__(self, shortcut: str, other: str) -> None:
        super().__init__(
            f"The shortcut {shortcut!r} belongs to canned response {other!r}", canned_response=other
        )


async def list_canned(fhir: FhirClient, *, tag: str | None = None) -> list[CannedResponse]:
    """Every active canned response (with `tag`, if given), by title."""
    found = [canned_of(r) for r in await fhir.search("Library", res.canned_search())]
    return sorted(
        (c for c in found if tag is None or tag in c.tags), key=lambda c: (c.title.casefold(), c.id)
    )


async def _stored(fhir: FhirClient, canned_id: str) -> Resource:
    library = await require(fhir, "Library", canned_id, what="Canned response")
    if not is_canned_response(library) or library.get("status") != "active":
        raise NotFound("Canned response", canned_id)
    return library


async def get_canned(fhir: FhirClient, canned_id: str) -> CannedResponse:
    """One active canned response; NotFound otherwise."""
    return canned_of(await _stored(fhir, canned_id))


def _shortcut_lock(state: StateStore, shortcut: str | None) -> AbstractAsyncContextManager[None]:
    """Writers of one shortcut go one at a time: two racing ones would both find it free."""
    return exclusive(state, "canned-response", shortcut) if shortcut else nullcontext()


async def _check_shortcut(fhir: FhirClient, shortcut: str | None, *, own_id: str | None) -> None:
    if shortcut is None:
        return
    for other in await fhir.search("Library", res.canned_search(shortcut=shortcut)):
        if other.get("id") != own_id:
            raise ShortcutTaken(shortcut, str(other.get("id")))


async def create_canned(
    fhir: FhirClient,
    state: StateStore,
    *,
    title: str,
    texts: Mapping[str, str],
    tags: Sequence[str],
    shortcut: str | None,
    actor: Actor,
    at: datetime,
) -> CannedResponse:
    """Store a new canned response; ShortcutTaken if its shortcut is in use."""
    library = res.fill({}, title=title, texts=texts, tags=tags, shortcut=shortcut, at=at)
    async with _shortcut_lock(state, shortcut):
        await _check_shortcut(fhir, shortcut, own_id=None)
        stored = await create_with_provenance(
            fhir, library, actors=[actor], activity="canned-response.create"
        )
    log.info("canned_response.created", canned_response=f"Library/{stored['id']}")
    return canned_of(stored)


async def replace_canned(
    fhir: FhirClient,
    state: StateStore,
    *,
    canned_id: str,
    title: str,
    texts: Mapping[str, str],
    tags: Sequence[str],
    shortcut: str | None,
    actor: Actor,
    at: datetime,
) -> CannedResponse:
    """Replace every field of a canned response; NotFound, ShortcutTaken, or Conflict on a racing edit."""
    async with _shortcut_lock(state, shortcut):
        library = await _stored(fhir, canned_id)
        version = version_of(library)
        await _check_shortcut(fhir, shortcut, own_id=canned_id)
        res.fill(library, title=title, texts=texts, tags=tags, shortcut=shortcut, at=at)
        stored = await _update(fhir, library, version=version, actor=actor, activity="canned-response.update")
    log.info("canned_response.updated", canned_response=f"Library/{canned_id}")
    return canned_of(stored)


async def delete_canned(fhir: FhirClient, *, canned_id: str, actor: Actor) -> None:
    """Retire a canned response (NotFound if it is not an active one)."""
    library = await _stored(fhir, canned_id)
    version = version_of(library)
    res.retire(library)
    await _update(fhir, library, version=version, actor=actor, activity="canned-response.delete")
    log.info("canned_response.retired", canned_response=f"Library/{canned_id}")


async def _update(
    fhir: FhirClient, library: Resource, *, version: str, actor: Actor, activity: str
) -> Resource:
    try:
        return await update_with_provenance(
            fhir, library, actors=[actor], activity=activity, if_match=version
        )
    except FhirConflict:
        raise Conflict("The canned response was changed meanwhile; read it again and retry") from None
