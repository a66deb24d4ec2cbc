"""Pipeline moves from the change feed, whoever wrote the appointment: booked through the API, written
straight into HAPI, booked by the assistant (no second lead), fulfilled -> won, cancelled and not
rebooked in time -> lost. The change job runs as the worker runs it, and replays change nothing."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.changes import jobs as changes
from app.conformance import read_examples
from app.fhir.client import FhirClient, Resource
from app.opportunities.jobs import lose_cancelled_opportunities
from app.services import Services
from tests.clinic import Clinic, free_slots, make_patient, make_practitioner
from tests.factories import person_name
from tests.opportunities.test_opportunities import department, lead
from workers.registry import change_context

pytestmark = pytest.mark.integration
REBOOK_DAYS = 14


@pytest.fixture
def services(app: FastAPI, api: httpx.AsyncClient) -> Services:
    found: Services = app.state.services
    return found


async def feed(services: Services, appointment: Resource) -> None:
    """What the worker does with the change-feed entry of this version of the appointment."""
    version = appointment["meta"]["versionId"]
    await changes.handle_change(
        resource_type="Appointment",
        resource_id=appointment["id"],
        version=version,
        kind="created" if version == "1" else "updated",
        context=change_context(services),
        dedupe_ttl_seconds=1,
    )


async def leads_of(fhir: FhirClient, patient: str) -> list[Resource]:
    return await fhir.search(
        "Task",
        {
            "patient": f"Patient/{patient}",
            "code": "https://fhir.prm.health/CodeSystem/prm-task-type|opportunity",
        },
    )


def stage(task: Resource) -> str:
    return str(task["businessStatus"]["coding"][0]["code"])


async def doctor_with_fee(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic, fee: str
) -> tuple[dict[str, Any], list[str]]:
    dept = await department(api, admin, clinic, fee)
    response = await api.post(
        "/api/v1/practitioners",
        json={
            "name": person_name(),
            "specialty": "cardiology",
            "organization": clinic.organization,
            "location": clinic.location,
            "department": dept,
            "hours": {d: ["10:00-11:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    doctor: dict[str, Any] = response.json()
    return doctor, [s["id"] for s in await free_slots(api, staff, doctor)]


async def book(
    api: httpx.AsyncClient, staff: dict[str, str], slot: str, patient: str, channel: str = "dashboard"
) -> dict[str, Any]:
    response = await api.post(
        "/api/v1/appointments", json={"slot": slot, "patient": patient, "channel": channel}, headers=staff
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_an_api_booking_advances_the_open_lead_and_the_visit_wins_it(
    services: Services,
    api: httpx.AsyncClient,
    staff: dict[str, str],
    admin: dict[str, str],
    clinic: Clinic,
    fhir: FhirClient,
) -> None:
    _, slots = await doctor_with_fee(api, admin, staff, clinic, "900")
    patient = (await make_patient(api, staff))["id"]
    open_lead = await lead(api, staff, patient=patient, source="website")
    await api.patch(f"/api/v1/opportunities/{open_lead['id']}", json={"stage": "qualified"}, headers=staff)

    booked = await book(api, staff, slots[0], patient)
    appointment = await fhir.read("Appointment", booked["id"])
    await feed(services, appointment)
    await feed(services, appointment)  # a replay

    [task] = await leads_of(fhir, patient)
    assert task["id"] == open_lead["id"]
    assert stage(task) == "booked"
    assert task["focus"] == {"reference": f"Appointment/{booked['id']}"}
    listed = await api.get("/api/v1/opportunities", params={"patient": patient}, headers=staff)
    assert [(o["stage"], o["source"], o["appointment"], o["estimated_value"]) for o in listed.json()] == [
        ("booked", "website", f"Appointment/{booked['id']}", 900.0)
    ]
    version = task["meta"]["versionId"]

    await api.post(f"/api/v1/appointments/{booked['id']}/check-in", headers=staff)
    done = await api.post(f"/api/v1/appointments/{booked['id']}/complete", headers=staff)
    assert done.status_code == 200, done.text
    await feed(services, await fhir.read("Appointment", booked["id"]))
    await feed(services, await fhir.read("Appointment", booked["id"]))

    [won] = await leads_of(fhir, patient)
    assert stage(won) == "won"
    assert won["status"] == "completed"
    assert int(won["meta"]["versionId"]) == int(version) + 1


async def test_an_appointment_written_straight_into_hapi_creates_a_booked_lead_once(
    services: Services,
    api: httpx.AsyncClient,
    staff: dict[str, str],
    fhir: FhirClient,
    admin: dict[str, str],
    clinic: Clinic,
) -> None:
    doctor = await make_practitioner(api, admin, clinic)
    patient = (await make_patient(api, staff))["id"]
    example = next(e for e in read_examples() if e["resourceType"] == "Appointment")
    appointment = copy.deepcopy(example)
    for key in ("id", "slot", "identifier"):
        appointment.pop(key, None)
    appointment["meta"] = {"profile": example["meta"]["profile"]}
    appointment["status"] = "booked"
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    appointment["start"] = start.isoformat()
    appointment["end"] = (start + timedelta(minutes=15)).isoformat()
    appointment["participant"] = [
        {"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"},
        {"actor": {"reference": f"PractitionerRole/{doctor['practitioner_role']}"}, "status": "accepted"},
        {"actor": {"reference": f"Practitioner/{doctor['id']}"}, "status": "accepted"},
    ]
    appointment["extension"] = [
        e for e in appointment.get("extension", []) if not e["url"].endswith("booking-channel")
    ] + [{"url": "https://fhir.prm.health/StructureDefinition/booking-channel", "valueCode": "ehr"}]
    written = await fhir.create(appointment)

    await feed(services, written)
    await feed(services, written)

    [task] = await leads_of(fhir, patient)
    assert (stage(task), task["focus"]["reference"]) == ("booked", f"Appointment/{written['id']}")
    listed = await api.get("/api/v1/opportunities", params={"patient": patient}, headers=staff)
    assert [(o["stage"], o["source"]) for o in listed.json()] == [("booked", "ehr")]


async def test_the_assistants_booking_lead_is_not_doubled_by_the_feed(
    services: Services,
    api: httpx.AsyncClient,
    staff: dict[str, str],
    admin: dict[str, str],
    clinic: Clinic,
    fhir: FhirClient,
) -> None:
    from app.fhir.builders import Actor, AgentKind
    from app.opportunities.service import add_booked_opportunity
    from app.scheduling import booking
    from app.vocabulary import Channel

    _, slots = await doctor_with_fee(api, admin, staff, clinic, "700")
    patient = (await make_patient(api, staff))["id"]
    appointment = await booking.book(
        fhir,
        services.directory,
        services.state,
        slot_id=slots[0],
        patient_id=patient,
        reason=None,
        channel=Channel.ASSISTANT,
        actors=[Actor(kind=AgentKind.ASSISTANT)],
        now=datetime.now(UTC),
        extend=lambda tx, ref: add_booked_opportunity(
            tx, existing=None, patient_ref=f"Patient/{patient}", appointment_ref=ref, source="assistant",
            description=None, identifier=None,
        ),
    )  # fmt: skip

    await feed(services, appointment)

    [task] = await leads_of(fhir, patient)
    assert (stage(task), task["focus"]["reference"]) == ("booked", f"Appointment/{appointment['id']}")
    # The feed filled in the value the booking transaction could not look up.
    listed = await api.get("/api/v1/opportunities", params={"patient": patient}, headers=staff)
    assert [(o["source"], o["estimated_value"]) for o in listed.json()] == [("assistant", 700.0)]


async def test_a_cancelled_booking_not_rebooked_in_time_is_lost_and_a_rebooked_one_is_not(
    services: Services,
    api: httpx.AsyncClient,
    staff: dict[str, str],
    admin: dict[str, str],
    clinic: Clinic,
    fhir: FhirClient,
) -> None:
    _, slots = await doctor_with_fee(api, admin, staff, clinic, "500")
    gone, back = (await make_patient(api, staff))["id"], (await make_patient(api, staff))["id"]
    for patient, slot in ((gone, slots[0]), (back, slots[1])):
        booked = await book(api, staff, slot, patient, channel="whatsapp")
        await feed(services, await fhir.read("Appointment", booked["id"]))
        cancelled = await api.post(f"/api/v1/appointments/{booked['id']}/cancel", headers=staff)
        assert cancelled.status_code == 200
        await feed(services, await fhir.read("Appointment", booked["id"]))
    rebooked = await book(api, staff, slots[2], back)
    await feed(services, await fhir.read("Appointment", rebooked["id"]))

    soon = datetime.now(UTC) + timedelta(days=REBOOK_DAYS - 1)
    later = datetime.now(UTC) + timedelta(days=REBOOK_DAYS, hours=1)
    assert (
        await lose_cancelled_opportunities(fhir=fhir, now=soon, rebook_days=REBOOK_DAYS, patient_id=gone) == 0
    )
    assert (
        await lose_cancelled_opportunities(fhir=fhir, now=later, rebook_days=REBOOK_DAYS, patient_id=gone)
        == 1
    )
    assert (
        await lose_cancelled_opportunities(fhir=fhir, now=later, rebook_days=REBOOK_DAYS, patient_id=gone)
        == 0
    )
    assert (
        await lose_cancelled_opportunities(fhir=fhir, now=later, rebook_days=REBOOK_DAYS, patient_id=back)
        == 0
    )

    lost = await api.get("/api/v1/opportunities", params={"patient": gone}, headers=staff)
    assert [(o["stage"], o["source"], o["lost_reason"], o["lost_at_stage"]) for o in lost.json()] == [
        ("lost", "whatsapp", "cancelled-not-rebooked", "booked")
    ]
    kept = await api.get("/api/v1/opportunities", params={"patient": back}, headers=staff)
    assert [(o["stage"], o["appointment"]) for o in kept.json()] == [
        ("booked", f"Appointment/{rebooked['id']}")
    ]
