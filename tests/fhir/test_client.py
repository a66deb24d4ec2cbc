"""The FHIR gateway against the real HAPI server."""

from __future__ import annotations

import asyncio
import socket

import pytest

from app.config import Settings
from app.fhir.bundle import Transaction
from app.fhir.client import FhirClient, bundle_resources, resource_path, search_query, version_of
from app.fhir.errors import FhirConflict, FhirInvalid, FhirNotFound, FhirUnavailable
from tests.factories import TEST_SYSTEM, organization, unique
from tests.support.transport import CountingTransport

pytestmark = pytest.mark.integration


async def test_conditional_create_of_the_same_identifier_twice_gives_one_resource(fhir: FhirClient) -> None:
    org = organization()
    match = {"identifier": f"{TEST_SYSTEM}|{org['identifier'][0]['value']}"}

    first, created_first = await fhir.conditional_create(org, match=match)
    second, created_second = await fhir.conditional_create(org, match=match)

    assert (created_first, created_second) == (True, False)
    assert first["id"] == second["id"]
    assert (
        await fhir.count("Organization", {"identifier": f"{TEST_SYSTEM}|{org['identifier'][0]['value']}"})
        == 1
    )


async def test_update_with_a_stale_version_raises_conflict(fhir: FhirClient) -> None:
    created = await fhir.create(organization())
    stale = version_of(created)
    await fhir.update({**created, "name": "renamed"}, if_match=stale)

    with pytest.raises(FhirConflict):
        await fhir.update({**created, "name": "lost update"}, if_match=stale)

    assert (await fhir.read("Organization", created["id"]))["name"] == "renamed"


async def test_update_with_the_current_version_succeeds(fhir: FhirClient) -> None:
    created = await fhir.create(organization())

    updated = await fhir.update({**created, "name": "renamed"}, if_match=version_of(created))

    assert version_of(updated) == "2"


async def test_transaction_with_one_bad_entry_writes_nothing(fhir: FhirClient) -> None:
    value = unique("org")
    tx = Transaction()
    tx.create(organization(value=value))
    tx.create({"resourceType": "Organization", "partOf": {"reference": "Organization/does-not-exist"}})

    with pytest.raises(FhirInvalid):
        await fhir.transaction(tx.bundle())

    assert await fhir.count("Organization", {"identifier": f"{TEST_SYSTEM}|{value}"}) == 0


async def test_transaction_with_a_stale_if_match_writes_nothing(fhir: FhirClient) -> None:
    target = await fhir.create(organization())
    await fhir.update({**target, "name": "moved on"})
    value = unique("org")
    tx = Transaction()
    tx.create(organization(value=value))
    tx.update({**target, "name": "stale write"}, if_match="1")

    with pytest.raises(FhirConflict):
        await fhir.transaction(tx.bundle())

    assert await fhir.count("Organization", {"identifier": f"{TEST_SYSTEM}|{value}"}) == 0
    assert (await fhir.read("Organization", target["id"]))["name"] == "moved on"


async def test_read_of_a_missing_resource_raises_not_found(fhir: FhirClient) -> None:
    with pytest.raises(FhirNotFound) as caught:
        await fhir.read("Organization", unique("missing"))
    assert caught.value.status == 404


async def test_read_of_a_deleted_resource_raises_not_found_with_410(fhir: FhirClient) -> None:
    created = await fhir.create(organization())
    await fhir.delete("Organization", created["id"])

    with pytest.raises(FhirNotFound) as caught:
        await fhir.read("Organization", created["id"])
    assert caught.value.status == 410


async def test_search_follows_next_links_across_pages(fhir: FhirClient) -> None:
    name = unique("paged")
    await asyncio.gather(*(fhir.create(organization(name=name)) for _ in range(7)))

    found = await fhir.search("Organization", {"name:exact": name, "_count": "3"})

    assert len(found) == 7
    assert len({org["id"] for org in found}) == 7


async def test_search_limit_stops_paging_early(fhir: FhirClient) -> None:
    name = unique("limited")
    await asyncio.gather(*(fhir.create(organization(name=name)) for _ in range(5)))

    found = await fhir.search("Organization", {"name:exact": name, "_count": "2"}, limit=3)

    assert len(found) == 3


