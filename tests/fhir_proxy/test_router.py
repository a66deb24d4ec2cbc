"""The /fhir pass-through: authenticated, faithful to HAPI, links pointing at the PRM."""

from __future__ import annotations

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from tests.conftest import PUBLIC_BASE_URL, make_settings, started
from tests.factories import TEST_SYSTEM, organization, unique
from tests.support.servers import free_port

pytestmark = pytest.mark.integration

FHIR_JSON = {"Content-Type": "application/fhir+json"}


async def test_metadata_is_hapis_r4_capability_statement(
    api: httpx.AsyncClient, integration: dict[str, str]
) -> None:
    response = await api.get("/fhir/metadata", headers=integration)

    assert response.status_code == 200
    assert response.json()["resourceType"] == "CapabilityStatement"
    assert response.json()["fhirVersion"] == "4.0.1"


async def test_without_a_key_the_answer_is_401(api: httpx.AsyncClient) -> None:
    response = await api.get("/fhir/metadata")

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


async def test_with_a_wrong_key_the_answer_is_401(api: httpx.AsyncClient) -> None:
    response = await api.get("/fhir/metadata", headers={"Authorization": "Bearer not-a-key"})

    assert response.status_code == 401
    assert response.json()["message"] == "Invalid API key"


async def test_staff_may_read_but_not_write(api: httpx.AsyncClient, staff: dict[str, str]) -> None:
    assert (await api.get("/fhir/metadata", headers=staff)).status_code == 200

    response = await api.post("/fhir/Organization", json=organization(), headers={**staff, **FHIR_JSON})

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


async def test_create_returns_201_with_etag_and_a_location_on_the_prm(
    api: httpx.AsyncClient, integration: dict[str, str]
) -> None:
    response = await api.post("/fhir/Organization", json=organization(), headers={**integration, **FHIR_JSON})

    assert response.status_code == 201
    assert response.headers["etag"] == 'W/"1"'
    assert response.headers["location"].startswith(f"{PUBLIC_BASE_URL}/fhir/Organization/")


async def test_if_none_exist_is_forwarded(api: httpx.AsyncClient, integration: dict[str, str]) -> None:
    org = organization()
    headers = {
        **integration,
        **FHIR_JSON,
        "If-None-Exist": f"identifier={TEST_SYSTEM}|{org['identifier'][0]['value']}",
    }

    first = await api.post("/fhir/Organization", json=org, headers=headers)
    second = await api.post("/fhir/Organization", json=org, headers=headers)

    assert (first.status_code, second.status_code) == (201, 200)


async def test_a_stale_if_match_is_forwarded_and_hapi_status_returned(
    api: httpx.AsyncClient, integration: dict[str, str]
) -> None:
    created = (
        await api.post("/fhir/Organization", json=organization(), headers={**integration, **FHIR_JSON})
    ).json()
    url = f"/fhir/Organization/{created['id']}"
    ok = await api.put(
        url, json={**created, "name": "v2"}, headers={**integration, **FHIR_JSON, "If-Match": 'W/"1"'}
    )
    stale = await api.put(
        url, json={**created, "name": "v3"}, headers={**integration, **FHIR_JSON, "If-Match": 'W/"1"'}
    )

    assert ok.status_code == 200
    assert ok.headers["etag"] == 'W/"2"'
    assert stale.status_code == 409
    assert stale.json()["resourceType"] == "OperationOutcome"


async def test_a_request_hapi_rejects_comes_back_unchanged(
    api: httpx.AsyncClient, integration: dict[str, str]
) -> None:
    response = await api.post(
        "/fhir/Organization",
        content=b'{"resourceType": "Organization", "active": "yes"}',
        headers={**integration, **FHIR_JSON},
    )

    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
    assert "HAPI-" in response.json()["issue"][0]["diagnostics"]


async def test_search_bundle_links_point_at_the_prm_and_paging_works_through_it(
    api: httpx.AsyncClient, integration: dict[str, str]
) -> None:
    name = unique("proxied")
    for _ in range(3):
        await api.post(
            "/fhir/Organization", json=organization(name=name), headers={**integration, **FHIR_JSON}
        )

    first = (
        await api.get("/fhir/Organization", params={"name:exact": name, "_count": "2"}, headers=integration)
    ).json()
    links = {link["relation"]: link["url"] for link in first["link"]}

    assert all(url.startswith(f"{PUBLIC_BASE_URL}/fhir") for url in links.values())
    assert all(
        entry["fullUrl"].startswith(f"{PUBLIC_BASE_URL}/fhir/Organization/") for entry in first["entry"]
    )
    second = await api.get(links["next"].removeprefix(PUBLIC_BASE_URL), headers=integration)
    assert second.status_code == 200
    ids = {e["resource"]["id"] for e in first["entry"]} | {
        e["resource"]["id"] for e in second.json()["entry"]
    }
    assert len(ids) == 3


async def test_transactions_go_through_the_system_endpoint(
    api: httpx.AsyncClient, integration: dict[str, str]
) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": organization(), "request": {"method": "POST", "url": "Organization"}}],
    }

    response = await api.post("/fhir", json=bundle, headers={**integration, **FHIR_JSON})

    assert response.status_code == 200
    assert response.json()["type"] == "transaction-response"


async def test_hapi_down_gives_503_not_a_hang(settings: Settings, integration: dict[str, str]) -> None:
    app = create_app(
        make_settings(fhir_base_url=f"http://127.0.0.1:{free_port()}/fhir", redis_url=settings.redis_url)
    )
    async for client in started(app):
        response = await client.get("/fhir/Patient", headers=integration)

    assert response.status_code == 503
    assert response.json()["error"] == "fhir_unavailable"
