"""Catch-up after an outage: an EHR that was down longer than HAPI's delivery retries reads
`_history?_since=` through /fhir with its integration key, pages to the end, and sees every change:
creates, updates and deletes."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from app.changes.subscriptions import wait_until_active
from app.config import Settings
from app.fhir.client import FhirClient
from app.fhir.errors import FhirConflict
from tests.integrations.receiver import Receiver, receiver

pytestmark = pytest.mark.integration
# Unprofiled types no PRM handler or other test family writes: the counts below are this test's alone.
TYPES = ("Substance", "Device")
PAGE = 7  # small pages: the catch-up must follow several next links
ENDPOINTS = "/api/v1/integrations/endpoints"
# HAPI retries a failed rest-hook for about a minute: no new attempt for this long means it gave up.
GIVEN_UP_AFTER_SECONDS = 30
OUTAGE_LIMIT_SECONDS = 240


def _substance(text: str) -> dict[str, Any]:
    return {"resourceType": "Substance", "code": {"text": text}}


def _device(text: str) -> dict[str, Any]:
    return {"resourceType": "Device", "note": [{"text": text}]}


async def _make_30_changes(fhir: FhirClient) -> Counter[tuple[str, str, str, str]]:
    """15 creates, 10 updates, 5 deletes over two types; (type, id, version, method) of each."""
    made: Counter[tuple[str, str, str, str]] = Counter()
    created = [await fhir.create(_substance(f"s{n}")) for n in range(10)]
    created += [await fhir.create(_device(f"d{n}")) for n in range(5)]
    for resource in created:
        made[(resource["resourceType"], resource["id"], "1", "POST")] += 1
    for resource in created[:10]:
        updated = await fhir.update({**resource, "status": "inactive"})
        made[(resource["resourceType"], resource["id"], updated["meta"]["versionId"], "PUT")] += 1
    for index in range(8, 13):  # two updated Substances (version 3 is the delete), three Devices (2)
        resource = created[index]
        await _delete(fhir, resource["resourceType"], resource["id"])
        made[(resource["resourceType"], resource["id"], "3" if index < 10 else "2", "DELETE")] += 1
    return made


async def _delete(fhir: FhirClient, resource_type: str, resource_id: str) -> None:
    """Delete; HAPI on H2 now and then refuses a delete right after an update (HAPI-0550): once more."""
    for attempt in range(3):
        try:
            await fhir.delete(resource_type, resource_id)
            return
        except FhirConflict:
            if attempt == 2:
                raise
            await asyncio.sleep(0.5)


def _entry_key(entry: dict[str, Any]) -> tuple[str, str, str, str]:
    request = entry["request"]
    if request["method"] == "DELETE":
        resource_type, resource_id, _, version = request["url"].split("/")
        return resource_type, resource_id, version, "DELETE"
    resource = entry["resource"]
    return resource["resourceType"], resource["id"], resource["meta"]["versionId"], request["method"]


async def _read_all(
    api: httpx.AsyncClient, headers: dict[str, str], path: str, params: dict[str, str], *, public: str
) -> list[Any]:
    """Every entry of a history, following next links (they name the PRM's public /fhir, not HAPI)."""
    response = await api.get(path, params=params, headers=headers)
    entries: list[Any] = []
    pages = 0
    while True:
        assert response.status_code == 200, response.text
        bundle = response.json()
        entries += bundle.get("entry", [])
        pages += 1
        following = [link["url"] for link in bundle.get("link", []) if link["relation"] == "next"]
        if not following:
            return entries
        parts = urlsplit(following[0])
        assert parts.path.startswith("/fhir/") and parts.netloc == public, following[0]
        response = await api.get(f"{parts.path}?{parts.query}", headers=headers)


async def _until_hapi_gives_up(ehr: Receiver) -> int:
    """Wait until HAPI has tried the down receiver and then stopped trying; the attempts it made."""
    deadline = time.monotonic() + OUTAGE_LIMIT_SECONDS
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        if len(ehr.deliveries) != seen:
            seen, quiet_since = len(ehr.deliveries), time.monotonic()
        elif seen > 0 and time.monotonic() - quiet_since >= GIVEN_UP_AFTER_SECONDS:
            return seen
        await asyncio.sleep(1)
    raise AssertionError(f"HAPI was still retrying after {OUTAGE_LIMIT_SECONDS} s ({seen} attempts)")


async def test_an_ehr_down_longer_than_hapis_retries_catches_up_on_all_30_changes_through_the_prm(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    integration: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
) -> None:
    public = urlsplit(settings.public_base_url).netloc
    with receiver(status=503) as ehr:
        registered = await api.post(
            ENDPOINTS,
            json={
                "name": "EHR that goes down",
                "url": ehr.url,
                "header": "X-EHR-Key: outage-test",
                # The 10 updates below make Substances inactive: those are the deliveries that fail.
                "criteria": ["Substance?status=inactive"],
                "payload": "id-only",
            },
            headers=admin,
        )
        assert registered.status_code == 201, registered.text
        endpoint = registered.json()
        try:
            await wait_until_active(fhir, [s["id"] for s in endpoint["subscriptions"]], timeout_seconds=60)
            marker = await fhir.create(_substance("outage begins"))
            since = marker["meta"]["lastUpdated"]
            made = await _make_30_changes(fhir)
            assert sum(made.values()) == 30

            attempts = await _until_hapi_gives_up(ehr)
            ehr.status = 200  # the EHR is back; HAPI does not replay what it dropped
            await asyncio.sleep(10)
            assert len(ehr.deliveries) == attempts

            seen: Counter[tuple[str, str, str, str]] = Counter()
            for resource_type in TYPES:
                entries = await _read_all(
                    api,
                    integration,
                    f"/fhir/{resource_type}/_history",
                    {"_since": since, "_count": str(PAGE)},
                    public=public,
                )
                seen.update(_entry_key(e) for e in entries)
        finally:
            assert (await api.delete(f"{ENDPOINTS}/{endpoint['id']}", headers=admin)).status_code == 204
    ours = {key[1] for key in made}
    assert Counter({k: v for k, v in seen.items() if k[1] in ours}) == made
    assert sum(1 for k in made if k[3] == "DELETE") == 5