async def test_invalid_content_raises_invalid_with_the_operation_outcome(fhir: FhirClient) -> None:
    with pytest.raises(FhirInvalid) as caught:
        await fhir.create({"resourceType": "Organization", "active": "not-a-boolean"})

    assert caught.value.outcome is not None
    assert caught.value.outcome["resourceType"] == "OperationOutcome"


async def test_validate_returns_the_outcome_for_invalid_content(fhir: FhirClient) -> None:
    outcome = await fhir.validate({"resourceType": "Organization", "telecom": [{"system": "bogus"}]})

    assert outcome["resourceType"] == "OperationOutcome"
    assert any(issue["severity"] == "error" for issue in outcome["issue"])


async def test_an_unreachable_server_raises_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = FhirClient(f"http://127.0.0.1:{port}/fhir", connect_timeout_seconds=0.5)
    try:
        with pytest.raises(FhirUnavailable):
            await client.read("Organization", "x")
    finally:
        await client.aclose()


async def test_a_server_that_never_answers_raises_unavailable_after_the_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        client = FhirClient(f"http://127.0.0.1:{port}/fhir", timeout_seconds=0.5, connect_timeout_seconds=0.5)
        try:
            with pytest.raises(FhirUnavailable, match="timed out"):
                await client.read("Organization", "x")
        finally:
            await client.aclose()


async def test_conditional_create_matches_values_with_a_plus_sign(fhir: FhirClient) -> None:
    value = f"+91{unique('')}"
    org = {**organization(value=value)}

    first, created_first = await fhir.conditional_create(org, match={"identifier": f"{TEST_SYSTEM}|{value}"})
    second, created_second = await fhir.conditional_create(
        org, match={"identifier": f"{TEST_SYSTEM}|{value}"}
    )

    assert (created_first, created_second) == (True, False)
    assert first["id"] == second["id"]


async def test_batch_get_answers_reads_and_searches_in_order_in_one_round_trip(settings: Settings) -> None:
    counting = CountingTransport()
    fhir = FhirClient(settings.fhir_base_url, transport=counting)
    value = unique("org")
    first = await fhir.create(organization(value=value))
    second = await fhir.create(organization(value=value))
    counting.sent.clear()

    found = await fhir.batch_get(
        {
            "first": resource_path("Organization", first["id"]),
            "missing": resource_path("Organization", unique("absent")),
            "both": f"Organization?{search_query({'identifier': f'{TEST_SYSTEM}|{value}', '_count': '1'})}",
        }
    )
    both = found["both"]
    assert both is not None
    pages = await fhir.following(both)
    await fhir.aclose()

    # The batch; its search filled its page unpaged, so it is asked again paged; then the next page.
    assert counting.sent[0] == "POST /fhir/"
    assert counting.sent[1:] == ["GET /fhir/Organization", "GET /fhir/"]
    assert found["first"] is not None and found["first"]["id"] == first["id"]
    assert found["missing"] is None
    assert sorted(r["id"] for page in pages for r in bundle_resources(page)) == sorted(
        [first["id"], second["id"]]
    )
    assert len(pages) == 2


async def test_a_batched_search_that_does_not_fill_its_page_costs_no_other_round_trip(
    settings: Settings,
) -> None:
    counting = CountingTransport()
    fhir = FhirClient(settings.fhir_base_url, transport=counting)
    value = unique("org")
    made = [await fhir.create(organization(value=value)) for _ in range(2)]
    counting.sent.clear()

    found = await fhir.batch_get(
        {"all": f"Organization?{search_query({'identifier': f'{TEST_SYSTEM}|{value}'})}"}
    )
    page = found["all"]
    assert page is not None
    pages = await fhir.following(page)
    await fhir.aclose()

    assert counting.sent == ["POST /fhir/"]
    assert sorted(r["id"] for p in pages for r in bundle_resources(p)) == sorted(m["id"] for m in made)


async def test_batch_get_raises_what_an_entry_failed_with_other_than_not_found(fhir: FhirClient) -> None:
    with pytest.raises(FhirInvalid):
        await fhir.batch_get({"bad": "Organization?no-such-parameter=1"})
