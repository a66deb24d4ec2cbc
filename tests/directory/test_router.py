"""The clinic directory through the API, against the real HAPI."""

from __future__ import annotations

import httpx
import pytest

from app.fhir.client import FhirClient
from tests.clinic import Clinic, make_clinic, make_practitioner
from tests.factories import person_name

pytestmark = pytest.mark.integration


async def test_practitioners_are_found_by_a_misspelt_name(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> None:
    name = person_name()
    doctor = await make_practitioner(api, admin, clinic, name=name)
    given, family = name.split()

    response = await api.get(
        "/api/v1/practitioners", params={"name": f"Dr. {given} {family[:-1]}x"}, headers=staff
    )

    assert response.status_code == 200
    assert response.json()[0]["id"] == doctor["id"]


async def test_practitioners_are_filtered_by_specialty(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> None:
    ent = await make_practitioner(api, admin, clinic, specialty="ent")

    response = await api.get("/api/v1/practitioners", params={"specialty": "ent"}, headers=staff)

    assert {p["specialty"] for p in response.json()} == {"ent"}
    assert ent["id"] in {p["id"] for p in response.json()}


async def test_a_surname_alone_finds_every_practitioner_with_it(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> None:
    family = person_name().split()[1]
    first = await make_practitioner(api, admin, clinic, name=f"Anil {family}", specialty="cardiology")
    second = await make_practitioner(api, admin, clinic, name=f"Sunil {family}", specialty="ent")

    response = await api.get("/api/v1/practitioners", params={"name": f"Dr {family}"}, headers=staff)

    assert {p["id"] for p in response.json()} == {first["id"], second["id"]}


async def test_created_practitioner_has_role_schedule_and_hours(
    api: httpx.AsyncClient, admin: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    doctor = await make_practitioner(api, admin, clinic, hours={"tue": ["09:00-13:00"]}, slot_minutes=20)

    role = await fhir.read("PractitionerRole", doctor["practitioner_role"])
    schedule = await fhir.read("Schedule", doctor["schedule"])
    assert doctor["hours"] == {"tue": ["09:00-13:00"]}
    assert doctor["timezone"] == "Asia/Kolkata"
    assert role["availableTime"] == [
        {"daysOfWeek": ["tue"], "availableStartTime": "09:00:00", "availableEndTime": "13:00:00"}
    ]
    assert role["specialty"][0]["coding"][0]["code"] == "cardiology"
    assert role["specialty"][0]["coding"][1] == {
        "system": "http://snomed.info/sct",
        "code": "394579002",
        "display": "Cardiology",
    }
    assert schedule["actor"] == [{"reference": f"PractitionerRole/{doctor['practitioner_role']}"}]


async def test_unknown_specialty_is_422_and_writes_nothing(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> None:
    name = person_name()

    response = await api.post(
        "/api/v1/practitioners",
        json={
            "name": name,
            "specialty": "astrology",
            "organization": clinic.organization,
            "location": clinic.location,
        },
        headers=admin,
    )

    assert response.status_code == 422
    assert response.json()["fields"] == [
        {
            "field": "specialty",
            "message": "unknown specialty code 'astrology' (known: cardiology, dermatology, endocrinology, ent, "
            "general-medicine, gynecology, orthopedics, pediatrics)",
        }
    ]
    assert (await api.get("/api/v1/practitioners", params={"name": name}, headers=staff)).json() == []


async def test_unknown_location_is_404(api: httpx.AsyncClient, admin: dict[str, str], clinic: Clinic) -> None:
    response = await api.post(
        "/api/v1/practitioners",
        json={
            "name": person_name(),
            "specialty": "ent",
            "organization": clinic.organization,
            "location": "nowhere",
        },
        headers=admin,
    )

    assert response.status_code == 404
    assert response.json()["message"] == "Location 'nowhere' does not exist"


async def test_unknown_time_zone_is_422(
    api: httpx.AsyncClient, admin: dict[str, str], clinic: Clinic
) -> None:
    response = await api.post(
        "/api/v1/locations",
        json={"name": "Moon base", "organization": clinic.organization, "timezone": "Mars/Olympus"},
        headers=admin,
    )

    assert response.status_code == 422
    assert response.json()["message"] == "timezone: unknown IANA time zone 'Mars/Olympus'"


async def test_staff_cannot_change_the_directory(api: httpx.AsyncClient, staff: dict[str, str]) -> None:
    response = await api.post("/api/v1/organizations", json={"name": "Rogue clinic"}, headers=staff)

    assert response.status_code == 403


async def test_renaming_a_practitioner_is_seen_by_search(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    new_name = person_name()

    response = await api.patch(
        f"/api/v1/practitioners/{doctor['id']}", json={"name": new_name}, headers=admin
    )

    assert response.status_code == 200
    assert response.json()[0]["name"] == new_name
    found = await api.get("/api/v1/practitioners", params={"name": new_name}, headers=staff)
    assert [p["id"] for p in found.json()] == [doctor["id"]]


async def test_a_blank_name_is_422(api: httpx.AsyncClient, admin: dict[str, str], clinic: Clinic) -> None:
    doctor = await make_practitioner(api, admin, clinic)

    response = await api.patch(f"/api/v1/practitioners/{doctor['id']}", json={"name": "   "}, headers=admin)

    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "body.name"


async def test_a_location_time_zone_change_is_stored_and_validated(
    api: httpx.AsyncClient, admin: dict[str, str], fhir: FhirClient
) -> None:
    clinic = await make_clinic(api, admin)

    bad = await api.patch(
        f"/api/v1/locations/{clinic.location}", json={"timezone": "Nowhere/Else"}, headers=admin
    )
    good = await api.patch(
        f"/api/v1/locations/{clinic.location}", json={"timezone": "Asia/Dubai"}, headers=admin
    )

    assert bad.status_code == 422
    assert good.status_code == 200
    stored = await fhir.read("Location", clinic.location)
    assert stored["extension"] == [
        {"url": "http://hl7.org/fhir/StructureDefinition/timezone", "valueCode": "Asia/Dubai"}
    ]
