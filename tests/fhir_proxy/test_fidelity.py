"""The proxy is faithful: bytes, decimals, _pretty, gzip both ways, links built by HAPI for the PRM."""

from __future__ import annotations

import base64
import gzip
import json
import os
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.fhir_proxy.router import BUFFERED_BYTES
from app.main import create_app
from tests.conftest import PUBLIC_BASE_URL, make_settings, started
from tests.factories import organization, unique
from tests.fhir_proxy.support import FHIR_JSON

pytestmark = pytest.mark.integration

# 26 significant digits: more than a float (or a re-encoding JSON parser) keeps.
LONG_DECIMAL = "12345678901234567890.123456"
DASHBOARD = "https://dashboard.clinic.test"


def observation(value: str) -> bytes:
    """An Observation whose quantity is written as the decimal literal `value`."""
    return (
        '{"resourceType":"Observation","status":"final","code":{"text":"weight"},'
        f'"valueQuantity":{{"value":{value},"unit":"kg"}}}}'
    ).encode()


@pytest.mark.parametrize("value", ["1.50", LONG_DECIMAL])
async def test_decimals_and_bytes_are_exactly_hapis(
    api: httpx.AsyncClient, integration: dict[str, str], hapi_url: str, value: str
) -> None:
    created = await api.post(
        "/fhir/Observation", content=observation(value), headers={**integration, **FHIR_JSON}
    )
    assert created.status_code == 201, created.text
    path = created.headers["location"].removeprefix(PUBLIC_BASE_URL).split("/_history")[0]

    through_prm = await api.get(path, headers={**integration, "Accept-Encoding": "identity"})
    direct = httpx.get(hapi_url + path.removeprefix("/fhir"), headers={"Accept-Encoding": "identity"})

    assert f'"value":{value}'.encode() in through_prm.content
    assert through_prm.content == direct.content


async def test_pretty_printing_is_kept(
    api: httpx.AsyncClient, integration: dict[str, str], hapi_url: str
) -> None:
    created = (
        await api.post("/fhir/Organization", json=organization(), headers={**integration, **FHIR_JSON})
    ).json()

    pretty = await api.get(
        f"/fhir/Organization/{created['id']}", params={"_pretty": "true"}, headers=integration
    )
    direct = httpx.get(f"{hapi_url}/Organization/{created['id']}", params={"_pretty": "true"})

    assert pretty.content.startswith(b'{\n  "resourceType": "Organization"')
    assert pretty.content == direct.content


async def test_a_gzip_request_body_is_accepted(api: httpx.AsyncClient, integration: dict[str, str]) -> None:
    org = organization()

    response = await api.post(
        "/fhir/Organization",
        content=gzip.compress(json.dumps(org).encode()),
        headers={**integration, **FHIR_JSON, "Content-Encoding": "gzip"},
    )

    assert response.status_code == 201, response.text
    assert response.json()["identifier"] == org["identifier"]


async def test_a_gzip_transaction_is_inspected_and_accepted(
    api: httpx.AsyncClient, integration: dict[str, str]
) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": organization(), "request": {"method": "POST", "url": "Organization"}}],
    }

    response = await api.post(
        "/fhir",
        content=gzip.compress(json.dumps(bundle).encode()),
        headers={**integration, **FHIR_JSON, "Content-Encoding": "gzip"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["type"] == "transaction-response"


async def test_responses_are_gzip_when_the_client_accepts_it(
    api: httpx.AsyncClient, integration: dict[str, str]
) -> None:
    zipped = await api.get(
        "/fhir/Organization", params={"_count": "5"}, headers={**integration, "Accept-Encoding": "gzip"}
    )
    plain = await api.get(
        "/fhir/Organization", params={"_count": "5"}, headers={**integration, "Accept-Encoding": "identity"}
    )

    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.json()["resourceType"] == "Bundle"  # httpx inflated HAPI's gzip bytes
    assert "content-encoding" not in plain.headers


async def test_xml_search_bundle_links_point_at_the_prm(
    api: httpx.AsyncClient, integration: dict[str, str], hapi_url: str
) -> None:
    name = unique("xml")
    for _ in range(2):
        await api.post(
            "/fhir/Organization", json=organization(name=name), headers={**integration, **FHIR_JSON}
        )

    response = await api.get(
        "/fhir/Organization",
        params={"name:exact": name, "_count": "1", "_format": "xml"},
        headers=integration,
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+xml")
    assert f'<url value="{PUBLIC_BASE_URL}/fhir?_getpages='.encode() in response.content
    assert f'<fullUrl value="{PUBLIC_BASE_URL}/fhir/Organization/'.encode() in response.content
    assert hapi_url.encode() not in response.content


async def test_a_bundle_nested_in_a_batch_response_has_prm_links_and_next_needs_a_key(
    api: httpx.AsyncClient, integration: dict[str, str], hapi_url: str
) -> None:
    name = unique("nested")
    for _ in range(3):
        await api.post(
            "/fhir/Organization", json=organization(name=name), headers={**integration, **FHIR_JSON}
        )
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"request": {"method": "GET", "url": f"Organization?name:exact={name}&_count=2"}}],
    }

    response = await api.post("/fhir", json=batch, headers={**integration, **FHIR_JSON})

    assert response.status_code == 200, response.text
    nested = response.json()["entry"][0]["resource"]
    links = {link["relation"]: link["url"] for link in nested["link"]}
    assert links["next"].startswith(f"{PUBLIC_BASE_URL}/fhir?_getpages=")
    assert all(e["fullUrl"].startswith(f"{PUBLIC_BASE_URL}/fhir/Organization/") for e in nested["entry"])
    assert hapi_url not in response.text
    next_path = links["next"].removeprefix(PUBLIC_BASE_URL)
    without_key = await api.get(next_path)
    with_key = await api.get(next_path, headers=integration)
    assert without_key.status_code == 401
    assert with_key.status_code == 200
    assert len(with_key.json()["entry"]) == 1


