"""Fixtures of the conformance tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from app.fhir.client import FhirClient, Resource
from app.fhir.errors import FhirError


class Made:
    """Creates resources for one test and deletes them afterwards, so copies of the examples do not
    show up in other tests' counts (pipelines, tickets, consents)."""

    def __init__(self, fhir: FhirClient) -> None:
        self._fhir = fhir
        self.refs: list[tuple[str, str]] = []

    async def create(self, resource: Resource) -> Resource:
        """POST `resource` and remember it for deletion."""
        created = await self._fhir.create(resource)
        self.track(created)
        return created

    def track(self, resource: Resource) -> None:
        """Delete this stored resource after the test."""
        self.refs.append((resource["resourceType"], resource["id"]))

    async def delete_all(self) -> None:
        """Delete what the test created, newest first."""
        for resource_type, resource_id in reversed(self.refs):
            # Already gone, or still referenced by something the test left on purpose.
            with contextlib.suppress(FhirError):
                await self._fhir.delete(resource_type, resource_id)


@pytest.fixture
async def made(fhir: FhirClient) -> AsyncIterator[Made]:
    helper = Made(fhir)
    yield helper
    await helper.delete_all()
