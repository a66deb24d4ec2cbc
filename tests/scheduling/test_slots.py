"""Slot generation, hours changes and blocking against the real HAPI."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from app.directory.index import DirectoryCache
from app.fhir.builders import Actor, AgentKind
from app.fhir.client import FhirClient
from app.scheduling.slots import block_time, generate_slots, slots_between
from tests.clinic import KOLKATA, Clinic, free_slots, make_patient, make_practitioner

pytestmark = pytest.mark.integration
ACTOR = Actor(kind=AgentKind.STAFF, user="tests")


async def _entry(fhir: FhirClient, role_id: str):  # type: ignore[no-untyped-def]
    entry = (await DirectoryCache(fhir, default_timezone="Asia/Kolkata").get()).by_role(role_id)
    assert entry is not None
    return entry


async def test_generating_twice_gives_the_same_slots(
    api: httpx.AsyncClient, admin: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    entry = await _entry(fhir, doctor["practitioner_role"])
    now = datetime.now(UTC)
    start = datetime.combine(date.today(), datetime.min.time(), tzinfo=KOLKATA)
    before = await slots_between(fhir, [doctor["schedule"]], start, start + timedelta(days=31))

    report = await generate_slots(fhir, entry, first_day=now.astimezone(KOLKATA).date(), days=30, now=now)

    after = await slots_between(fhir, [doctor["schedule"]], start, start + timedelta(days=31))
    assert report.created == 0
    assert report.closed == 0
    assert [(s["id"], s["meta"]["versionId"]) for s in after] == [
        (s["id"], s["meta"]["versionId"]) for s in before
    ]
    assert len(after) >= 29 * 4  # four 15-minute slots a day over the horizon


async def test_slots_follow_the_weekly_hours_in_local_time(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> None:
    doctor = await make_practitioner(
        api, admin, clinic, hours={"mon": ["09:00-10:00"], "thu": ["14:00-15:00"]}, slot_minutes=20
    )

    slots = await free_slots(api, staff, doctor, days=14)

    local = [datetime.fromisoformat(s["start"]) for s in slots]
    assert {t.strftime("%a") for t in local} <= {"Mon", "Thu"}
    assert {t.strftime("%H:%M") for t in local if t.strftime("%a") == "Mon"} <= {"09:00", "09:20", "09:40"}
    assert {t.strftime("%H:%M") for t in local if t.strftime("%a") == "Thu"} <= {"14:00", "14:20", "14:40"}
    assert all(s["start"].endswith("+05:30") for s in slots)


async def test_changing_hours_regenerates_free_slots_and_keeps_booked_ones(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    booked_slot = (await free_slots(api, staff, doctor))[0]
    patient = await make_patient(api, staff)
    booked = await api.post(
        "/api/v1/appointments", json={"slot": booked_slot["id"], "patient": patient["id"]}, headers=staff
    )
    assert booked.status_code == 201

    response = await api.put(
        f"/api/v1/practitioner-roles/{doctor['practitioner_role']}/hours",
        json={"hours": {d: ["16:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}},
        headers=admin,
    )

    assert response.status_code == 200
    assert response.json()["created"] >= 4 * 29
    assert response.json()["closed"] >= 4 * 28
    after = await free_slots(api, staff, doctor)
    assert {datetime.fromisoformat(s["start"]).strftime("%H") for s in after} == {"16"}
    kept = await fhir.read("Slot", booked_slot["id"])
    assert kept["status"] == "busy"
    assert (await fhir.read("Appointment", booked.json()["id"]))["status"] == "booked"


async def test_changing_hours_back_reopens_the_closed_slots(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    original = {s["id"] for s in await free_slots(api, staff, doctor)}
    url = f"/api/v1/practitioner-roles/{doctor['practitioner_role']}/hours"
    week = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    await api.put(url, json={"hours": {d: ["16:00-17:00"] for d in week}}, headers=admin)

    response = await api.put(url, json={"hours": {d: ["10:00-11:00"] for d in week}}, headers=admin)

    assert response.json()["reopened"] >= len(original) - 4
    assert {s["id"] for s in await free_slots(api, staff, doctor)} >= original - {min(original)}


async def test_blocking_a_day_closes_free_slots_and_reports_the_clashing_booking(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    slots = await free_slots(api, staff, doctor, days=3)
    # Tomorrow lies wholly inside the three days listed, whatever the time of day now.
    day = datetime.fromisoformat(slots[0]["start"]).astimezone(KOLKATA).date() + timedelta(days=1)
    of_day = [s for s in slots if datetime.fromisoformat(s["start"]).astimezone(KOLKATA).date() == day]
    patient = await make_patient(api, staff)
    booked = await api.post(
        "/api/v1/appointments", json={"slot": of_day[0]["id"], "patient": patient["id"]}, headers=staff
    )
    start = datetime.combine(day, datetime.min.time(), tzinfo=KOLKATA)

    response = await api.post(
        f"/api/v1/practitioner-roles/{doctor['practitioner_role']}/blocks",
        json={
            "start": start.isoformat(),
            "end": (start + timedelta(days=1)).isoformat(),
            "reason": "conference",
        },
        headers=staff,
    )

    assert response.status_code == 200
    assert response.json() == {
        "blocked_slots": len(of_day) - 1,
        "clashing_appointments": [f"Appointment/{booked.json()['id']}"],
    }
    assert (await fhir.read("Slot", of_day[0]["id"]))["status"] == "busy"
    comments = [(await fhir.read("Slot", s["id"])).get("comment") for s in of_day[1:]]
    assert comments == ["blocked: conference"] * (len(of_day) - 1)
    assert not [
        s for s in await free_slots(api, staff, doctor, days=3) if s["id"] in {x["id"] for x in of_day}
    ]


async def test_a_blocked_period_beyond_the_horizon_stays_blocked_when_the_horizon_extends(
    api: httpx.AsyncClient, admin: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    entry = await _entry(fhir, doctor["practitioner_role"])
    now = datetime.now(UTC)
    far = datetime.combine(
        now.astimezone(KOLKATA).date() + timedelta(days=40), datetime.min.time(), tzinfo=KOLKATA
    )
    await block_time(
        fhir, entry, start=far, end=far + timedelta(days=1), reason="holiday", actor=ACTOR, now=now
    )

    await generate_slots(fhir, entry, first_day=now.astimezone(KOLKATA).date(), days=45, now=now)

    slots = await slots_between(fhir, [doctor["schedule"]], far, far + timedelta(days=1))
    assert len(slots) == 4
    assert {s["status"] for s in slots} == {"busy-unavailable"}


async def test_invalid_hours_are_422_naming_the_problem(
    api: httpx.AsyncClient, admin: dict[str, str], clinic: Clinic
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    url = f"/api/v1/practitioner-roles/{doctor['practitioner_role']}/hours"

    backwards = await api.put(url, json={"hours": {"mon": ["13:00-09:00"]}}, headers=admin)
    bad_day = await api.put(url, json={"hours": {"funday": ["09:00-10:00"]}}, headers=admin)

    assert backwards.status_code == 422
    assert backwards.json()["message"] == "hours: mon: '13:00-09:00' ends before it starts"
    assert bad_day.status_code == 422
    assert "unknown day 'funday'" in bad_day.json()["message"]


async def test_generated_slots_carry_provenance_naming_the_system(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    slot = (await free_slots(api, staff, doctor))[0]["id"]

    [record] = await fhir.search("Provenance", {"target": f"Slot/{slot}"})

    assert record["activity"]["text"] == "availability.generate"
    assert record["agent"][0]["type"]["coding"][0]["code"] == "system"
