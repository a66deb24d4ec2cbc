"""The tickets API against the real HAPI: open with an SLA due time, comment, work, resolve, close,
reopen; refused transitions and bad input write nothing; filters and paging over the tickets made here."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from app.fhir.client import FhirClient
from tests.clinic import make_patient

pytestmark = pytest.mark.integration


async def _open(api: httpx.AsyncClient, staff: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await api.post("/api/v1/tickets", json=fields, headers=staff)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _history(fhir: FhirClient, ticket_id: str) -> list[str]:
    """The Provenance agents (user identifiers) of every write of a ticket."""
    provenances = await fhir.search("Provenance", {"target": f"Task/{ticket_id}"})
    return [p["agent"][0]["who"]["identifier"]["value"] for p in provenances]


async def test_a_ticket_lives_from_open_to_closed_and_back_with_its_comments_in_order(
    api: httpx.AsyncClient, staff: dict[str, str], admin: dict[str, str], fhir: FhirClient
) -> None:
    patient = await make_patient(api, staff)
    before = datetime.now().astimezone()

    created = await _open(
        api,
        staff,
        patient=patient["id"],
        category="complaint",
        priority="urgent",
        description="Waited two hours at the front desk",
    )

    # Fixed point: id, status, due; complaint/urgent is 4 hours by default.
    assert created["status"] == "open"
    due = datetime.fromisoformat(created["due"])
    assert (
        before + timedelta(hours=4) - timedelta(seconds=2)
        <= due
        <= datetime.now().astimezone() + timedelta(hours=4)
    )
    assert (created["category"], created["priority"], created["source"]) == (
        "complaint",
        "urgent",
        "dashboard",
    )
    ticket_id = created["id"]

    first = await api.post(
        f"/api/v1/tickets/{ticket_id}/comments", json={"text": "Called, no answer"}, headers=staff
    )
    second = await api.post(
        f"/api/v1/tickets/{ticket_id}/comments", json={"text": "Spoke to her"}, headers=admin
    )
    assert (first.status_code, second.status_code) == (201, 201)
    comments = second.json()["comments"]
    assert [(c["author"], c["text"]) for c in comments] == [
        ("reception@test", "Called, no answer"),
        ("admin@test", "Spoke to her"),
    ]
    assert comments[0]["time"] <= comments[1]["time"]

    assigned = await api.post(
        f"/api/v1/tickets/{ticket_id}/assign", json={"owner": "nurse@test"}, headers=staff
    )
    assert assigned.json()["owner"] == "nurse@test"
    working = await api.patch(f"/api/v1/tickets/{ticket_id}", json={"status": "in-progress"}, headers=staff)
    assert working.json()["status"] == "in-progress"

    no_note = await api.patch(f"/api/v1/tickets/{ticket_id}", json={"status": "resolved"}, headers=staff)
    assert no_note.status_code == 422
    assert no_note.json()["fields"] == [
        {"field": "resolution", "message": "a resolved ticket needs a resolution note"}
    ]
    assert (await api.get(f"/api/v1/tickets/{ticket_id}", headers=staff)).json()["status"] == "in-progress"

    resolved = await api.patch(
        f"/api/v1/tickets/{ticket_id}",
        json={"status": "resolved", "resolution": "Apologised; fee waived"},
        headers=staff,
    )
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["status"], resolved.json()["resolution"]) == (
        "resolved",
        "Apologised; fee waived",
    )
    stored = await fhir.read("Task", ticket_id)
    assert stored["status"] == "completed"
    assert stored["statusReason"] == {"text": "Apologised; fee waived"}

    closed = await api.post(f"/api/v1/tickets/{ticket_id}/close", headers=staff)
    assert closed.json()["status"] == "closed"
    # Age the ticket past its SLA (the due time has whole seconds, so the clock restarting within
    # the second of opening would not show otherwise).
    aged = await fhir.read("Task", ticket_id)
    aged["restriction"]["period"]["end"] = (due - timedelta(days=1)).isoformat()
    await fhir.update(aged)
    reopening = datetime.now().astimezone()
    reopened = await api.post(f"/api/v1/tickets/{ticket_id}/reopen", headers=staff)
    assert reopened.json()["status"] == "open"
    assert reopened.json()["resolution"] is None
    # The SLA clock starts again: 4 hours from the reopening.
    assert datetime.fromisoformat(reopened.json()["due"]) >= reopening + timedelta(hours=4, seconds=-1)

    # Fixed point: a patient's tickets, with their comments.
    listed = await api.get("/api/v1/tickets", params={"patient": patient["id"]}, headers=staff)
    assert [(t["id"], t["category"], t["priority"], t["status"]) for t in listed.json()] == [
        (ticket_id, "complaint", "urgent", "open")
    ]
    assert [c["text"] for c in listed.json()[0]["comments"]] == ["Called, no answer", "Spoke to her"]

    # Every write carries the caller in its Provenance.
    assert sorted(await _history(fhir, ticket_id)) == ["admin@test"] + ["reception@test"] * 7


async def test_a_refused_transition_is_409_naming_the_allowed_ones_and_writes_nothing(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    ticket = await _open(api, staff, category="callback", description="Call back about reports")
    await api.post(f"/api/v1/tickets/{ticket['id']}/close", headers=staff)
    before = await fhir.read("Task", ticket["id"])

    refused = await api.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"status": "in-progress"}, headers=staff
    )

    assert refused.status_code == 409
    assert refused.json()["error"] == "invalid_transition"
    assert refused.json()["allowed"] == ["open"]
    assert refused.json()["message"] == "A ticket that is 'closed' cannot become 'in-progress'; allowed: open"
    assert await fhir.read("Task", ticket["id"]) == before


async def test_bad_input_names_the_field_and_unknown_ids_are_404(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    patient = (await make_patient(api, staff))["id"]
    bad_category = await api.post(
        "/api/v1/tickets", json={"patient": patient, "category": "gossip", "description": "x"}, headers=staff
    )
    bad_priority = await api.post(
        "/api/v1/tickets",
        json={"patient": patient, "category": "billing", "priority": "whenever", "description": "x"},
        headers=staff,
    )
    no_patient = await api.post(
        "/api/v1/tickets",
        json={"patient": "no-such-patient", "category": "billing", "description": "x"},
        headers=staff,
    )

    assert bad_category.status_code == 422
    assert [f["field"] for f in bad_category.json()["fields"]] == ["body.category"]
    assert bad_priority.status_code == 422
    assert [f["field"] for f in bad_priority.json()["fields"]] == ["body.priority"]
    assert no_patient.status_code == 404
    assert no_patient.json()["message"] == "Patient 'no-such-patient' does not exist"
    assert await fhir.search("Task", {"patient": f"Patient/{patient}"}) == []
    assert (await api.get("/api/v1/tickets/no-such-ticket", headers=staff)).status_code == 404
    missing = await api.post("/api/v1/tickets/no-such-ticket/comments", json={"text": "hi"}, headers=staff)
    assert missing.status_code == 404
    # An opportunity is not a ticket.
    lead = await api.post(
        "/api/v1/opportunities", json={"patient": patient, "source": "website"}, headers=staff
    )
    assert (await api.get(f"/api/v1/tickets/{lead.json()['id']}", headers=staff)).status_code == 404


async def test_filters_and_paging_find_exactly_the_tickets_asked_for(
    api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    patient = (await make_patient(api, staff))["id"]
    start = datetime.now().astimezone() - timedelta(seconds=1)
    callback = await _open(api, staff, patient=patient, category="callback", description="a", source="voice")
    billing = await _open(
        api, staff, patient=patient, category="billing", priority="asap", description="b", owner="desk@test"
    )
    feedback = await _open(api, staff, patient=patient, category="feedback", description="c")
    await api.post(f"/api/v1/tickets/{feedback['id']}/close", headers=staff)

    async def ids(**params: Any) -> list[str]:
        response = await api.get("/api/v1/tickets", params={"patient": patient, **params}, headers=staff)
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()]

    assert await ids() == [feedback["id"], billing["id"], callback["id"]]  # newest first
    assert await ids(category="billing") == [billing["id"]]
    assert await ids(priority="asap") == [billing["id"]]
    assert await ids(status="closed") == [feedback["id"]]
    assert await ids(owner="desk@test") == [billing["id"]]
    assert await ids(owner="none") == [feedback["id"], callback["id"]]
    assert await ids(source="voice") == [callback["id"]]
    assert await ids(created_from=start.isoformat()) == [feedback["id"], billing["id"], callback["id"]]
    assert await ids(created_to=start.isoformat()) == []
    assert await ids(overdue="true") == []

    page_one = await api.get("/api/v1/tickets", params={"patient": patient, "count": 2}, headers=staff)
    assert [t["id"] for t in page_one.json()] == [feedback["id"], billing["id"]]
    assert 'rel="next"' in page_one.headers["link"]
    page_two = await api.get(
        "/api/v1/tickets", params={"patient": patient, "count": 2, "page": 2}, headers=staff
    )
    assert [t["id"] for t in page_two.json()] == [callback["id"]]
    assert "link" not in page_two.headers

    bad = await api.get("/api/v1/tickets", params={"status": "pending"}, headers=staff)
    assert bad.status_code == 422
    assert [f["field"] for f in bad.json()["fields"]] == ["query.status"]


async def test_the_360_shows_the_patients_tickets_with_their_status(
    api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    patient = (await make_patient(api, staff))["id"]
    ticket = await _open(api, staff, patient=patient, category="inquiry", description="Parking?")

    view = await api.get(f"/api/v1/patients/{patient}/360", headers=staff)

    assert view.status_code == 200
    assert [
        (t["id"], t["category"], t["priority"], t["status"], t["overdue"])
        for t in view.json()["ticket_summaries"]
    ] == [(ticket["id"], "inquiry", "routine", "open", False)]
    assert view.json()["ticket_summaries"][0]["due"] == ticket["due"]


async def test_tickets_need_a_staff_key(api: httpx.AsyncClient, integration: dict[str, str]) -> None:
    assert (await api.get("/api/v1/tickets")).status_code == 401
    assert (await api.get("/api/v1/tickets", headers=integration)).status_code == 403
