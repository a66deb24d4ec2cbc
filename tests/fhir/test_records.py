"""records.update_edited against the real HAPI: a lost race re-reads and re-applies the edit; a race lost
on every attempt raises the caller's error; an edit with nothing to write writes nothing."""

from __future__ import annotations

import pytest

from app.errors import Conflict
from app.fhir.client import FhirClient, Resource, version_of
from app.fhir.records import update_edited
from tests.factories import organization, unique

pytestmark = pytest.mark.integration


async def test_an_edit_that_lost_a_race_is_applied_to_the_latest_version(fhir: FhirClient) -> None:
    stale = await fhir.create(organization())
    await fhir.update({**stale, "alias": ["renamed meanwhile"]}, if_match=version_of(stale))

    def add_phone(org: Resource) -> bool:
        org["telecom"] = [{"system": "phone", "value": "+918041234567"}]
        return True

    written = await update_edited(fhir, dict(stale), add_phone, on_conflict=Conflict("lost"))

    assert version_of(written) == "3"
    assert written["alias"] == ["renamed meanwhile"]  # the concurrent write is kept
    assert written["telecom"][0]["value"] == "+918041234567"


async def test_a_race_lost_on_every_attempt_raises_the_callers_error(fhir: FhirClient) -> None:
    created = await fhir.create(organization())
    racing = _Racing(fhir.base_url)
    calls = 0

    def deactivate(org: Resource) -> bool:
        nonlocal calls
        calls += 1
        org["active"] = False
        return True

    with pytest.raises(Conflict, match="kept losing"):
        await update_edited(
            racing,
            created,
            deactivate,
            on_conflict=Conflict("kept losing"),
            attempts=3,
        )

    await racing.aclose()

    assert calls == 3
    assert (await fhir.read("Organization", created["id"])).get("active") is not False


async def test_an_edit_with_nothing_to_write_writes_nothing(fhir: FhirClient) -> None:
    created = await fhir.create(organization())

    same = await update_edited(fhir, created, lambda org: False, on_conflict=Conflict("lost"))

    assert same is created
    assert version_of(await fhir.read("Organization", created["id"])) == "1"


class _Racing(FhirClient):
    """A client whose every update is preceded by another writer's: ours is always stale."""

    async def update(self, resource: Resource, *, if_match: str | None = None) -> Resource:
        """Let another writer win first, then send ours."""
        latest = await self.read("Organization", resource["id"])
        await super().update({**latest, "alias": [unique("writer-")]}, if_match=version_of(latest))
        return await super().update(resource, if_match=if_match)
