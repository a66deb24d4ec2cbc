"""FHIR Bulk Data $export through /fhir: the async pattern (202 + Content-Location on the PRM's base,
polling, NDJSON files read through the proxy), `_type` and `_since` honoured; staff keys refused."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from app.config import Settings
from app.fhir.client import FhirClient

pytestmark = pytest.mark.integration
EXPORT_TIMEOUT_SECONDS = 240


def _local(url: str, settings: Settings) -> str:
    """A PRM URL from a manifest or header as a path for the test client (it must name the PRM's base)."""
    parts = urlsplit(url)
    assert parts.netloc == urlsplit(settings.public_base_url).netloc, url
    assert parts.path.startswith("/fhir/"), url
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


async def _poll(api: httpx.AsyncClient, headers: dict[str, str], status_path: str) -> dict[str, Any]:
    deadline = time.monotonic() + EXPORT_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        response = await api.get(status_path, headers=headers)
        if response.status_code == 200:
            manifest: dict[str, Any] = response.json()
            return manifest
        assert response.status_code == 202, response.text
        await asyncio.sleep(1)
    raise AssertionError("the export did not complete in time")


async def test_a_bulk_export_through_the_proxy_returns_ndjson_matching_the_resources(
    api: httpx.AsyncClient,
    integration: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
) -> None:
    before = await fhir.create({"resourceType": "Substance", "code": {"text": "before the export window"}})
    await asyncio.sleep(1.1)
    since = (await fhir.create({"resourceType": "Device", "note": [{"text": "window opens"}]}))["meta"][
        "lastUpdated"
    ]
    made = {
        (s := await fhir.create({"resourceType": "Substance", "code": {"text": f"exported {n}"}}))["id"]: s
        for n in range(3)
    }
    params = {"_type": "Substance", "_since": since}

    refused = await api.get("/fhir/$export", params=params, headers={**staff, "Prefer": "respond-async"})
    assert refused.status_code == 403, refused.text
    kickoff = await api.get(
        "/fhir/$export",
        params=params,
        headers={**integration, "Prefer": "respond-async", "Accept": "application/fhir+json"},
    )
    assert kickoff.status_code == 202, kickoff.text
    manifest = await _poll(api, integration, _local(kickoff.headers["Content-Location"], settings))
    assert (
        await api.get(_local(kickoff.headers["Content-Location"], settings), headers=staff)
    ).status_code == 403

    exported: dict[str, dict[str, Any]] = {}
    assert {o["type"] for o in manifest["output"]} == {"Substance"}
    for output in manifest["output"]:
        response = await api.get(
            _local(output["url"], settings), headers={**integration, "Accept": "application/fhir+ndjson"}
        )
        assert response.status_code == 200, response.text
        for line in response.text.splitlines():
            resource = json.loads(line)
            exported[resource["id"]] = resource
    assert before["id"] not in exported
    assert {i: r for i, r in exported.items() if i in made}.keys() == made.keys()
    for resource_id, resource in made.items():
        assert exported[resource_id]["code"] == resource["code"]
        assert exported[resource_id]["meta"]["versionId"] == resource["meta"]["versionId"]
