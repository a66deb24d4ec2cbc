"""Insurance against the real HAPI: a Coverage is added, listed, changed, and shown in the 360."""

from __future__ import annotations

import httpx
import pytest

from app.fhir.client import FhirClient
from tests.clinic import make_patient
from tests.factories import organization, unique

pytestmark = pytest.mark.integration


async def test_a_coverage_round_trips_and_appears_in_the_360(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    patient = await make_patient(api, staff)
    insurer = await fhir.create(organization(name="Star Health"))
    member = unique("M")
    body = {
        "payer": "Star Health",
        "payer_organization": insurer["id"],
        "member_id": member,
        "plan": "Family Health Optima",
        "valid_from": "2026-04-01",
        "valid_to": "2027-03-31",
        "relationship": "spouse",
    }

    added = await api.post(f"/api/v1/patients/{patient['id']}/coverages", json=body, headers=staff)
    listed = await api.get(f"/api/v1/patients/{patient['id']}/coverages", headers=staff)
    view = await api.get(f"/api/v1/patients/{patient['id']}/360", headers=staff)

    assert added.status_code == 201, added.text
    expected = {"id": added.json()["id"], "status": "active", **body}
    assert added.json() == expected
    assert listed.json() == [expected]
    assert view.json()["coverages"] == [expected]
    stored = await fhir.read("Coverage", added.json()["id"])
    assert stored["beneficiary"] == {"reference": f"Patient/{patient['id']}"}
    assert stored["payor"] == [{"display": "Star Health", "reference": f"Organization/{insurer['id']}"}]
    assert stored["meta"]["profile"] == ["https://fhir.prm.health/StructureDefinition/prm-coverage"]


async def test_a_coverage_is_renewed_and_cancelled(api: httpx.AsyncClient, staff: dict[str, str]) -> None:
    patient = await make_patient(api, staff)
    added = (
        await api.post(
            f"/api/v1/patients/{patient['id']}/coverages",
            json={"payer": "Niva Bupa", "member_id": unique("M"), "valid_to": "2026-12-31"},
            headers=staff,
        )
    ).json()
    url = f"/api/v1/patients/{patient['id']}/coverages/{added['id']}"

    renewed = await api.patch(url, json={"valid_to": "2027-12-31", "plan": "ReAssure"}, headers=staff)
    stale = await api.patch(url, json={"status": "cancelled"}, headers={**staff, "If-Match": 'W/"1"'})
    cancelled = await api.patch(url, json={"status": "cancelled"}, headers=staff)

    assert renewed.status_code == 200, renewed.text
    assert (renewed.json()["valid_to"], renewed.json()["plan"], renewed.json()["relationship"]) == (
        "2027-12-31",
        "ReAssure",
        "self",
    )
    assert stale.status_code == 409
    assert cancelled.json()["status"] == "cancelled"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (
            {"payer": "X", "member_id": "1", "valid_from": "2027-01-01", "valid_to": "2026-01-01"},
            422,
            "valid_to",
        ),
        ({"payer": "X", "member_id": "1", "relationship": "cousin"}, 422, "body.relationship"),
        ({"payer": "X"}, 422, "body.member_id"),
        ({"payer": "X", "member_id": "1", "payer_organization": "no-such-org"}, 422, "payer_organization"),
    ],
)
async def test_bad_coverage_is_422_and_writes_nothing(
    api: httpx.AsyncClient,
    staff: dict[str, str],
    fhir: FhirClient,
    body: dict[str, str],
    status: int,
    field: str,
) -> None:
    patient = await make_patient(api, staff)

    response = await api.post(f"/api/v1/patients/{patient['id']}/coverages", json=body, headers=staff)

    assert response.status_code == status
    named = [f["field"] for f in response.json().get("fields", [])] or [response.json().get("field")]
    assert field in named, response.json()
    assert await fhir.search("Coverage", {"beneficiary": f"Patient/{patient['id']}"}) == []


async def test_a_coverage_of_another_patient_is_404(api: httpx.AsyncClient, staff: dict[str, str]) -> None:
    owner, other = await make_patient(api, staff), await make_patient(api, staff)
    added = (
        await api.post(
            f"/api/v1/patients/{owner['id']}/coverages", json={"payer": "X", "member_id": "1"}, headers=staff
        )
    ).json()

    response = await api.patch(
        f"/api/v1/patients/{other['id']}/coverages/{added['id']}", json={"plan": "Y"}, headers=staff
    )

    assert response.status_code == 404
