"""Journeys in the real HAPI and Redis: templates through the API (422 for an unknown message template),
auto-start from the change feed on a booking (once), a stage message queued at its time (once, on a fake
clock), check-in advancing the journey to its ticket, cancellation with the appointment, and staff moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.clock import FakeClock
from adapters.sandbox.messenger import SandboxMessenger
from app.changes import jobs as changes
from app.changes.model import Change, ChangeKind
from app.config import Settings
from app.directory.resources import specialty_concept
from app.fhir.builders import extension, instant, meta_profile
from app.fhir.canonical import (
    EXT_BOOKING_CHANNEL,
    PROFILE_APPOINTMENT,
    PROFILE_JOURNEY_STAGE,
    SID_JOURNEY_ACTION,
    SID_MESSAGE_KEY,
)
from app.fhir.client import FhirClient, Resource
from app.fhir.dates import parse_datetime
from app.fhir.errors import FhirInvalid
from app.journeys import events
from app.journeys.templates import DATA_DIR, load_demo_templates
from app.ports.jobs import Job
from app.services import Services, build_services
from tests.clinic import Clinic, free_slots, make_patient, make_practitioner
from tests.conformance.support import errors
from tests.factories import unique
from tests.messaging.support import KOLKATA, STAFF
from workers.registry import JOBS, change_context

pytestmark = pytest.mark.integration
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    built = build_services(
        settings.model_copy(update={"default_timezone": "Asia/Kolkata"}),
        clock=FakeClock(datetime.now(KOLKATA)),
        transcriber=None,
        messenger=SandboxMessenger(),
    )
    yield built
    await built.aclose()


@pytest.fixture(scope="module")
async def branch(api: httpx.AsyncClient, admin: dict[str, str]) -> Clinic:
    """A clinic of its own: templates limited to its location start only for its bookings."""
    org = await api.post(
        "/api/v1/organizations", json={"name": f"Clinic {unique()}", "phone": "+918041230098"}, headers=admin
    )
    loc = await api.post(
        "/api/v1/locations",
        json={"name": f"Branch {unique()}", "organization": org.json()["id"], "timezone": "Asia/Kolkata"},
        headers=admin,
    )
    return Clinic(organization=org.json()["id"], location=loc.json()["id"])


def _template(name: str, **overrides: Any) -> dict[str, Any]:
    """A two-stage template: a welcome message a day before, wait for check-in; a callback a day after."""
    return {
        "name": name,
        "title": "Cardiology new patient (test)",
        "stages": [
            {
                "code": "pre-visit",
                "title": "Before the visit",
                "actions": [
                    {"kind": "message", "template": "welcome", "days": -1},
                    {"kind": "wait", "event": "arrived"},
                ],
            },
            {
                "code": "follow-up",
                "title": "Follow-up",
                "actions": [
                    {"kind": "ticket", "category": "callback", "days": 1, "description": "Call the patient"}
                ],
            },
        ],
        **overrides,
    }


def _clock(services: Services) -> FakeClock:
    clock = services.clock
    assert isinstance(clock, FakeClock)
    return clock


def _move_to(services: Services, moment: datetime) -> None:
    clock = _clock(services)
    clock.advance(seconds=(moment - clock.now()).total_seconds())


async def _feed(services: Services, fhir: FhirClient, appointment_id: str) -> None:
    """What the worker does with the change-feed entry of the appointment's current version."""
    current = await fhir.read("Appointment", appointment_id)
    await changes.handle_change(
        resource_type="Appointment",
        resource_id=appointment_id,
        version=current["meta"]["versionId"],
        kind="updated",
        context=change_context(services),
        dedupe_ttl_seconds=600,
    )


async def _booked(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], fhir: FhirClient, branch: Clinic
) -> tuple[dict[str, Any], Resource]:
    """A new patient booked with a new cardiologist of the branch (first free slot)."""
    doctor = await make_practitioner(api, admin, branch, hours={d: ["11:00-12:00"] for d in DAYS})
    slot = (await free_slots(api, staff, doctor))[0]
    person = await make_patient(api, staff)
    booked = await api.post(
        "/api/v1/appointments", json={"slot": slot["id"], "patient": person["id"]}, headers=staff
    )
    assert booked.status_code == 201, booked.text
    return person, await fhir.read("Appointment", booked.json()["id"])


