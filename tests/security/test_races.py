"""Races the outside review found (issue 8, findings 11-13): one registration per phone, one
appointment per patient and time, and an assistant confirmation that writes all or nothing."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.fhir.canonical import SID_PHONE
from app.fhir.client import FhirClient
from tests.clinic import Clinic, free_slots, make_patient, make_practitioner
from tests.factories import person_name, phone

pytestmark = pytest.mark.integration


async def test_twenty_concurrent_registrations_of_one_phone_give_one_201_and_one_provenance(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    number, name = phone(), person_name()

    responses = await asyncio.gather(
        *(
            api.post("/api/v1/patients", json={"name": name, "phone": number}, headers=staff)
            for _ in range(20)
        )
    )

    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    patients = await fhir.search("Patient", {"identifier": f"{SID_PHONE}|{number}"})
    assert len(patients) == 1
    records = await fhir.search("Provenance", {"target": f"Patient/{patients[0]['id']}"})
    assert [r["activity"]["text"] for r in records].count("patient.register") == 1


async def test_concurrent_bookings_of_one_patient_into_two_overlapping_slots_book_one(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    first_doctor = await make_practitioner(api, admin, clinic)
    second_doctor = await make_practitioner(api, admin, clinic, specialty="dermatology")
    first_slot = (await free_slots(api, staff, first_doctor))[0]
    second_slot = next(
        s for s in await free_slots(api, staff, second_doctor) if s["start"] == first_slot["start"]
    )
    patient = await make_patient(api, staff)

    responses = await asyncio.gather(
        *(
            api.post(
                "/api/v1/appointments", json={"slot": slot["id"], "patient": patient["id"]}, headers=staff
            )
            for slot in (first_slot, second_slot)
        )
    )

    assert sorted(r.status_code for r in responses) == [201, 409]
    refused = next(r for r in responses if r.status_code == 409)
    assert refused.json()["error"] == "patient_busy"
    booked = await fhir.search("Appointment", {"patient": f"Patient/{patient['id']}", "status": "booked"})
    assert len(booked) == 1


async def test_an_assistant_booking_that_fails_registers_no_patient(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    slot = (await free_slots(api, staff, doctor))[0]
    number = phone()
    interpreted = await api.post(
        "/api/v1/assistant/interpret",
        json={"text": f"register patient {person_name()} phone {number}"},
        headers=staff,
    )
    assert interpreted.status_code == 200, interpreted.text
    # A booking plan for a new patient whose slot is then taken by someone else.
    booking_plan = await api.post(
        "/api/v1/assistant/interpret",
        json={
            "text": f"book {person_name()} phone {number} with Dr. {doctor['name']} at {slot['start']}",
            "now": slot["start"][:10] + "T08:00:00+05:30",
        },
        headers=staff,
    )
    assert booking_plan.status_code == 200, booking_plan.text
    plan = booking_plan.json()
    other = await make_patient(api, staff)
    taken = await api.post(
        "/api/v1/appointments", json={"slot": slot["id"], "patient": other["id"]}, headers=staff
    )
    assert taken.status_code == 201, taken.text

    confirmed = await api.post(
        f"/api/v1/assistant/plans/{plan['plan_id']}/confirm",
        json={"form": {"slot": slot["id"], "patient_name": person_name(), "patient_phone": number}},
        headers=staff,
    )

    assert confirmed.status_code == 409, confirmed.text
    assert confirmed.json()["error"] == "slot_taken"
    assert await fhir.search("Patient", {"identifier": f"{SID_PHONE}|{number}"}) == []
