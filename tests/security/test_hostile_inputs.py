"""The outside review's hostile inputs (issue 8, findings 6, 10, 13 and 14): each is a precise 4xx
that names what is wrong, and nothing is written."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.fhir.client import FhirClient
from tests.clinic import Clinic, bookable, make_patient
from tests.factories import person_name, phone

pytestmark = pytest.mark.integration


def _fields(response: httpx.Response) -> list[str]:
    body: dict[str, Any] = response.json()
    return [f["field"] for f in body.get("fields", [])]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/patients/%01",
        "/api/v1/patients/%3F_id=7562",
        "/api/v1/patients/7562%23x",
        "/api/v1/patients/" + "x" * 65,
        "/api/v1/appointments/%00",
        "/api/v1/patients/%01/360",
    ],
)
async def test_an_id_outside_the_fhir_grammar_is_422_naming_the_parameter(
    api: httpx.AsyncClient, staff: dict[str, str], path: str
) -> None:
    response = await api.get(path, headers=staff)

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"
    assert any(field.endswith("_id") for field in _fields(response)), response.json()


@pytest.mark.parametrize("slot", ["../Patient/7562", "a b", "x\x01", "Slot/1?x=1"])
async def test_a_body_id_outside_the_fhir_grammar_is_422_and_books_nothing(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, slot: str
) -> None:
    patient = await make_patient(api, staff)

    response = await api.post(
        "/api/v1/appointments", json={"slot": slot, "patient": patient["id"]}, headers=staff
    )

    assert response.status_code == 422, response.text
    assert "body.slot" in _fields(response)
    assert await fhir.search("Appointment", {"patient": f"Patient/{patient['id']}"}) == []


async def test_a_hold_on_an_unknown_slot_with_a_dotted_id_is_404_not_a_queue_error(
    api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    patient = await make_patient(api, staff)

    response = await api.post(
        "/api/v1/appointments/holds", json={"slot": "a.b", "patient": patient["id"]}, headers=staff
    )

    assert response.status_code == 404, response.text
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize("field", ["name", "phone"])
async def test_patching_a_required_field_to_null_is_422(
    api: httpx.AsyncClient, staff: dict[str, str], field: str
) -> None:
    patient = await make_patient(api, staff)

    response = await api.patch(f"/api/v1/patients/{patient['id']}", json={field: None}, headers=staff)

    assert response.status_code == 422, response.text
    assert f"body.{field}" in _fields(response)


async def test_a_date_at_the_end_of_the_calendar_is_a_clean_answer(
    api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    response = await api.get("/api/v1/appointments", params={"date": "9999-12-31"}, headers=staff)

    assert response.status_code == 422, response.text
    assert "query.date" in _fields(response)


@pytest.mark.parametrize("name", ["Ana\x00nya Reddy", "Ananya\x1bReddy", "Ananya\u202eReddy"])
async def test_control_characters_in_text_are_422_and_nothing_is_registered(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, name: str
) -> None:
    number = phone()

    response = await api.post("/api/v1/patients", json={"name": name, "phone": number}, headers=staff)

    assert response.status_code == 422, response.text
    assert "body.name" in _fields(response)
    assert await fhir.search("Patient", {"phone": number}) == []


@pytest.mark.parametrize("path", ["/api/v1/appointments", "/api/v1/appointments/stats"])
async def test_start_without_end_is_422(api: httpx.AsyncClient, staff: dict[str, str], path: str) -> None:
    response = await api.get(path, params={"start": "2030-01-01T09:00:00+05:30"}, headers=staff)

    assert response.status_code == 422, response.text
    assert any(f.endswith("end") for f in _fields(response)), response.json()


@pytest.mark.parametrize("path", ["/api/v1/slots", "/api/v1/appointments"])
@pytest.mark.parametrize("start", ["1767225600", "2030-01-01T09:00:00", "2030-01-01"])
async def test_times_must_be_iso_8601_with_an_offset(
    api: httpx.AsyncClient, staff: dict[str, str], path: str, start: str
) -> None:
    response = await api.get(
        path,
        params={"specialty": "cardiology", "start": start, "end": "2030-01-02T09:00:00+05:30"},
        headers=staff,
    )

    assert response.status_code == 422, response.text
    assert "query.start" in _fields(response)


async def test_assistant_corrections_of_the_wrong_type_are_422(
    api: httpx.AsyncClient, staff: dict[str, str], admin: dict[str, str], clinic: Clinic
) -> None:
    _, _, patient = await bookable(api, admin, staff, clinic)
    interpreted = await api.post(
        "/api/v1/assistant/interpret",
        json={"text": f"register patient {person_name()} phone {phone()}"},
        headers=staff,
    )
    assert interpreted.status_code == 200, interpreted.text
    plan_id = interpreted.json()["plan_id"]

    response = await api.post(
        f"/api/v1/assistant/plans/{plan_id}/confirm",
        json={"form": {"patient_phone": 9844111173}},
        headers=staff,
    )

    assert response.status_code == 422, response.text
    assert "form.patient_phone" in _fields(response)
    assert patient["id"]
