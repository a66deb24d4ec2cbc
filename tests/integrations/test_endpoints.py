"""Registered EHR endpoints against the real HAPI and a real local receiver: HAPI delivers matching changes
with the endpoint's header; pause, resume, health and delete; the header is never shown; an integration
key may create a Subscription through /fhir only to a registered URL."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from app.changes.subscriptions import wait_until_active
from app.fhir.client import FhirClient
from app.fhir.dates import parse_datetime
from tests.integrations.receiver import Receiver, receiver

pytestmark = pytest.mark.integration
DELIVERY_TIMEOUT_SECONDS = 90
ENDPOINTS = "/api/v1/integrations/endpoints"


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as running:
        yield running


async def _register(api: httpx.AsyncClient, admin: dict[str, str], url: str, secret: str) -> dict[str, Any]:
    response = await api.post(
        ENDPOINTS,
        json={
            "name": "Test EHR",
            "url": url,
            "header": f"X-EHR-Key: {secret}",
            "criteria": ["Substance?status=active"],
            "payload": "full-resource",
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    assert secret not in response.text
    body: dict[str, Any] = response.json()
    return body


async def _delivered(fhir: FhirClient, hook: Receiver, text: str) -> dict[str, Any]:
    """Write matching Substances until one reaches the receiver (HAPI starts matching a little after
    it reports a Subscription active); the one delivered."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        written = await fhir.create({"resourceType": "Substance", "status": "active", "code": {"text": text}})
        for _ in range(20):
            if hook.to(f"/Substance/{written['id']}"):
                return written
            await asyncio.sleep(0.25)
    raise AssertionError("HAPI never delivered to the registered endpoint")


async def test_a_registered_endpoint_receives_matching_changes_with_its_header_and_can_be_paused(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], fhir: FhirClient, hook: Receiver
) -> None:
    secret = f"s3cret-{uuid.uuid4().hex}"
    assert (await api.post(ENDPOINTS, json={}, headers=staff)).status_code == 403
    endpoint = await _register(api, admin, hook.url, secret)
    assert (endpoint["header"], endpoint["status"], endpoint["criteria"]) == (
        "X-EHR-Key: ********",
        "active",
        ["Substance?status=active"],
    )
    ids = [s["id"] for s in endpoint["subscriptions"]]
    try:
        await wait_until_active(fhir, ids, timeout_seconds=60)
        written = await _delivered(fhir, hook, "matching")
        [delivery] = hook.to(f"/Substance/{written['id']}")
        assert (delivery.method, delivery.headers["x-ehr-key"]) == ("PUT", secret)
        assert json.loads(delivery.body)["id"] == written["id"]
        unmatched = await fhir.create({"resourceType": "Substance", "status": "inactive"})

        health = (await api.get(f"{ENDPOINTS}/{endpoint['id']}/health", headers=admin)).json()
        assert (health["healthy"], [s["status"] for s in health["subscriptions"]]) == (True, ["active"])
        # HAPI's record of the delivery (hapi-config DeliveryStatus): after the write, before now.
        delivered_at = parse_datetime(health["last_delivery"])
        assert delivered_at is not None
        assert parse_datetime(written["meta"]["lastUpdated"]) <= delivered_at <= datetime.now(UTC)
        assert health["subscriptions"][0]["deliveries"] >= 1
        assert (health["last_failure"], health["last_error"]) == (None, None)
        listed = (await api.get(ENDPOINTS, headers=admin)).json()
        assert [e["id"] for e in listed if e["url"] == hook.url] == [endpoint["id"]]
        assert secret not in json.dumps(listed)

        paused = await api.post(f"{ENDPOINTS}/{endpoint['id']}/pause", headers=admin)
        assert paused.status_code == 200, paused.text
        assert [s["status"] for s in paused.json()["subscriptions"]] == ["off"]
        assert (await api.get(f"{ENDPOINTS}/{endpoint['id']}/health", headers=admin)).json()[
            "healthy"
        ] is False
        # HAPI applies the new status to its in-memory registry asynchronously: on a busy HAPI it kept
        # delivering for over a minute after "off" (and after a delete), so the test does not time it.
        stored = [await fhir.read("Subscription", i) for i in ids]
        assert [sub["status"] for sub in stored] == ["off"]
        assert hook.to(f"/Substance/{unmatched['id']}") == []

        resumed = await api.post(f"{ENDPOINTS}/{endpoint['id']}/resume", headers=admin)
        assert resumed.status_code == 200, resumed.text
        await wait_until_active(fhir, ids, timeout_seconds=60)
        await _delivered(fhir, hook, "after resume")
    finally:
        deleted = await api.delete(f"{ENDPOINTS}/{endpoint['id']}", headers=admin)
    assert deleted.status_code == 204, deleted.text
    assert (await api.get(f"{ENDPOINTS}/{endpoint['id']}", headers=admin)).status_code == 404
    assert await fhir.search("Subscription", {"url": hook.url}) == []


