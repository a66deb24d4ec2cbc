"""Deactivation and reactivation against the real HAPI: an inactive patient cannot be booked."""

from __future__ import annotations

import httpx
import pytest

from app.fhir.client import FhirClient
from tests.clinic import Clinic, bookable, make_patient

pytestmark = pytest.mark.integration


async def test_a_deactivated_patient_cannot_be_booked_until_reactivated(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    _doctor, slot, patient = await bookable(api, admin, staff, clinic)
    booking = {"slot": slot, "patient": patient["id"], "channel": "dashboard"}

    deactivated = await api.post(f"/api/v1/patients/{patient['id']}/deactivate", headers=staff)
    refused = await api.post("/api/v1/appointments", json=booking, headers=staff)

    assert (deactivated.status_code, deactivated.json()["active"]) == (200, False)
    assert refused.status_code == 409
    assert refused.json()["error"] == "patient_inactive"
    assert await fhir.search("Appointment", {"slot": f"Slot/{slot}"}) == []
    assert (await fhir.read("Slot", slot))["status"] == "free"

    reactivated = await api.post(f"/api/v1/patients/{patient['id']}/reactivate", headers=staff)
    booked = await api.post("/api/v1/appointments", json=booking, headers=staff)

    assert (reactivated.status_code, reactivated.json()["active"]) == (200, True)
    assert booked.status_code == 201, booked.text


async def test_registering_the_phone_of_a_deactivated_patient_finds_them(
    api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    patient = await make_patient(api, staff)
    await api.post(f"/api/v1/patients/{patient['id']}/deactivate", headers=staff)

    again = await api.post(
        "/api/v1/patients", json={"name": "Someone Else", "phone": patient["phone"]}, headers=staff
    )

    assert again.status_code == 200
    assert (again.json()["id"], again.json()["active"], again.json()["mrn"]) == (
        patient["id"],
        False,
        patient["mrn"],
    )


async def test_deactivating_twice_writes_once(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    patient = await make_patient(api, staff)

    await api.post(f"/api/v1/patients/{patient['id']}/deactivate", headers=staff)
    version = (await fhir.read("Patient", patient["id"]))["meta"]["versionId"]
    again = await api.post(f"/api/v1/patients/{patient['id']}/deactivate", headers=staff)

    assert again.status_code == 200
    assert (await fhir.read("Patient", patient["id"]))["meta"]["versionId"] == version


async def test_a_merged_patient_cannot_be_reactivated(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str]
) -> None:
    kept, duplicate = await make_patient(api, staff), await make_patient(api, staff)
    merged = await api.post(
        f"/api/v1/patients/{kept['id']}/merge", json={"source": duplicate["id"]}, headers=admin
    )

    response = await api.post(f"/api/v1/patients/{duplicate['id']}/reactivate", headers=staff)

    assert merged.status_code == 200, merged.text
    assert response.status_code == 409
    assert response.json()["message"] == (
        f"Patient {duplicate['id']!r} was merged into Patient/{kept['id']}; use that record"
    )
