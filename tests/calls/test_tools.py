"""The live voice tools against the real HAPI: find the caller, free slots, hold, book (a second caller
for the same slot gets slot_taken), cancel only one's own appointment; the integration role only."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.fhir.builders import extension_value
from app.fhir.canonical import EXT_BOOKING_CHANNEL
from app.fhir.client import FhirClient
from tests.calls.support import tomorrow_at
from tests.clinic import Clinic, make_patient, make_practitioner

pytestmark = pytest.mark.integration
TOOLS = "/api/v1/voice/tools"


async def test_the_caller_is_found_by_their_number_in_any_format(
    api: httpx.AsyncClient, staff: dict[str, str], integration: dict[str, str]
) -> None:
    patient = await make_patient(api, staff)
    local = "0" + patient["phone"].removeprefix("+91")

    response = await api.get(f"{TOOLS}/patients", params={"phone": local}, headers=integration)

    assert response.status_code == 200
    assert [p["id"] for p in response.json()] == [patient["id"]]


async def test_two_callers_booking_the_same_slot_one_gets_it_the_other_slot_taken(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    integration: dict[str, str],
    clinic: Clinic,
    fhir: FhirClient,
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    first, second = await make_patient(api, staff), await make_patient(api, staff)
    day = tomorrow_at(10).date().isoformat()
    slots = await api.get(
        f"{TOOLS}/slots",
        params={"practitioner": doctor["id"], "date": day, "part_of_day": "morning"},
        headers=integration,
    )
    assert slots.status_code == 200
    assert [s["start"] for s in slots.json()] == [tomorrow_at(10, m).isoformat() for m in (0, 15, 30, 45)]
    slot = slots.json()[0]["id"]

    answers = await asyncio.gather(
        *(
            api.post(f"{TOOLS}/appointments", json={"slot": slot, "patient": p["id"]}, headers=integration)
            for p in (first, second)
        )
    )

    assert sorted(a.status_code for a in answers) == [201, 409]
    [won] = [a.json() for a in answers if a.status_code == 201]
    [lost] = [a.json() for a in answers if a.status_code == 409]
    assert lost["error"] == "slot_taken"
    appointment = await fhir.read("Appointment", won["id"])
    assert extension_value(appointment, EXT_BOOKING_CHANNEL) == "voice"
    [record] = await fhir.search("Provenance", {"target": f"Appointment/{won['id']}"})
    assert [a["type"]["coding"][0]["code"] for a in record["agent"]] == ["voice-agent", "ehr"]
    after = await api.get(
        f"{TOOLS}/slots", params={"practitioner": doctor["id"], "date": day}, headers=integration
    )
    assert slot not in [s["id"] for s in after.json()]


async def test_a_hold_then_a_cancel_of_ones_own_appointment_frees_the_slot(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    integration: dict[str, str],
    clinic: Clinic,
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    caller, other = await make_patient(api, staff), await make_patient(api, staff)
    [first, second, *_] = (
        await api.get(f"{TOOLS}/slots", params={"practitioner": doctor["id"]}, headers=integration)
    ).json()

    held = await api.post(
        f"{TOOLS}/holds",
        json={"slot": first["id"], "patient": caller["id"], "seconds": 120},
        headers=integration,
    )
    booked = await api.post(
        f"{TOOLS}/appointments", json={"slot": second["id"], "patient": caller["id"]}, headers=integration
    )
    assert (held.status_code, held.json()["status"]) == (201, "pending")
    assert booked.status_code == 201
    path = f"{TOOLS}/appointments/{booked.json()['id']}/cancel"

    not_theirs = await api.post(path, json={"patient": other["id"]}, headers=integration)
    cancelled = await api.post(
        path, json={"patient": caller["id"], "reason": "feeling better"}, headers=integration
    )

    assert not_theirs.status_code == 404
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    free = await api.get(f"{TOOLS}/slots", params={"practitioner": doctor["id"]}, headers=integration)
    assert second["id"] in [s["id"] for s in free.json()]


async def test_the_tools_need_the_integration_role(api: httpx.AsyncClient, staff: dict[str, str]) -> None:
    assert (await api.get(f"{TOOLS}/patients", params={"phone": "+919844111173"})).status_code == 401
    assert (
        await api.get(f"{TOOLS}/patients", params={"phone": "+919844111173"}, headers=staff)
    ).status_code == 403


async def test_bad_input_is_422_naming_the_field(api: httpx.AsyncClient, integration: dict[str, str]) -> None:
    bad_specialty = await api.get(f"{TOOLS}/slots", params={"specialty": "astrology"}, headers=integration)
    bad_phone = await api.get(f"{TOOLS}/patients", params={"phone": "hello"}, headers=integration)
    bad_body = await api.post(f"{TOOLS}/appointments", json={"slot": "x"}, headers=integration)

    assert (bad_specialty.status_code, bad_phone.status_code, bad_body.status_code) == (422, 422, 422)
    assert "specialty" in bad_specialty.json()["message"]
    assert "phone" in bad_phone.json()["message"]
    assert bad_body.json()["fields"][0]["field"] == "body.patient"


async def test_a_part_of_day_without_a_date_gathers_the_soonest_over_the_coming_days(
    api: httpx.AsyncClient, admin: dict[str, str], integration: dict[str, str], clinic: Clinic
) -> None:
    doctor = await make_practitioner(api, admin, clinic)

    mornings = await api.get(
        f"{TOOLS}/slots", params={"practitioner": doctor["id"], "part_of_day": "morning"}, headers=integration
    )
    afternoons = await api.get(
        f"{TOOLS}/slots",
        params={"practitioner": doctor["id"], "part_of_day": "afternoon"},
        headers=integration,
    )

    # 10:00-11:00 daily is four morning slots a day: the ten soonest run over three or four days.
    starts = [s["start"] for s in mornings.json()]
    assert len(starts) == 10 and starts == sorted(starts)
    # Tomorrow's four follow what is left of today's (none, some or all four, by the time of day).
    tomorrow = [tomorrow_at(10, m).isoformat() for m in (0, 15, 30, 45)]
    first = starts.index(tomorrow[0])
    assert first <= 4 and starts[first : first + 4] == tomorrow
    assert afternoons.json() == []