async def test_a_pause_right_after_registration_is_not_undone_by_hapis_activation(
    api: httpx.AsyncClient, admin: dict[str, str], fhir: FhirClient, hook: Receiver
) -> None:
    endpoint = await _register(api, admin, hook.url, f"s3cret-{uuid.uuid4().hex}")
    ids = [s["id"] for s in endpoint["subscriptions"]]
    try:
        # At once, while HAPI is still activating the new Subscriptions ("requested").
        paused = await api.post(f"{ENDPOINTS}/{endpoint['id']}/pause", headers=admin)
        assert paused.status_code == 200, paused.text
        await asyncio.sleep(3)  # HAPI's activation lands ~300 ms after creation
        stored = [await fhir.read("Subscription", i) for i in ids]
        assert [sub["status"] for sub in stored] == ["off"]
    finally:
        deleted = await api.delete(f"{ENDPOINTS}/{endpoint['id']}", headers=admin)
    assert deleted.status_code == 204, deleted.text


async def test_a_failing_receiver_shows_as_the_last_error_in_the_health(
    api: httpx.AsyncClient, admin: dict[str, str], fhir: FhirClient
) -> None:
    with receiver(status=500) as failing:
        endpoint = await _register(api, admin, failing.url, f"s3cret-{uuid.uuid4().hex}")
        try:
            await wait_until_active(fhir, [s["id"] for s in endpoint["subscriptions"]], timeout_seconds=60)
            health: dict[str, Any] = {}
            deadline = time.monotonic() + DELIVERY_TIMEOUT_SECONDS
            while time.monotonic() < deadline and not health.get("last_failure"):
                await fhir.create({"resourceType": "Substance", "status": "active"})
                await asyncio.sleep(2)
                health = (await api.get(f"{ENDPOINTS}/{endpoint['id']}/health", headers=admin)).json()
            assert failing.deliveries, "HAPI never tried the endpoint"
            assert health["last_failure"] is not None
            assert "HTTP 500" in health["last_error"]
            assert health["last_delivery"] is None
            assert health["subscriptions"][0]["failures"] >= 1
        finally:
            assert (await api.delete(f"{ENDPOINTS}/{endpoint['id']}", headers=admin)).status_code == 204