async def test_the_request_id_is_returned_and_reaches_hapi(
    api: httpx.AsyncClient, integration: dict[str, str]
) -> None:
    response = await api.post(
        "/fhir/Organization",
        json=organization(),
        headers={**integration, **FHIR_JSON, "X-Request-ID": "req-42", "Prefer": "return=representation"},
    )

    assert response.headers["x-request-id"] == "req-42"
    assert response.json()["meta"]["source"] == "urn:prm:user:ehr@test#req-42"


async def test_metadata_is_public_and_the_prms(api: httpx.AsyncClient) -> None:
    response = await api.get("/fhir/metadata")

    assert response.status_code == 200
    statement = response.json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["implementation"]["url"] == f"{PUBLIC_BASE_URL}/fhir"
    assert statement["software"]["name"] == "PRM FHIR endpoint"
    rest = statement["rest"][0]
    assert rest["security"]["cors"] is True
    assert "Bearer" in rest["security"]["description"]
    for forbidden in ("expunge", "reindex", "meta-delete", "mark-all-resources", "trigger-subscription"):
        assert forbidden not in response.text
    resources = {r["type"]: r for r in rest["resource"]}
    assert "Subscription" not in resources
    for read_only in ("StructureDefinition", "Provenance", "AuditEvent"):
        codes = {i["code"] for i in resources[read_only]["interaction"]}
        assert codes.isdisjoint({"create", "update", "patch", "delete"}), read_only
        assert "read" in codes
    assert {"create", "update", "delete", "read"} <= {i["code"] for i in resources["Patient"]["interaction"]}
    assert {op["name"] for op in resources["Patient"].get("operation", [])} <= {
        "validate",
        "everything",
        "meta",
        "expand",
        "lookup",
        "validate-code",
        "export",  # Patient/$export: integration and admin keys only (docs/integrations/ehr.md)
    }
    assert {"export", "export-poll-status"} <= {op["name"] for op in rest.get("operation", [])}
    endpoint = {i["code"] for i in resources["Endpoint"]["interaction"]}
    assert "read" in endpoint and endpoint.isdisjoint({"create", "update", "patch", "delete"})


async def test_metadata_in_xml_is_406(api: httpx.AsyncClient) -> None:
    response = await api.get("/fhir/metadata", params={"_format": "xml"})

    assert response.status_code == 406
    assert response.json()["issue"][0]["diagnostics"] == (
        "The PRM's CapabilityStatement is served as JSON only (_format=json)"
    )


@pytest.fixture(scope="module")
async def cors_api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(
        make_settings(
            fhir_base_url=settings.fhir_base_url, redis_url=settings.redis_url, cors_origins=[DASHBOARD]
        )
    )
    async for client in started(app):
        yield client


@pytest.mark.parametrize("path", ["/fhir/Patient", "/api/v1/patients"])
async def test_a_preflight_from_a_configured_origin_is_answered_without_a_key(
    cors_api: httpx.AsyncClient, path: str
) -> None:
    preflight = {
        "Origin": DASHBOARD,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }

    allowed = await cors_api.options(path, headers=preflight)
    other = await cors_api.options(path, headers={**preflight, "Origin": "https://evil.test"})

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == DASHBOARD
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers


async def test_a_dashboard_on_another_origin_can_read_the_paging_headers(
    cors_api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    listed = await cors_api.get(
        "/api/v1/patients", params={"limit": 1}, headers={**staff, "Origin": DASHBOARD}
    )

    assert listed.status_code == 200, listed.text
    exposed = {h.strip().lower() for h in listed.headers["access-control-expose-headers"].split(",")}
    assert {"x-total-count", "x-next-cursor", "x-has-more", "retry-after"} <= exposed
    assert "x-total-count" in listed.headers


async def test_without_configured_origins_a_preflight_is_a_405_outcome(api: httpx.AsyncClient) -> None:
    response = await api.options(
        "/fhir/Patient", headers={"Origin": DASHBOARD, "Access-Control-Request-Method": "GET"}
    )

    assert response.status_code == 405
    assert "access-control-allow-origin" not in response.headers


async def test_a_large_body_streams_through_byte_for_byte(
    api: httpx.AsyncClient, integration: dict[str, str], hapi_url: str
) -> None:
    # Larger than the proxy relays in one piece (router.BUFFERED_BYTES), so it streams.
    data = base64.b64encode(os.urandom(600 * 1024)).decode()
    created = await api.post(
        "/fhir/Binary",
        json={"resourceType": "Binary", "contentType": "application/octet-stream", "data": data},
        headers={**integration, **FHIR_JSON},
    )
    assert created.status_code == 201, created.text
    path = created.headers["location"].removeprefix(PUBLIC_BASE_URL).split("/_history")[0]
    fhir_json = {"Accept": "application/fhir+json", "Accept-Encoding": "identity"}

    through_prm = await api.get(path, headers={**integration, **fhir_json})
    direct = httpx.get(hapi_url + path.removeprefix("/fhir"), headers=fhir_json)

    assert len(through_prm.content) > BUFFERED_BYTES
    assert through_prm.content == direct.content
    assert through_prm.json()["data"] == data
