"""Shared steps of the EHR integration tests: the change feed run as the worker runs it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx

from app.changes import jobs as changes
from app.changes.registry import ChangeContext
from app.fhir.client import Resource
from app.services import Services
from workers.registry import change_context


def context(services: Services) -> ChangeContext:
    """The worker's change context in the clinic's time zone."""
    return replace(change_context(services), default_timezone="Asia/Kolkata")


async def feed(services: Services, resource: Resource, *, kind: str | None = None) -> None:
    """What the worker does with the change-feed entry of this version (every handler of the type)."""
    version = resource["meta"]["versionId"]
    await changes.handle_change(
        resource_type=resource["resourceType"],
        resource_id=resource["id"],
        version=version,
        kind=kind or ("created" if version == "1" else "updated"),
        context=context(services),
        dedupe_ttl_seconds=1,
    )


async def fhir_write(
    api: httpx.AsyncClient, headers: dict[str, str], method: str, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    """A write through the PRM's /fhir (as an EHR makes it); the stored resource."""
    response = await api.request(
        method,
        f"/fhir/{path}",
        json=body,
        headers={**headers, "Content-Type": "application/fhir+json", "Prefer": "return=representation"},
    )
    assert response.status_code in (200, 201), response.text
    stored: dict[str, Any] = response.json()
    return stored
