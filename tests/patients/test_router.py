"""Patients against the real HAPI: registration without duplicates, search, 360, duplicates, merge."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.fhir.client import FhirClient
from tests.clinic import Clinic, free_slots, make_patient, make_practitioner
from tests.factories import person_name, phone

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "written", ["{local}", "+91 {a} {b}", "0{a}-{b}", "+91-{a}-{b}", "{a} {b}", "91{local}"]
)
async def test_every_common_phone_format_finds_the_same_patient(
    api: httpx.AsyncClient, staff: dict[str, str], written: str
) -> None:
    e164 = phone()
    local = e164.removeprefix("+91")
    patient = await make_patient(api, staff, phone=e164)

    response = await api.get(
        "/api/v1/patients",
        params={"phone": written.format(local=local, a=local[:5], b=local[5:])},
        headers=staff,
    )

    assert response.status_code == 200
    assert [p["id"] for p in response.json()] == [patient["id"]]


async def test_registering_the_same_phone_twice_returns_the_existing_patient(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    e164 = phone()
    local = e164.removeprefix("+91")
    first = await api.post("/api/v1/patients", json={"name": person_name(), "phone": e164}, headers=staff)
    second = await api.post(
        "/api/v1/patients", json={"name": person_name(), "phone": f"0{local}"}, headers=staff
    )

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert len(await fhir.search("Patient", {"identifier": f"https://fhir.prm.health/sid/phone|{e164}"})) == 1


async def test_concurrent_registrations_of_one_phone_create_one_patient(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    e164 = phone()

    responses = await asyncio.gather(
        *(
            api.post("/api/v1/patients", json={"name": person_name(), "phone": e164}, headers=staff)
            for _ in range(5)
        )
    )

    assert {r.status_code for r in responses} <= {200, 201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(await fhir.search("Patient", {"identifier": f"https://fhir.prm.health/sid/phone|{e164}"})) == 1


async def test_registration_stores_e164_phone_preferences_and_the_profile(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    e164 = phone()

    created = await make_patient(
        api, staff, phone=f"+91 {e164[3:8]} {e164[8:]}", preferred_language="kn", preferred_channel="whatsapp"
    )

    stored = await fhir.read("Patient", created["id"])
    assert created["phone"] == e164
    assert stored["telecom"][0]["value"] == e164
    assert stored["meta"]["profile"] == ["https://fhir.prm.health/StructureDefinition/prm-patient"]
    assert created["preferred_language"] == "kn"
    assert created["preferred_channel"] == "whatsapp"


async def test_malformed_phone_is_422_and_writes_nothing(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    name = person_name()

    response = await api.post("/api/v1/patients", json={"name": name, "phone": "12345"}, headers=staff)

    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "phone"
    assert await fhir.search("Patient", {"name": name.split()[0]}) == []


async def test_future_birth_date_is_422(api: httpx.AsyncClient, staff: dict[str, str]) -> None:
    response = await api.post(
        "/api/v1/patients",
        json={"name": person_name(), "phone": phone(), "birth_date": "2150-01-01"},
        headers=staff,
    )

    assert response.status_code == 422
    assert response.json()["message"] == "birth_date: is in the future"


async def test_name_search_tolerates_typos(api: httpx.AsyncClient, staff: dict[str, str]) -> None:
    name = person_name()
    patient = await make_patient(api, staff, name=name)
    given, family = name.split()
    typo = f"{given[:-1]} {family[:3]}{family[4:]}"

    response = await api.get("/api/v1/patients", params={"name": typo}, headers=staff)

    assert patient["id"] in [p["id"] for p in response.json()]


async def test_update_changes_phone_and_keeps_it_searchable(
    api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    patient = await make_patient(api, staff)
    new_phone = phone()

    updated = await api.patch(f"/api/v1/patients/{patient['id']}", json={"phone": new_phone}, headers=staff)
    found = await api.get("/api/v1/patients", params={"phone": new_phone}, headers=staff)

    assert updated.status_code == 200
    assert updated.json()["phone"] == new_phone
    assert [p["id"] for p in found.json()] == [patient["id"]]


async def test_update_with_a_stale_if_match_is_409(api: httpx.AsyncClient, staff: dict[str, str]) -> None:
    patient = await make_patient(api, staff)
    await api.patch(f"/api/v1/patients/{patient['id']}", json={"gender": "other"}, headers=staff)

    response = await api.patch(
        f"/api/v1/patients/{patient['id']}", json={"gender": "male"}, headers={**staff, "If-Match": 'W/"1"'}
    )

    assert response.status_code == 409


async def test_unknown_patient_is_404(api: httpx.AsyncClient, staff: dict[str, str]) -> None:
    response = await api.get("/api/v1/patients/does-not-exist", headers=staff)

    assert response.status_code == 404
    assert response.json()["message"] == "Patient 'does-not-exist' does not exist"


async def test_patient_360_shows_upcoming_appointments(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    patient = await make_patient(api, staff)
    slot = (await free_slots(api, staff, doctor))[0]["id"]
    booked = await api.post(
        "/api/v1/appointments", json={"slot": slot, "patient": patient["id"]}, headers=staff
    )

    response = await api.get(f"/api/v1/patients/{patient['id']}/360", headers=staff)

    assert response.status_code == 200
    body = response.json()
    assert body["patient"]["id"] == patient["id"]
    assert [a["id"] for a in body["upcoming_appointments"]] == [booked.json()["id"]]
    assert body["past_appointments"] == []


async def test_duplicates_are_found_by_similar_name_and_birth_date(
    api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    name = person_name()
    original = await make_patient(api, staff, name=name, birth_date="1985-07-01")
    twin = await make_patient(api, staff, name=name.replace("Person", "Persn"), birth_date="1985-07-01")
    await make_patient(api, staff, name=name, birth_date="1999-01-01")

    response = await api.get(f"/api/v1/patients/{original['id']}/duplicates", headers=staff)

    assert [(d["patient"]["id"], d["reasons"]) for d in response.json()] == [
        (twin["id"], ["similar name, same birth date"])
    ]


async def test_merge_moves_appointments_to_the_survivor(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    survivor = await make_patient(api, staff)
    duplicate = await make_patient(api, staff)
    slot = (await free_slots(api, staff, doctor))[0]["id"]
    booked = await api.post(
        "/api/v1/appointments", json={"slot": slot, "patient": duplicate["id"]}, headers=staff
    )

    staff_try = await api.post(
        f"/api/v1/patients/{survivor['id']}/merge", json={"source": duplicate["id"]}, headers=staff
    )
    response = await api.post(
        f"/api/v1/patients/{survivor['id']}/merge", json={"source": duplicate["id"]}, headers=admin
    )

    assert staff_try.status_code == 403
    assert response.status_code == 200, response.text
    moved = await fhir.read("Appointment", booked.json()["id"])
    assert f"Patient/{survivor['id']}" in [p["actor"]["reference"] for p in moved["participant"]]
    source = (await api.get(f"/api/v1/patients/{duplicate['id']}", headers=staff)).json()
    assert source["replaced_by"] == f"Patient/{survivor['id']}"
    records = await fhir.search("Provenance", {"target": f"Patient/{survivor['id']}"})
    assert any(r["activity"].get("text") == "patient.merge" for r in records)


async def test_merging_a_patient_into_itself_is_422(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str]
) -> None:
    patient = await make_patient(api, staff)

    response = await api.post(
        f"/api/v1/patients/{patient['id']}/merge", json={"source": patient["id"]}, headers=admin
    )

    assert response.status_code == 422
