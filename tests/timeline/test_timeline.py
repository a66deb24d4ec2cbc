"""The patient timeline in the real HAPI: one resource of each kind seeded with known times (and some
without any), merged newest first across kinds, paged with a cursor that stays put when a newer entry
arrives, and precise errors."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from app.fhir.client import FhirClient, Resource
from app.fhir.dates import parse_datetime
from tests.clinic import make_patient
from tests.conformance.support import new_from
from tests.factories import unique

pytestmark = pytest.mark.integration

T = datetime.fromisoformat("2026-03-10T12:00:00+05:30")


def _at(delta: timedelta) -> str:
    return (T + delta).isoformat()


async def _seed(fhir: FhirClient) -> tuple[str, dict[str, str]]:
    """A patient with an appointment past and one ahead, a message, a call, a message without any time,
    a ticket, a finished journey stage and one not started; their references by name."""
    patient = await fhir.create(new_from("Patient/prm-example-patient"))
    ref = {"reference": f"Patient/{patient['id']}"}

    def appointment(start: timedelta, status: str) -> Resource:
        made = new_from("Appointment/prm-example-appointment")
        made.pop("slot", None)
        made.update(status=status, start=_at(start), end=_at(start + timedelta(minutes=15)))
        made["participant"][0]["actor"] = ref
        return made

    message = new_from("Communication/prm-example-communication")
    message.update(subject=ref, recipient=[ref], sent=_at(-timedelta(hours=3)))
    untimed = new_from("Communication/prm-example-communication")
    untimed.update(subject=ref, recipient=[ref])
    untimed.pop("sent")
    call = new_from("Communication/prm-example-call")
    call.update(subject=ref)
    for key in ("sent", "received", "recipient", "sender"):
        call.pop(key, None)
    voice = next(e for e in call["extension"] if e["url"].endswith("/voice-call"))
    next(p for p in voice["extension"] if p["url"] == "started")["valueDateTime"] = _at(-timedelta(hours=5))
    ticket = new_from("Task/prm-example-ticket")
    ticket.update({"for": ref, "authoredOn": _at(-timedelta(hours=2))})
    stage = new_from("Task/prm-example-journey-stage-pre-visit")
    stage.update(
        {
            "for": ref,
            "status": "completed",
            "executionPeriod": {"start": _at(-timedelta(days=2)), "end": _at(-timedelta(hours=1))},
        }
    )
    stage.pop("restriction")
    waiting = new_from("Task/prm-example-journey-stage-follow-up")
    waiting.update({"for": ref})
    made = {
        "later": appointment(timedelta(days=2), "booked"),
        "earlier": appointment(-timedelta(days=1), "fulfilled"),
        "message": message,
        "untimed": untimed,
        "call": call,
        "ticket": ticket,
        "stage": stage,
        "waiting": waiting,
    }
    refs = {}
    for name, resource in made.items():
        stored = await fhir.create(resource)
        refs[name] = f"{stored['resourceType']}/{stored['id']}"
    return patient["id"], refs


async def _page(api: httpx.AsyncClient, staff: dict[str, str], patient: str, **params: Any) -> Any:
    response = await api.get(f"/api/v1/patients/{patient}/timeline", params=params, headers=staff)
    assert response.status_code == 200, response.text
    return response.json()


async def test_entries_of_every_kind_newest_first_in_stable_pages(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    patient, refs = await _seed(fhir)

    first = await _page(api, staff, patient, limit=3)
    # A newer entry arriving between pages changes nothing after the cursor.
    newer = new_from("Communication/prm-example-communication")
    newer.update(
        subject={"reference": f"Patient/{patient}"},
        recipient=[{"reference": f"Patient/{patient}"}],
        sent=_at(timedelta(days=5)),
    )
    await fhir.create(newer)
    second = await _page(api, staff, patient, limit=3, cursor=first["next_cursor"])
    third = await _page(api, staff, patient, limit=3, cursor=second["next_cursor"])

    entries = first["entries"] + second["entries"] + third["entries"]
    order = ["later", "stage", "ticket", "message", "call", "earlier", "untimed"]
    assert [e["reference"] for e in entries] == [refs[name] for name in order]
    assert [e["kind"] for e in entries] == [
        "appointment", "journey-step", "ticket", "message", "call", "appointment", "message",
    ]  # fmt: skip
    assert [parse_datetime(e["time"]) for e in entries] == [
        T + timedelta(days=2),
        T - timedelta(hours=1),
        T - timedelta(hours=2),
        T - timedelta(hours=3),
        T - timedelta(hours=5),
        T - timedelta(days=1),
        None,
    ]
    assert entries[0]["summary"] == "Appointment (cardiology): booked"
    assert entries[1]["summary"] == "Journey stage Before the visit: completed"
    assert entries[2]["summary"].startswith("Ticket (callback, ")
    assert entries[3]["summary"] == "Message (whatsapp) to the patient: read"
    assert entries[4]["summary"] == "Voice call: received"
    assert third["next_cursor"] is None
    assert len(third["entries"]) == 1
    assert refs["waiting"] not in {e["reference"] for e in entries}  # a stage not started is no event

    everything = await _page(api, staff, patient, limit=100)
    assert everything["entries"][0]["kind"] == "message"  # the newer message leads a fresh read
    assert [e["reference"] for e in everything["entries"][1:]] == [refs[name] for name in order]
    assert everything["next_cursor"] is None


async def test_the_360_links_the_timeline_and_bad_input_is_refused(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    patient, _ = await _seed(fhir)

    view = await api.get(f"/api/v1/patients/{patient}/360", headers=staff)
    assert view.status_code == 200, view.text
    assert view.json()["timeline"] == f"/api/v1/patients/{patient}/timeline"

    bad = await api.get(f"/api/v1/patients/{patient}/timeline", params={"cursor": "nope"}, headers=staff)
    assert bad.status_code == 422
    assert "cursor" in bad.text
    too_many = await api.get(f"/api/v1/patients/{patient}/timeline", params={"limit": 0}, headers=staff)
    assert too_many.status_code == 422
    assert "limit" in too_many.text
    assert (await api.get("/api/v1/patients/no-such-patient/timeline", headers=staff)).status_code == 404
    assert (await api.get(f"/api/v1/patients/{patient}/timeline")).status_code == 401


async def test_the_360_shows_the_patients_journeys_with_their_current_stage(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str]
) -> None:
    name = f"t-{unique().lower()}"
    template = {
        "name": name,
        "title": "Two waits",
        "stages": [
            {"code": "check-in", "title": "Checked in", "actions": [{"kind": "wait", "event": "arrived"}]},
            {"code": "visit", "title": "Visit", "actions": [{"kind": "wait", "event": "fulfilled"}]},
        ],
    }
    saved = await api.post("/api/v1/journey-templates", json=template, headers=admin)
    assert saved.status_code == 201, saved.text
    patient = (await make_patient(api, staff))["id"]
    start = f"/api/v1/patients/{patient}/journeys"
    finished = (await api.post(start, json={"template": name}, headers=staff)).json()["id"]
    for _ in range(2):
        advanced = await api.post(f"/api/v1/journeys/{finished}/advance", headers=staff)
        assert advanced.status_code == 200, advanced.text
    running = (await api.post(start, json={"template": name}, headers=staff)).json()["id"]

    view = await api.get(f"/api/v1/patients/{patient}/360", headers=staff)
    assert view.status_code == 200, view.text
    journeys = [(j["id"], j["template"], j["status"], j["current_stage"]) for j in view.json()["journeys"]]
    assert journeys == [(running, name, "active", "check-in"), (finished, name, "completed", None)]
