"""The opportunities API against the real HAPI: leads valued at their department's consultation fee,
validated stage moves (409 naming the allowed ones, lost needs a reason), filters, the 360."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.fhir.client import FhirClient
from tests.clinic import Clinic, make_patient
from tests.factories import unique

pytestmark = pytest.mark.integration


async def department(api: httpx.AsyncClient, admin: dict[str, str], clinic: Clinic, fee: str) -> str:
    """A cardiology department of the test clinic with a consultation fee."""
    response = await api.post(
        "/api/v1/departments",
        json={
            "name": f"Cardiology {unique()}",
            "specialty": "cardiology",
            "organization": clinic.organization,
            "locations": [clinic.location],
            "consultation_fee": fee,
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def lead(api: httpx.AsyncClient, staff: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await api.post("/api/v1/opportunities", json=fields, headers=staff)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_lead_is_valued_at_its_departments_fee_and_moves_along_the_pipeline(
    api: httpx.AsyncClient, staff: dict[str, str], admin: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    dept = await department(api, admin, clinic, "1250.50")
    patient = (await make_patient(api, staff))["id"]

    created = await lead(
        api, staff, patient=patient, source="website", department=dept, description="Chest pain"
    )
    given = await lead(api, staff, patient=patient, source="referral", estimated_value="300")

    assert (created["stage"], created["source"], created["estimated_value"], created["currency"]) == (
        "new", "website", 1250.5, "INR",
    )  # fmt: skip
    assert given["estimated_value"] == 300.0
    contacted = await api.patch(
        f"/api/v1/opportunities/{created['id']}",
        json={"stage": "contacted", "owner": "sales@test"},
        headers=staff,
    )
    assert (contacted.json()["stage"], contacted.json()["owner"]) == ("contacted", "sales@test")
    assert (await fhir.read("Task", created["id"]))["status"] == "in-progress"

    skipped = await api.patch(f"/api/v1/opportunities/{created['id']}", json={"stage": "won"}, headers=staff)
    assert skipped.status_code == 409
    assert skipped.json()["error"] == "invalid_transition"
    assert skipped.json()["allowed"] == ["qualified", "booked", "lost"]

    before = await fhir.read("Task", created["id"])
    no_reason = await api.patch(
        f"/api/v1/opportunities/{created['id']}", json={"stage": "lost"}, headers=staff
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["fields"] == [
        {"field": "lost_reason", "message": "a lost opportunity needs a reason"}
    ]
    assert await fhir.read("Task", created["id"]) == before

    lost = await api.patch(
        f"/api/v1/opportunities/{created['id']}",
        json={"stage": "lost", "lost_reason": "price", "lost_note": "Went to a cheaper clinic"},
        headers=staff,
    )
    assert lost.status_code == 200, lost.text
    assert (lost.json()["stage"], lost.json()["lost_reason"], lost.json()["lost_at_stage"]) == (
        "lost", "price", "contacted",
    )  # fmt: skip
    assert (await fhir.read("Task", created["id"]))["status"] == "cancelled"
    final = await api.patch(f"/api/v1/opportunities/{created['id']}", json={"stage": "new"}, headers=staff)
    assert final.status_code == 409
    assert (
        final.json()["message"]
        == "An opportunity that is 'lost' cannot become 'new'; it cannot change any more"
    )

    # Fixed point: a patient's leads, each with stage, source and the appointment reference.
    listed = await api.get("/api/v1/opportunities", params={"patient": patient}, headers=staff)
    assert [(o["id"], o["stage"], o["source"], o["appointment"]) for o in listed.json()] == [
        (given["id"], "new", "referral", None),
        (created["id"], "lost", "website", None),
    ]
    by_stage = await api.get(
        "/api/v1/opportunities", params={"patient": patient, "stage": "lost"}, headers=staff
    )
    assert [o["id"] for o in by_stage.json()] == [created["id"]]
    by_source = await api.get(
        "/api/v1/opportunities", params={"patient": patient, "source": "referral"}, headers=staff
    )
    assert [o["id"] for o in by_source.json()] == [given["id"]]
    by_owner = await api.get(
        "/api/v1/opportunities", params={"patient": patient, "owner": "sales@test"}, headers=staff
    )
    assert [o["id"] for o in by_owner.json()] == [created["id"]]

    view = await api.get(f"/api/v1/patients/{patient}/360", headers=staff)
    assert view.json()["open_opportunity"]["id"] == given["id"]


async def test_bad_input_and_unknown_ids(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    patient = (await make_patient(api, staff))["id"]

    bad_source = await api.post(
        "/api/v1/opportunities", json={"patient": patient, "source": "tv"}, headers=staff
    )
    bad_specialty = await api.post(
        "/api/v1/opportunities",
        json={"patient": patient, "source": "website", "specialty": "astrology"},
        headers=staff,
    )
    no_department = await api.post(
        "/api/v1/opportunities",
        json={"patient": patient, "source": "website", "department": "nope"},
        headers=staff,
    )
    no_patient = await api.post(
        "/api/v1/opportunities", json={"patient": "nobody", "source": "website"}, headers=staff
    )

    assert bad_source.status_code == 422
    assert [f["field"] for f in bad_source.json()["fields"]] == ["body.source"]
    assert bad_specialty.status_code == 422
    assert [f["field"] for f in bad_specialty.json()["fields"]] == ["specialty"]
    assert (no_department.status_code, no_department.json()["message"]) == (
        404,
        "Department 'nope' does not exist",
    )
    assert no_patient.status_code == 404
    assert await fhir.search("Task", {"patient": f"Patient/{patient}"}) == []

    created = await lead(api, staff, patient=patient, source="walk-in")
    bad_stage = await api.patch(
        f"/api/v1/opportunities/{created['id']}", json={"stage": "maybe"}, headers=staff
    )
    assert bad_stage.status_code == 422
    assert [f["field"] for f in bad_stage.json()["fields"]] == ["body.stage"]
    assert (await api.get("/api/v1/opportunities/nope", headers=staff)).status_code == 404
    assert (
        await api.patch("/api/v1/opportunities/nope", json={"stage": "won"}, headers=staff)
    ).status_code == 404
