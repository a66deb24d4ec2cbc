"""fhirpy (the ecosystem's client) and plain HTTP drive /fhir on a real uvicorn: same answers as HAPI.

The API listens on 127.0.0.1; clients call it as `localhost` and as `127.0.0.1`, and every link
they follow must name the host they called (fhirpy refuses links to another base).
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET

import httpx
import pytest
from fhirpy import AsyncFHIRClient

from tests.conftest import INTEGRATION_KEY
from tests.factories import organization, unique
from tests.fhir_proxy.support import FHIR_JSON

pytestmark = pytest.mark.integration

FHIR_NS = {"f": "http://hl7.org/fhir"}
ORGANIZATIONS = 5


@pytest.fixture(scope="module")
async def named(live_api: int) -> str:
    """A unique name shared by ORGANIZATIONS Organizations, created through the live /fhir."""
    name = unique("paged")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{live_api}/fhir/") as client:
        for _ in range(ORGANIZATIONS):
            response = await client.post(
                "Organization",
                json=organization(name=name),
                headers={"Authorization": f"Bearer {INTEGRATION_KEY}", **FHIR_JSON},
            )
            assert response.status_code == 201
    return name


def prm_client(host: str, port: int) -> AsyncFHIRClient:
    return AsyncFHIRClient(f"http://{host}:{port}/fhir", authorization=f"Bearer {INTEGRATION_KEY}")


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
async def test_fhirpy_pages_through_the_host_it_called(
    live_api: int, hapi_url: str, named: str, host: str
) -> None:
    through_prm = (
        await prm_client(host, live_api)
        .resources("Organization")
        .search(name__exact=named)
        .limit(2)
        .fetch_all()
    )
    direct = (
        await AsyncFHIRClient(hapi_url)
        .resources("Organization")
        .search(name__exact=named)
        .limit(2)
        .fetch_all()
    )

    assert len(through_prm) == ORGANIZATIONS
    assert sorted(r["id"] for r in through_prm) == sorted(r["id"] for r in direct)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
async def test_links_name_the_host_called_and_totals_match_hapi(
    live_api: int, hapi_url: str, named: str, host: str
) -> None:
    params = {"name:exact": named, "_count": "2", "_total": "accurate"}
    async with httpx.AsyncClient() as client:
        through_prm = (
            await client.get(
                f"http://{host}:{live_api}/fhir/Organization",
                params=params,
                headers={"Authorization": f"Bearer {INTEGRATION_KEY}"},
            )
        ).json()
        direct = (await client.get(f"{hapi_url}/Organization", params=params)).json()

    assert through_prm["total"] == direct["total"] == ORGANIZATIONS
    assert all(link["url"].startswith(f"http://{host}:{live_api}/fhir") for link in through_prm["link"])
    assert [e["resource"]["id"] for e in through_prm["entry"]] == [
        e["resource"]["id"] for e in direct["entry"]
    ]


async def test_xml_paging_with_a_key(live_api: int, hapi_url: str, named: str) -> None:
    headers = {"Authorization": f"Bearer {INTEGRATION_KEY}"}
    url: str | None = f"http://localhost:{live_api}/fhir/Organization?name:exact={named}&_count=2&_format=xml"
    ids: list[str] = []
    async with httpx.AsyncClient() as client:
        while url:
            response = await client.get(url, headers=headers)
            assert response.status_code == 200
            bundle = ET.fromstring(response.content)
            ids += [
                e.attrib["value"] for e in bundle.findall("f:entry/f:resource/f:Organization/f:id", FHIR_NS)
            ]
            links = {
                link.find("f:relation", FHIR_NS).attrib["value"]: link.find("f:url", FHIR_NS).attrib["value"]  # type: ignore[union-attr]
                for link in bundle.findall("f:link", FHIR_NS)
            }
            url = links.get("next")
            assert url is None or url.startswith(f"http://localhost:{live_api}/fhir?")
        direct = (
            await client.get(f"{hapi_url}/Organization", params={"name:exact": named, "_count": "100"})
        ).json()

    assert sorted(ids) == sorted(e["resource"]["id"] for e in direct["entry"])


async def test_fhirpy_batch_with_a_nested_bundle(live_api: int, named: str) -> None:
    client = prm_client("localhost", live_api)
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"request": {"method": "GET", "url": f"Organization?name:exact={named}&_count=2"}}],
    }

    response = await client.execute("", method="post", data=batch)

    nested = response["entry"][0]["resource"]
    next_url = next(link["url"] for link in nested["link"] if link["relation"] == "next")
    assert next_url.startswith(f"http://localhost:{live_api}/fhir?_getpages=")
    second = await client.execute(next_url.removeprefix(f"http://localhost:{live_api}/fhir"), method="get")
    assert len(second["entry"]) == 2


async def test_decimals_survive_and_gzip_flows_both_ways(live_api: int, hapi_url: str) -> None:
    body = (
        b'{"resourceType":"Observation","status":"final","code":{"text":"w"},"valueQuantity":{"value":1.50}}'
    )
    headers = {"Authorization": f"Bearer {INTEGRATION_KEY}", **FHIR_JSON}
    async with httpx.AsyncClient() as client:
        created = await client.post(
            f"http://127.0.0.1:{live_api}/fhir/Observation",
            content=gzip.compress(body),
            headers={**headers, "Content-Encoding": "gzip", "Accept-Encoding": "gzip"},
        )
        observation_id = created.headers["location"].split("/Observation/")[1].split("/")[0]
        through_prm = await client.get(
            f"http://127.0.0.1:{live_api}/fhir/Observation/{observation_id}",
            headers={**headers, "Accept-Encoding": "gzip"},
        )
        direct = await client.get(
            f"{hapi_url}/Observation/{observation_id}", headers={"Accept-Encoding": "gzip"}
        )

    assert created.status_code == 201
    assert created.headers["content-encoding"] == "gzip"
    assert through_prm.headers["content-encoding"] == "gzip"
    assert b'"value":1.50' in through_prm.content
    assert through_prm.content == direct.content
