"""Rescheduling is atomic: new slot booked, old slot freed, old appointment cancelled and linked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from adapters.clock import SystemClock
from adapters.memory_state import InMemoryStateStore
from app.directory.index import DirectoryCache
from app.errors import SlotTaken
from app.fhir.builders import Actor, AgentKind
from app.fhir.client import FhirClient, Resource, version_of
from app.scheduling import booking
from tests.clinic import Clinic, free_slots, make_patient, make_practitioner

pytestmark = pytest.mark.integration


async def _booked(api: httpx.AsyncClient, staff: dict[str, str], slot: str) -> dict[str, Any]:
    patient = await make_patient(api, staff)
    response = await api.post(
        "/api/v1/appointments", json={"slot": slot, "patient": patient["id"]}, headers=staff
    )
    assert response.status_code == 201
    body: dict[str, Any] = response.json()
    return body


async def test_reschedule_books_the_new_slot_frees_the_old_and_links_them(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    old_slot, new_slot = [s["id"] for s in (await free_slots(api, staff, doctor))[:2]]
    old = await _booked(api, staff, old_slot)

    response = await api.post(
        f"/api/v1/appointments/{old['id']}/reschedule", json={"slot": new_slot}, headers=staff
    )

    assert response.status_code == 200
    new = response.json()
    assert new["status"] == "booked"
    assert new["slot"] == new_slot
    assert new["patient"] == old["patient"]
    assert new["rescheduled_from"] == f"Appointment/{old['id']}"
    previous = await fhir.read("Appointment", old["id"])
    assert previous["status"] == "cancelled"
    assert previous["cancelationReason"]["text"] == "rescheduled"
    assert (await fhir.read("Slot", old_slot))["status"] == "free"
    assert (await fhir.read("Slot", new_slot))["status"] == "busy"


class _RaceClient(FhirClient):
    """A real client whose next transaction is preceded by someone else taking `slot_id`."""

    def __init__(self, base_url: str, slot_id: str) -> None:
        super().__init__(base_url)
        self.slot_id = slot_id

    async def transaction(self, bundle: Resource) -> Resource:
        slot = await self.read("Slot", self.slot_id)
        await self.update({**slot, "status": "busy"}, if_match=version_of(slot))
        return await super().transaction(bundle)


async def test_when_the_new_slot_is_taken_mid_way_nothing_changes(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    old_slot, new_slot = [s["id"] for s in (await free_slots(api, staff, doctor))[:2]]
    old = await _booked(api, staff, old_slot)
    old_before = await fhir.read("Appointment", old["id"])
    old_slot_before = await fhir.read("Slot", old_slot)
    racing = _RaceClient(fhir.base_url, new_slot)
    try:
        with pytest.raises(SlotTaken) as caught:
            await booking.reschedule(
                racing,
                DirectoryCache(racing, default_timezone="Asia/Kolkata"),
                InMemoryStateStore(SystemClock()),
                appointment_id=old["id"],
                slot_id=new_slot,
                actors=[Actor(kind=AgentKind.STAFF, user="tests")],
                now=datetime.now(UTC),
            )
    finally:
        await racing.aclose()

    assert caught.value.error == "slot_taken"
    assert await fhir.read("Appointment", old["id"]) == old_before
    assert await fhir.read("Slot", old_slot) == old_slot_before
    assert await fhir.search("Appointment", {"slot": f"Slot/{new_slot}"}) == []


async def test_rescheduling_a_cancelled_appointment_is_409(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    first, second = [s["id"] for s in (await free_slots(api, staff, doctor))[:2]]
    appointment = await _booked(api, staff, first)
    await api.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=staff)

    response = await api.post(
        f"/api/v1/appointments/{appointment['id']}/reschedule", json={"slot": second}, headers=staff
    )

    assert response.status_code == 409
    assert response.json()["error"] == "invalid_transition"