async def test_an_integration_key_subscribes_through_fhir_only_to_a_registered_url(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    integration: dict[str, str],
    fhir: FhirClient,
    hook: Receiver,
) -> None:
    def subscription(url: str) -> dict[str, Any]:
        return {
            "resourceType": "Subscription",
            "status": "requested",
            "reason": "EHR's own",
            "criteria": "Patient?",
            "channel": {"type": "rest-hook", "endpoint": url, "payload": "application/fhir+json"},
        }

    fhir_json = {**integration, "Content-Type": "application/fhir+json"}
    unregistered = await api.post(
        "/fhir/Subscription", content=json.dumps(subscription(hook.url)), headers=fhir_json
    )
    assert unregistered.status_code == 403, unregistered.text
    assert "not a registered endpoint" in unregistered.text
    endpoint = await _register(api, admin, hook.url, "another-secret")
    try:
        created = await api.post(
            "/fhir/Subscription", content=json.dumps(subscription(hook.url)), headers=fhir_json
        )
        assert created.status_code == 201, created.text
        hijack = await api.put(
            "/fhir/Subscription/prm-change-feed-patient-x",
            content=json.dumps({**subscription(hook.url), "id": "prm-change-feed-patient-x"}),
            headers=fhir_json,
        )
        assert hijack.status_code == 403, hijack.text
        elsewhere = await api.post(
            "/fhir/Subscription",
            content=json.dumps(subscription("https://evil.example/hook")),
            headers=fhir_json,
        )
        assert elsewhere.status_code == 403, elsewhere.text
        in_bundle = await api.post(
            "/fhir",
            content=json.dumps(
                {
                    "resourceType": "Bundle",
                    "type": "transaction",
                    "entry": [
                        {
                            "resource": subscription(hook.url),
                            "request": {"method": "POST", "url": "Subscription"},
                        }
                    ],
                }
            ),
            headers=fhir_json,
        )
        assert in_bundle.status_code == 403, in_bundle.text
        endpoint_write = await api.post(
            "/fhir/Endpoint", content=json.dumps({"resourceType": "Endpoint"}), headers=fhir_json
        )
        assert endpoint_write.status_code == 403, endpoint_write.text
        # The EHR's own Subscription shows in the endpoint's health, and goes with the endpoint.
        shown = (await api.get(f"{ENDPOINTS}/{endpoint['id']}", headers=admin)).json()
        assert sorted(s["criteria"] for s in shown["subscriptions"]) == [
            "Patient?",
            "Substance?status=active",
        ]
    finally:
        await api.delete(f"{ENDPOINTS}/{endpoint['id']}", headers=admin)
    assert await fhir.search("Subscription", {"url": hook.url}) == []
    again = await api.post(
        "/fhir/Subscription", content=json.dumps(subscription(hook.url)), headers=fhir_json
    )
    assert again.status_code == 403, again.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "ftp://ehr.example/hook"}, "url"),
        ({"url": "https://user:pw@ehr.example/hook"}, "url"),
        ({"header": "no colon here"}, "header"),
        ({"header": "X-Key: a\r\nInjected: yes"}, "header"),
        ({"criteria": ["Subscription?"]}, "criteria[0]"),
        ({"criteria": ["Patient?", "not a search"]}, "criteria[1]"),
        ({"payload": "everything"}, "payload"),
    ],
)
async def test_bad_registrations_are_422_naming_the_field_and_write_nothing(
    api: httpx.AsyncClient, admin: dict[str, str], fhir: FhirClient, change: dict[str, Any], field: str
) -> None:
    url = f"https://ehr-{uuid.uuid4().hex[:8]}.example/hook"
    body = {"name": "Bad", "url": url, "header": "X-Key: v", "criteria": ["Patient?"], **change}
    response = await api.post(ENDPOINTS, json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert field in json.dumps(response.json())
    assert await fhir.search("Subscription", {"url": body["url"]}) == []


async def test_a_url_registered_twice_is_409(api: httpx.AsyncClient, admin: dict[str, str]) -> None:
    body = {"name": "Twice", "url": f"https://ehr-{uuid.uuid4().hex[:8]}.example/hook", "header": "X-Key: v",
            "criteria": ["Patient?"], "payload": "id-only"}  # fmt: skip
    first = await api.post(ENDPOINTS, json=body, headers=admin)
    assert first.status_code == 201, first.text
    assert (first.json()["payload"], first.json()["subscriptions"][0]["status"]) == ("id-only", "requested")
    try:
        assert (await api.post(ENDPOINTS, json=body, headers=admin)).status_code == 409
    finally:
        await api.delete(f"{ENDPOINTS}/{first.json()['id']}", headers=admin)