async def _journeys(
    api: httpx.AsyncClient, staff: dict[str, str], patient_id: str, template: str
) -> list[Any]:
    response = await api.get(f"/api/v1/patients/{patient_id}/journeys", headers=staff)
    assert response.status_code == 200, response.text
    return [j for j in response.json() if j["template"] == template]


async def _journey_messages(fhir: FhirClient, journey_id: str) -> list[str]:
    """The message keys of the journey's messages in HAPI."""
    keys = [f"journey/{journey_id}/pre-visit/0", f"journey/{journey_id}/follow-up/0"]
    messages = await fhir.search(
        "Communication", {"identifier": ",".join(f"{SID_MESSAGE_KEY}|{k}" for k in keys)}
    )
    return [i["value"] for m in messages for i in m["identifier"] if i["system"] == SID_MESSAGE_KEY]


async def _run_job(services: Services) -> Any:
    return await JOBS[Job.RUN_JOURNEY_ACTIONS](services, {})


def _start(appointment: Resource) -> datetime:
    start = parse_datetime(appointment["start"])
    assert start is not None
    return start


async def test_templates_crud_and_an_unknown_message_template_is_refused_at_save_time(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str]
) -> None:
    name = f"t-{unique().lower()}"
    bad = _template(name)
    bad["stages"][0]["actions"][0]["template"] = "no_such_template"

    refused = await api.post("/api/v1/journey-templates", json=bad, headers=admin)

    assert refused.status_code == 422
    assert refused.json()["fields"] == [
        {"field": "stages[0].actions[0].template", "message": "unknown message template 'no_such_template'"}
    ]
    assert (await api.get(f"/api/v1/journey-templates/{name}", headers=staff)).status_code == 404
    bad_category = _template(name)
    bad_category["stages"][1]["actions"][0]["category"] = "gossip"
    refused = await api.post("/api/v1/journey-templates", json=bad_category, headers=admin)
    assert refused.status_code == 422
    assert refused.json()["fields"][0]["field"] == "stages[1].actions[0].category"
    refused = await api.post(
        "/api/v1/journey-templates", json=_template(name, department="astrology"), headers=admin
    )
    assert refused.status_code == 422
    assert refused.json()["fields"][0]["field"] == "department"
    assert (
        await api.post("/api/v1/journey-templates", json=_template(name), headers=staff)
    ).status_code == 403

    created = await api.post("/api/v1/journey-templates", json=_template(name), headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["stages"][0]["actions"][0] == {
        "kind": "message", "days": -1, "template": "welcome", "category": None,
        "priority": "routine", "description": None, "event": None, "questionnaire": None,
    }  # fmt: skip
    assert (
        await api.post("/api/v1/journey-templates", json=_template(name), headers=admin)
    ).status_code == 409

    body = {k: v for k, v in _template(name).items() if k != "name"} | {"title": "Renamed"}
    replaced = await api.put(f"/api/v1/journey-templates/{name}", json=body, headers=admin)
    assert replaced.status_code == 200, replaced.text
    assert (await api.get(f"/api/v1/journey-templates/{name}", headers=staff)).json()["title"] == "Renamed"
    listed = await api.get("/api/v1/journey-templates", headers=staff)
    assert name in [t["name"] for t in listed.json()]

    assert (await api.delete(f"/api/v1/journey-templates/{name}", headers=admin)).status_code == 204
    assert (await api.get(f"/api/v1/journey-templates/{name}", headers=staff)).json()["active"] is False
    listed = await api.get("/api/v1/journey-templates", headers=staff)
    assert name not in [t["name"] for t in listed.json()]
    assert (
        await api.put("/api/v1/journey-templates/t-never-saved", json=body, headers=admin)
    ).status_code == 404


async def test_a_booking_starts_the_department_journey_once_its_message_goes_at_its_time_once_and_check_in_advances(
    services: Services,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    branch: Clinic,
) -> None:
    name = f"t-{unique().lower()}"
    saved = await api.post(
        "/api/v1/journey-templates",
        json=_template(name, department="cardiology", location=branch.location),
        headers=admin,
    )
    assert saved.status_code == 201, saved.text
    patient, appointment = await _booked(api, admin, staff, fhir, branch)
    start = _start(appointment)
    _move_to(services, start - timedelta(days=3))

    await _feed(services, fhir, appointment["id"])
    replay = Change(
        "Appointment", appointment["id"], appointment["meta"]["versionId"], ChangeKind.UPDATED, None
    )
    await events.follow_appointment(replay, context=change_context(services))  # the feed's de-dup bypassed

    [journey] = await _journeys(api, staff, patient["id"], name)
    assert journey["status"] == "active"
    assert journey["appointment"] == appointment["id"]
    assert journey["current_stage"] == "pre-visit"
    assert parse_datetime(journey["stages"][0]["next_due"]) == start - timedelta(days=1)
    assert [s["status"] for s in journey["stages"]] == ["in-progress", "not-started"]

    await _run_job(services)  # three days ahead: nothing is due
    assert await _journey_messages(fhir, journey["id"]) == []

    _move_to(services, start - timedelta(days=1) + timedelta(minutes=1))
    first = await _run_job(services)
    again = await _run_job(services)

    assert f"CarePlan/{journey['id']}/pre-visit/0" in first.messages
    assert f"CarePlan/{journey['id']}/pre-visit/0" not in again.messages
    assert await _journey_messages(fhir, journey["id"]) == [f"journey/{journey['id']}/pre-visit/0"]
    [journey] = await _journeys(api, staff, patient["id"], name)
    assert journey["stages"][0] | {"next_due": None} == {
        "code": "pre-visit", "title": "Before the visit", "status": "in-progress", "actions_done": [0], "next_due": None,
    }  # fmt: skip
    assert journey["stages"][0]["next_due"] is None  # only the wait for the check-in is left

    checked_in = await api.post(f"/api/v1/appointments/{appointment['id']}/check-in", headers=staff)
    assert checked_in.status_code == 200, checked_in.text
    await _feed(services, fhir, appointment["id"])

    [journey] = await _journeys(api, staff, patient["id"], name)
    assert [s["status"] for s in journey["stages"]] == ["completed", "in-progress"]
    assert parse_datetime(journey["stages"][1]["next_due"]) == start + timedelta(days=1)

    _move_to(services, start + timedelta(days=1, minutes=1))
    await _run_job(services)
    await _run_job(services)

    key = f"{journey['id']}/follow-up/0"
    tickets = await fhir.search("Task", {"identifier": f"{SID_JOURNEY_ACTION}|{key}"})
    assert len(tickets) == 1
    assert tickets[0]["for"] == {"reference": f"Patient/{patient['id']}"}
    assert tickets[0]["description"] == "Call the patient"
    [journey] = await _journeys(api, staff, patient["id"], name)
    assert journey["status"] == "completed"
    assert journey["current_stage"] is None


async def test_cancelling_the_appointment_cancels_its_journey_and_nothing_is_sent(
    services: Services,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    branch: Clinic,
) -> None:
    name = f"t-{unique().lower()}"
    saved = await api.post(
        "/api/v1/journey-templates",
        json=_template(name, department="cardiology", location=branch.location),
        headers=admin,
    )
    assert saved.status_code == 201, saved.text
    patient, appointment = await _booked(api, admin, staff, fhir, branch)
    _move_to(services, _start(appointment) - timedelta(days=3))
    await _feed(services, fhir, appointment["id"])
    [journey] = await _journeys(api, staff, patient["id"], name)

    cancelled = await api.post(f"/api/v1/appointments/{appointment['id']}/cancel", json={}, headers=staff)
    assert cancelled.status_code == 200, cancelled.text
    await _feed(services, fhir, appointment["id"])
    await _feed(services, fhir, appointment["id"])
    _move_to(services, _start(appointment) - timedelta(hours=20))
    report = await _run_job(services)

    [journey] = await _journeys(api, staff, patient["id"], name)
    assert journey["status"] == "cancelled"
    assert [s["status"] for s in journey["stages"]] == ["cancelled", "cancelled"]
    assert not [m for m in report.messages if journey["id"] in m]
    assert await _journey_messages(fhir, journey["id"]) == []
    care_plan = await fhir.read("CarePlan", journey["id"])
    assert care_plan["status"] == "revoked"
    stages = [
        await fhir.read("Task", a["reference"]["reference"].split("/")[1]) for a in care_plan["activity"]
    ]
    assert [(t["code"]["text"], t["status"], t["statusReason"]["text"]) for t in stages] == [
        ("pre-visit", "cancelled", "cancelled"),
        ("follow-up", "cancelled", "cancelled"),
    ]
    assert all("restriction" not in t for t in stages)  # nothing left due


async def test_each_stage_is_a_task_hapi_validates_against_prm_journey_stage(
    services: Services,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    branch: Clinic,
) -> None:
    name = f"t-{unique().lower()}"
    template = _template(name, department="cardiology", location=branch.location)
    assert (await api.post("/api/v1/journey-templates", json=template, headers=admin)).status_code == 201
    patient, appointment = await _booked(api, admin, staff, fhir, branch)
    _move_to(services, _start(appointment) - timedelta(days=3))
    await _feed(services, fhir, appointment["id"])
    [journey] = await _journeys(api, staff, patient["id"], name)

    care_plan = await fhir.read("CarePlan", journey["id"])
    refs = [a["reference"]["reference"] for a in care_plan["activity"]]
    stages = [await fhir.read("Task", ref.removeprefix("Task/")) for ref in refs]

    assert "detail" not in care_plan["activity"][0]
    assert [t["meta"]["profile"] for t in stages] == [[PROFILE_JOURNEY_STAGE]] * 2
    assert [(t["code"]["text"], t["description"], t["status"]) for t in stages] == [
        ("pre-visit", "Before the visit", "in-progress"),
        ("follow-up", "Follow-up", "requested"),
    ]
    assert parse_datetime(stages[0]["restriction"]["period"]["end"]) == _start(appointment) - timedelta(
        days=1
    )
    assert [t["for"] for t in stages] == [{"reference": f"Patient/{patient['id']}"}] * 2
    for task in stages:
        outcome = await fhir.validate(task, profile=PROFILE_JOURNEY_STAGE)
        assert errors(outcome) == [], task["id"]
    # A stage Task is how the journey is found: its CarePlan names it.
    back = await fhir.search("CarePlan", {"activity-reference": refs[1]})
    assert [p["id"] for p in back] == [journey["id"]]
    # HAPI refuses a stage Task that breaks the profile (no description, i.e. no stage title).
    broken = {k: v for k, v in stages[1].items() if k not in ("id", "meta", "description")}
    broken["meta"] = {"profile": [PROFILE_JOURNEY_STAGE]}
    with pytest.raises(FhirInvalid):
        await fhir.create(broken)


async def test_staff_start_skip_complete_and_cancel_with_precise_errors(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str]
) -> None:
    name = f"t-{unique().lower()}"
    template = _template(name)
    template["stages"].append(
        {"code": "review", "title": "Review", "actions": [{"kind": "wait", "event": "fulfilled"}]}
    )
    assert (await api.post("/api/v1/journey-templates", json=template, headers=admin)).status_code == 201
    patient = await make_patient(api, staff)
    anchor = datetime.now(KOLKATA).replace(microsecond=0) + timedelta(days=10)

    started = await api.post(
        f"/api/v1/patients/{patient['id']}/journeys",
        json={"template": name, "anchor": anchor.isoformat()},
        headers=staff,
    )
    assert started.status_code == 201, started.text
    journey = started.json()
    assert journey["current_stage"] == "pre-visit"
    assert parse_datetime(journey["anchor"]) == anchor
    base = f"/api/v1/journeys/{journey['id']}"

    wrong = await api.post(f"{base}/stages/follow-up/skip", headers=staff)
    assert wrong.status_code == 409
    assert wrong.json()["error"] == "invalid_transition"
    assert wrong.json()["allowed"] == ["pre-visit"]
    unknown = await api.post(f"{base}/stages/nowhere/complete", headers=staff)
    assert unknown.status_code == 422
    assert unknown.json()["fields"][0]["field"] == "stage"

    skipped = await api.post(f"{base}/stages/pre-visit/skip", headers=staff)
    assert skipped.status_code == 200, skipped.text
    assert [s["status"] for s in skipped.json()["stages"]] == ["skipped", "in-progress", "not-started"]
    advanced = await api.post(f"{base}/advance", headers=staff)
    assert [s["status"] for s in advanced.json()["stages"]] == ["skipped", "completed", "in-progress"]
    assert advanced.json()["current_stage"] == "review"

    cancelled = await api.post(f"{base}/cancel", headers=staff)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    again = await api.post(f"{base}/cancel", headers=staff)
    assert again.status_code == 409
    assert again.json()["allowed"] == []
    listed = await _journeys(api, staff, patient["id"], name)
    assert [j["status"] for j in listed] == ["cancelled"]

    missing_template = await api.post(
        f"/api/v1/patients/{patient['id']}/journeys", json={"template": "t-never-saved"}, headers=staff
    )
    assert missing_template.status_code == 404
    assert (await api.get("/api/v1/patients/no-such-patient/journeys", headers=staff)).status_code == 404
    assert (await api.get("/api/v1/journeys/no-such-journey", headers=staff)).status_code == 404
    assert (await api.get(f"/api/v1/patients/{patient['id']}/journeys")).status_code == 401


