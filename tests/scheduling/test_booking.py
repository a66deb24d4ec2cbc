"""Booking against the real HAPI: one slot, one appointment, whatever the concurrency."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.fhir.client import FhirClient
from app.main import create_app
from app.scheduling import booking
from tests.clinic import Clinic, bookable, free_slots, make_patient, make_practitioner
from tests.conftest import make_settings, started
from tests.support.servers import free_port
from tests.support.transport import CountingTransport

pytestmark = pytest.mark.integration


async def _book(
    api: httpx.AsyncClient, headers: dict[str, str], slot: str, patient: str, **extra: Any
) -> httpx.Response:
    return await api.post(
        "/api/v1/appointments",
        json={"slot": slot, "patient": patient, "reason": "checkup", **extra},
        headers=headers,
    )


async def test_twenty_concurrent_bookings_of_one_slot_give_exactly_one_appointment(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    slot = (await free_slots(api, staff, doctor))[0]["id"]
    patients = await asyncio.gather(*(make_patient(api, staff) for _ in range(20)))

    responses = await asyncio.gather(*(_book(api, staff, slot, p["id"]) for p in patients))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19
    assert {r.json()["error"] for r in responses if r.status_code == 409} == {"slot_taken"}
    assert (await fhir.read("Slot", slot))["status"] == "busy"
    appointments = await fhir.search("Appointment", {"slot": f"Slot/{slot}"})
    assert len(appointments) == 1
    assert appointments[0]["status"] == "booked"
    records = await fhir.search("Provenance", {"target": f"Slot/{slot}"})
    assert [r["activity"]["text"] for r in records].count("appointment.book") == 1


async def test_booking_returns_201_with_the_booked_appointment(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    slot = (await free_slots(api, staff, doctor))[0]
    patient = await make_patient(api, staff)

    response = await _book(api, staff, slot["id"], patient["id"], channel="whatsapp")

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "booked"
    assert body["slot"] == slot["id"]
    assert body["patient"] == patient["id"]
    assert body["practitioner"] == doctor["id"]
    assert body["channel"] == "whatsapp"
    assert body["reason"] == "checkup"


async def test_booking_records_provenance_naming_the_staff_user(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    _doctor, slot, patient = await bookable(api, admin, staff, clinic)

    appointment = (await _book(api, staff, slot, patient["id"])).json()

    [record] = await fhir.search("Provenance", {"target": f"Appointment/{appointment['id']}"})
    assert record["activity"]["text"] == "appointment.book"
    assert record["agent"][0]["who"]["identifier"]["value"] == "reception@test"
    assert record["agent"][0]["type"]["coding"][0]["code"] == "staff"


async def test_a_slot_that_is_not_free_is_409_slot_taken(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    slot = (await free_slots(api, staff, doctor))[0]["id"]
    first, second = await make_patient(api, staff), await make_patient(api, staff)
    assert (await _book(api, staff, slot, first["id"])).status_code == 201

    response = await _book(api, staff, slot, second["id"])

    assert response.status_code == 409
    assert response.json()["error"] == "slot_taken"
    assert response.json()["slot"] == slot


async def test_unknown_slot_and_unknown_patient_are_404_and_write_nothing(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    _doctor, slot, patient = await bookable(api, admin, staff, clinic)

    unknown_slot = await _book(api, staff, "no-such-slot", patient["id"])
    unknown_patient = await _book(api, staff, slot, "no-such-patient")

    assert unknown_slot.status_code == 404
    assert unknown_slot.json()["message"] == "Slot 'no-such-slot' does not exist"
    assert unknown_patient.status_code == 404
    assert unknown_patient.json()["message"] == "Patient 'no-such-patient' does not exist"
    assert (await fhir.read("Slot", slot))["status"] == "free"


async def test_malformed_booking_bodies_are_422_naming_the_field(
    api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    missing = await api.post("/api/v1/appointments", json={"patient": "x"}, headers=staff)
    bad_channel = await api.post(
        "/api/v1/appointments", json={"slot": "a", "patient": "b", "channel": "carrier-pigeon"}, headers=staff
    )
    not_json = await api.post(
        "/api/v1/appointments", content=b"{not json", headers={**staff, "Content-Type": "application/json"}
    )

    assert missing.status_code == 422
    assert missing.json()["fields"][0]["field"] == "body.slot"
    assert bad_channel.status_code == 422
    assert bad_channel.json()["fields"][0]["field"] == "body.channel"
    assert not_json.status_code == 422
    assert not_json.json()["error"] == "validation_error"


async def test_the_same_patient_at_an_overlapping_time_is_refused_unless_an_admin_forces_it(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> None:
    first_doctor = await make_practitioner(api, admin, clinic)
    second_doctor = await make_practitioner(api, admin, clinic)
    slot_a = (await free_slots(api, staff, first_doctor))[0]
    slot_b = next(s for s in await free_slots(api, staff, second_doctor) if s["start"] == slot_a["start"])
    patient = await make_patient(api, staff)
    assert (await _book(api, staff, slot_a["id"], patient["id"])).status_code == 201

    refused = await _book(api, staff, slot_b["id"], patient["id"])
    staff_force = await _book(api, staff, slot_b["id"], patient["id"], force=True)
    admin_force = await _book(api, admin, slot_b["id"], patient["id"], force=True)

    assert refused.status_code == 409
    assert refused.json()["error"] == "patient_busy"
    assert staff_force.status_code == 403
    assert admin_force.status_code == 201


async def test_ten_am_kolkata_is_stored_as_0430z_and_returned_as_1000_plus_0530(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    slot = next(s for s in await free_slots(api, staff, doctor) if s["start"].endswith("T10:00:00+05:30"))
    patient = await make_patient(api, staff)
    appointment = (await _book(api, staff, slot["id"], patient["id"])).json()
    utc = slot["start"].replace("T10:00:00+05:30", "T04:30:00Z")

    found = await fhir.search("Appointment", {"_id": appointment["id"], "date": utc})

    assert appointment["start"] == slot["start"]
    assert len(found) == 1
    assert found[0]["start"].endswith("T10:00:00+05:30")


async def test_cancel_frees_the_slot_and_keeps_the_reason(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    _doctor, slot, patient = await bookable(api, admin, staff, clinic)
    appointment = (await _book(api, staff, slot, patient["id"])).json()

    response = await api.post(
        f"/api/v1/appointments/{appointment['id']}/cancel", json={"reason": "feeling better"}, headers=staff
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancellation_reason"] == "feeling better"
    assert (await fhir.read("Slot", slot))["status"] == "free"
    rebook = await _book(api, staff, slot, (await make_patient(api, staff))["id"])
    assert rebook.status_code == 201


async def test_status_transitions_follow_the_workflow(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    slot = (await free_slots(api, staff, doctor))[0]["id"]
    appointment = (await _book(api, staff, slot, (await make_patient(api, staff))["id"])).json()
    base = f"/api/v1/appointments/{appointment['id']}"

    complete_early = await api.post(f"{base}/complete", headers=staff)
    checked_in = await api.post(f"{base}/check-in", headers=staff)
    completed = await api.post(f"{base}/complete", headers=staff)
    cancel_after = await api.post(f"{base}/cancel", headers=staff)

    assert complete_early.status_code == 409
    assert complete_early.json()["error"] == "invalid_transition"
    assert complete_early.json()["allowed"] == ["arrived", "noshow", "cancelled"]
    assert checked_in.json()["status"] == "arrived"
    assert completed.json()["status"] == "fulfilled"
    assert cancel_after.status_code == 409
    assert (
        cancel_after.json()["message"]
        == "An appointment that is 'fulfilled' cannot become 'cancelled'; it cannot change any more"
    )


async def test_no_show_is_recorded(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    slot = (await free_slots(api, staff, doctor))[0]["id"]
    appointment = (await _book(api, staff, slot, (await make_patient(api, staff))["id"])).json()

    response = await api.post(f"/api/v1/appointments/{appointment['id']}/no-show", headers=staff)

    assert response.status_code == 200
    assert response.json()["status"] == "noshow"


async def test_a_hold_makes_the_slot_tentative_and_can_be_booked(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    _doctor, slot, patient = await bookable(api, admin, staff, clinic)

    held = await api.post(
        "/api/v1/appointments/holds", json={"slot": slot, "patient": patient["id"]}, headers=staff
    )
    assert held.status_code == 201
    assert held.json()["status"] == "pending"
    assert held.json()["hold_expires"] is not None
    assert (await fhir.read("Slot", slot))["status"] == "busy-tentative"
    assert (await _book(api, staff, slot, (await make_patient(api, staff))["id"])).status_code == 409

    booked = await api.post(f"/api/v1/appointments/{held.json()['id']}/book", headers=staff)

    assert booked.status_code == 200
    assert booked.json()["status"] == "booked"
    assert (await fhir.read("Slot", slot))["status"] == "busy"


async def test_a_hold_while_the_queue_is_down_is_503_and_holds_nothing(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    clinic: Clinic,
    fhir: FhirClient,
    settings: Settings,
) -> None:
    _doctor, slot, patient = await bookable(api, admin, staff, clinic)
    app = create_app(
        make_settings(fhir_base_url=settings.fhir_base_url, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    )

    async for client in started(app):
        response = await client.post(
            "/api/v1/appointments/holds", json={"slot": slot, "patient": patient["id"]}, headers=staff
        )

    assert response.status_code == 503
    assert response.json()["error"] == "queue_unavailable"
    assert (await fhir.read("Slot", slot))["status"] == "free"


async def test_a_slot_in_the_past_is_422_and_writes_nothing(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    past = {
        "resourceType": "Slot",
        "id": f"{doctor['schedule']}-past",
        "schedule": {"reference": f"Schedule/{doctor['schedule']}"},
        "status": "free",
        "start": "2020-01-06T10:00:00+05:30",
        "end": "2020-01-06T10:15:00+05:30",
    }
    await fhir.update(past)
    patient = await make_patient(api, staff)

    response = await _book(api, staff, past["id"], patient["id"])

    assert response.status_code == 422
    assert response.json()["message"] == f"slot: slot {past['id']!r} starts in the past"
    assert (await fhir.read("Slot", past["id"]))["status"] == "free"


async def test_today_upcoming_and_stats_count_the_bookings(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    slots = await free_slots(api, staff, doctor)
    booked = [
        (await _book(api, staff, s["id"], (await make_patient(api, staff))["id"], channel=channel)).json()
        for s, channel in zip(slots[:2], ("whatsapp", "voice"), strict=True)
    ]
    start, end = slots[0]["start"], slots[1]["end"]

    upcoming = await api.get(
        "/api/v1/appointments/upcoming", params={"practitioner": doctor["id"]}, headers=staff
    )
    stats = await api.get("/api/v1/appointments/stats", params={"start": start, "end": end}, headers=staff)
    listed = await api.get(
        "/api/v1/appointments",
        params={"start": start, "end": end, "practitioner": doctor["id"]},
        headers=staff,
    )

    assert [a["id"] for a in upcoming.json()] == [a["id"] for a in booked]
    assert [a["id"] for a in listed.json()] == [a["id"] for a in booked]
    assert stats.json()["by_channel"].get("whatsapp", 0) >= 1
    assert stats.json()["by_channel"].get("voice", 0) >= 1
    assert stats.json()["by_status"]["booked"] >= 2


async def test_a_booking_is_two_hapi_round_trips_one_batch_of_reads_and_the_transaction(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    clinic: Clinic,
    fhir: FhirClient,
    settings: Settings,
) -> None:
    _doctor, slot, patient = await bookable(api, admin, staff, clinic)
    counting = CountingTransport()
    app = create_app(
        make_settings(fhir_base_url=settings.fhir_base_url, redis_url=settings.redis_url),
        fhir=FhirClient(settings.fhir_base_url, transport=counting),
    )

    async for client in started(app):
        await app.state.services.directory.get()  # the directory snapshot, read once per 30 s
        counting.sent.clear()
        response = await _book(client, staff, slot, patient["id"])

    assert response.status_code == 201, response.text
    assert counting.sent == ["POST /fhir/", "POST /fhir/"]  # the batch of reads, the transaction
    assert (await fhir.read("Slot", slot))["status"] == "busy"


async def test_the_overlap_check_reads_every_page_of_the_patients_appointments(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    clinic: Clinic,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first_doctor = await make_practitioner(api, admin, clinic)
    second_doctor = await make_practitioner(api, admin, clinic)
    slots = await free_slots(api, staff, first_doctor)
    early, late = slots[0], slots[-1]
    clash = next(s for s in await free_slots(api, staff, second_doctor) if s["start"] == late["start"])
    patient = await make_patient(api, staff)
    assert (await _book(api, staff, early["id"], patient["id"])).status_code == 201
    assert (await _book(api, staff, late["id"], patient["id"])).status_code == 201
    # One appointment per page: the clashing one (the later, by date) is only on the second page.
    monkeypatch.setattr(booking, "NEARBY_PAGE", 1)

    refused = await _book(api, staff, clash["id"], patient["id"])

    assert refused.status_code == 409
    assert refused.json()["error"] == "patient_busy"
