"""The conformance loader against the real HAPI: idempotent, repairs drift, waits for search parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.conformance import (
    ConformanceError,
    LoadReport,
    load_conformance,
    read_conformance_resources,
    read_examples,
)
from app.conformance.loader import dependency_order, wait_until_searchable
from app.fhir.client import FhirClient, version_of

pytestmark = pytest.mark.integration

ALL = [*read_conformance_resources(), *read_examples()]


async def versions(fhir: FhirClient) -> dict[str, str]:
    """The stored version of every conformance resource and example."""
    return {
        f"{r['resourceType']}/{r['id']}": version_of(await fhir.read(r["resourceType"], r["id"])) for r in ALL
    }


async def test_session_load_wrote_everything_and_activated_every_search_parameter(
    conformance: LoadReport,
) -> None:
    # The session fixture's load: on a fresh server it creates all; on a reused one it may find them.
    assert len(conformance.created) + len(conformance.updated) + len(conformance.unchanged) == len(ALL)
    written_parameters = {r.split("/")[1] for r in conformance.changed if r.startswith("SearchParameter/")}
    assert len(conformance.activated_search_parameters) == len(written_parameters)


async def test_second_load_changes_nothing(fhir: FhirClient) -> None:
    # Change handlers may have acted on an example since the session's load (a booked example
    # Appointment moves the example lead): one load puts it back, the next must change nothing.
    await load_conformance(fhir)
    before = await versions(fhir)

    report = await load_conformance(fhir)

    assert (report.created, report.updated) == ([], [])
    assert len(report.unchanged) == len(ALL) == 166  # 128 conformance resources + 38 examples
    assert report.activated_search_parameters == {}
    assert await versions(fhir) == before


async def test_a_resource_changed_in_hapi_is_put_back_and_nothing_else_is_touched(fhir: FhirClient) -> None:
    stored = await fhir.read("NamingSystem", "sid-voice-call-id")
    await fhir.update({**stored, "description": "edited by hand"})
    before = await versions(fhir)

    report = await load_conformance(fhir)

    assert report.updated == ["NamingSystem/sid-voice-call-id"]
    assert report.created == []
    restored = await fhir.read("NamingSystem", "sid-voice-call-id")
    assert restored["description"] == "The voice-agent platform's call id."
    after = await versions(fhir)
    assert int(after["NamingSystem/sid-voice-call-id"]) == int(before["NamingSystem/sid-voice-call-id"]) + 1
    assert {k: v for k, v in after.items() if v != before[k]} == {
        "NamingSystem/sid-voice-call-id": after["NamingSystem/sid-voice-call-id"]
    }


async def test_a_deleted_example_is_written_again(fhir: FhirClient) -> None:
    await fhir.delete("Provenance", "prm-example-provenance")

    report = await load_conformance(fhir)

    assert report.created == ["Provenance/prm-example-provenance"]
    assert report.updated == []
    assert (await fhir.read("Provenance", "prm-example-provenance"))["target"][0]["reference"] == (
        "Appointment/prm-example-appointment"
    )


async def test_a_search_parameter_that_never_becomes_known_times_out(fhir: FhirClient) -> None:
    never_stored = {
        "resourceType": "SearchParameter", "id": "not-stored", "code": "prm-never-stored",
        "base": ["Patient"], "type": "token", "status": "active",
    }  # fmt: skip

    with pytest.raises(ConformanceError, match=r"Patient\?prm-never-stored still unknown after 1s"):
        await wait_until_searchable(fhir, never_stored, timeout_seconds=1)


def test_dependency_order_puts_referenced_resources_first() -> None:
    a = {"resourceType": "Appointment", "id": "a", "participant": [{"actor": {"reference": "Patient/p"}}]}
    p = {"resourceType": "Patient", "id": "p", "link": [{"other": {"reference": "Patient/q"}}]}
    q = {"resourceType": "Patient", "id": "q"}
    o = {"resourceType": "Organization", "id": "o", "partOf": {"reference": "Organization/elsewhere"}}

    assert [r["id"] for r in dependency_order([a, o, p, q])] == ["o", "q", "p", "a"]


def test_a_missing_profiles_folder_is_an_error_not_an_empty_load(tmp_path: Path) -> None:
    with pytest.raises(ConformanceError, match="does not exist"):
        read_conformance_resources(tmp_path / "fhir_profiles")