async def test_the_four_demo_templates_load_once(fhir: FhirClient) -> None:
    await load_demo_templates(fhir, actors=[STAFF])

    again = await load_demo_templates(fhir, actors=[STAFF])

    assert again == []
    names = sorted(p.stem for p in DATA_DIR.glob("*.json"))
    assert names == [
        "cardiology-opd-new-patient", "diabetes-management", "general-follow-up", "orthopedic-post-surgery",
    ]  # fmt: skip
    for name in names:
        stored = await fhir.read("PlanDefinition", name)
        assert stored["status"] == "active"
        assert stored["action"], name


async def test_an_appointment_written_straight_into_hapi_starts_its_journey_and_completion_advances_it(
    services: Services,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    branch: Clinic,
) -> None:
    name = f"t-{unique().lower()}"
    saved = await api.post(
        "/api/v1/journey-templates",
        json=_template(name, department="cardiology", location=branch.location),
        headers=admin,
    )
    assert saved.status_code == 201, saved.text
    doctor = await make_practitioner(api, admin, branch)
    patient = await make_patient(api, staff)
    start = services.clock.now().replace(microsecond=0) + timedelta(days=5)
    written = await fhir.create(
        {
            "resourceType": "Appointment",
            "meta": meta_profile(PROFILE_APPOINTMENT),
            "extension": [extension(EXT_BOOKING_CHANNEL, valueCode="ehr")],
            "status": "booked",
            "specialty": [specialty_concept("cardiology")],
            "start": instant(start),
            "end": instant(start + timedelta(minutes=15)),
            "participant": [
                {"actor": {"reference": f"Patient/{patient['id']}"}, "status": "accepted"},
                {"actor": {"reference": f"Practitioner/{doctor['id']}"}, "status": "accepted"},
                {"actor": {"reference": f"Location/{branch.location}"}, "status": "accepted"},
            ],
        }
    )
    await _feed(services, fhir, written["id"])
    [journey] = await _journeys(api, staff, patient["id"], name)
    assert journey["appointment"] == written["id"]
    assert parse_datetime(journey["anchor"]) == start

    await fhir.update({**written, "status": "fulfilled"})
    await _feed(services, fhir, written["id"])

    [journey] = await _journeys(api, staff, patient["id"], name)
    assert [s["status"] for s in journey["stages"]] == ["completed", "in-progress"]
    assert journey["current_stage"] == "follow-up"
