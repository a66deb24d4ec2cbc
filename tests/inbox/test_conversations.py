"""The inbox API against the real HAPI and Redis: listing by phone and filters, messages oldest first,
assignment, close/reopen, tags, read marks and their Provenance, and the 404/422 cases."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import structlog.testing
from fastapi import FastAPI

from app.fhir.canonical import EXT_CHANNEL, EXT_READ_UP_TO, EXT_THREAD, PROFILE_COMMUNICATION
from app.fhir.client import FhirClient
from tests.clinic import make_patient
from tests.conformance.support import new_from
from tests.factories import phone, unique
from tests.inbox.support import ids, open_thread, receive

pytestmark = pytest.mark.integration


async def _threads(api: httpx.AsyncClient, staff: dict[str, str], **params: str) -> list[dict[str, Any]]:
    response = await api.get("/api/v1/conversations", params=params, headers=staff)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


async def test_the_threads_of_a_number_are_listed_whatever_its_format(
    api: httpx.AsyncClient, staff: dict[str, str], app: FastAPI, fhir: FhirClient
) -> None:
    services = app.state.services
    patient = await make_patient(api, staff)
    e164 = patient["phone"]
    now = services.clock.now()
    whatsapp = await open_thread(
        fhir, services.state, channel="whatsapp", address=e164, patient_id=patient["id"], at=now
    )
    sms = await open_thread(
        fhir,
        services.state,
        channel="sms",
        address=e164,
        patient_id=patient["id"],
        at=now + timedelta(seconds=5),
    )
    national = e164.removeprefix("+91")

    formats = [e164, f"+91 {national[:5]} {national[5:]}", f"0{national}", national, f"91-{national}"]
    with structlog.testing.capture_logs() as logged:
        listings = [await _threads(api, staff, phone=raw) for raw in formats]

    assert [ids(found) for found in listings] == [[sms, whatsapp]] * len(formats)
    first = listings[0][1]
    assert {k: first[k] for k in ("id", "channel", "patient", "status", "address", "assignee")} == {
        "id": whatsapp, "channel": "whatsapp", "patient": patient["id"], "status": "open",
        "address": e164, "assignee": None,
    }  # fmt: skip
    assert await _threads(api, staff, phone=phone()) == []
    assert logged and national not in str(logged)  # no phone number in our logs


async def test_a_bad_phone_or_filter_is_422(api: httpx.AsyncClient, staff: dict[str, str]) -> None:
    for params in (
        {"phone": "12ab"},
        {"phone": "+1 555"},
        {"status": "pending"},
        {"channel": "pigeon"},
        {"tag": "Not A Slug"},
        {"assigned": "a b"},
        {"patient": "x/y"},
        {"count": "0"},
        {"page": "0"},
    ):
        response = await api.get("/api/v1/conversations", params=params, headers=staff)
        assert response.status_code == 422, (params, response.text)
    bad_phone = await api.get("/api/v1/conversations", params={"phone": "12ab"}, headers=staff)
    assert bad_phone.json()["fields"][0]["field"] == "phone"


async def test_filters_status_assignee_channel_and_tag_change_what_the_list_shows(
    api: httpx.AsyncClient, staff: dict[str, str], app: FastAPI, fhir: FhirClient
) -> None:
    services = app.state.services
    patient = await make_patient(api, staff)
    pid = patient["id"]
    now = services.clock.now()
    chat = await open_thread(
        fhir, services.state, channel="whatsapp", address=patient["phone"], patient_id=pid, at=now
    )
    texts = await open_thread(
        fhir,
        services.state,
        channel="sms",
        address=patient["phone"],
        patient_id=pid,
        at=now - timedelta(hours=1),
    )
    base = f"/api/v1/conversations/{chat}"
    user = f"{unique('agent')}@test"

    assigned = await api.put(f"{base}/assignee", json={"user": user}, headers=staff)
    tagged = await api.put(f"{base}/tags", json={"tags": ["billing", "follow-up", "billing"]}, headers=staff)
    closed = await api.post(f"/api/v1/conversations/{texts}/close", headers=staff)

    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["assignee"] == user
    assert tagged.status_code == 200, tagged.text
    assert tagged.json()["tags"] == ["billing", "follow-up"]
    assert closed.json()["status"] == "closed"
    assert ids(await _threads(api, staff, patient=pid)) == [chat, texts]
    assert ids(await _threads(api, staff, patient=pid, status="open")) == [chat]
    assert ids(await _threads(api, staff, patient=pid, status="closed")) == [texts]
    assert ids(await _threads(api, staff, patient=pid, assigned=user)) == [chat]
    assert ids(await _threads(api, staff, assigned=user)) == [chat]
    assert ids(await _threads(api, staff, patient=pid, assigned="none")) == [texts]
    assert ids(await _threads(api, staff, patient=pid, channel="sms")) == [texts]
    assert ids(await _threads(api, staff, patient=pid, channel="whatsapp", tag="follow-up")) == [chat]
    assert ids(await _threads(api, staff, patient=pid, tag="other")) == []

    unassigned = await api.delete(f"{base}/assignee", headers=staff)
    reopened = await api.post(f"/api/v1/conversations/{texts}/reopen", headers=staff)
    untagged = await api.put(f"{base}/tags", json={"tags": []}, headers=staff)

    assert unassigned.json()["assignee"] is None
    assert reopened.json()["status"] == "open"
    assert untagged.json()["tags"] == []
    assert ids(await _threads(api, staff, patient=pid, assigned="none")) == [chat, texts]
    assert ids(await _threads(api, staff, patient=pid, status="closed")) == []
    assert ids(await _threads(api, staff, patient=pid, tag="billing")) == []
    task = await fhir.read("Task", chat)
    assert "owner" not in task
    provenance = await fhir.search("Provenance", {"target": f"Task/{chat}"})
    activities = sorted(p["activity"]["text"] for p in provenance)
    assert activities == [
        "conversation.assign",
        "conversation.tag",
        "conversation.tag",
        "conversation.unassign",
    ]
    assert {p["agent"][0]["who"]["identifier"]["value"] for p in provenance} == {"reception@test"}


async def test_pages_follow_newest_activity_first(
    api: httpx.AsyncClient, staff: dict[str, str], app: FastAPI, fhir: FhirClient
) -> None:
    services = app.state.services
    patient = await make_patient(api, staff)
    now = services.clock.now()
    made = [
        await open_thread(
            fhir, services.state, channel=channel, address=patient["phone"], patient_id=patient["id"],
            at=now - timedelta(minutes=minutes),
        )
        for channel, minutes in (("whatsapp", 30), ("sms", 20), ("voice", 10))
    ]  # fmt: skip

    first = await api.get(
        "/api/v1/conversations", params={"patient": patient["id"], "count": 2}, headers=staff
    )
    second = await api.get(
        "/api/v1/conversations", params={"patient": patient["id"], "count": 2, "page": 2}, headers=staff
    )

    assert ids(first.json()) == [made[2], made[1]]
    assert 'rel="next"' in first.headers["link"] and "page=2" in first.headers["link"]
    assert ids(second.json()) == [made[0]]
    assert "link" not in second.headers


async def test_messages_are_listed_oldest_first_and_read_marks_clear_the_unread_count(
    api: httpx.AsyncClient, staff: dict[str, str], app: FastAPI, fhir: FhirClient
) -> None:
    services = app.state.services
    patient = await make_patient(api, staff)
    pid = patient["id"]
    now = services.clock.now()
    thread = await open_thread(
        fhir,
        services.state,
        channel="whatsapp",
        address=patient["phone"],
        patient_id=pid,
        at=now - timedelta(hours=1),
    )
    second = await receive(
        fhir,
        thread_id=thread,
        channel="whatsapp",
        patient_id=pid,
        text="Is the doctor in?",
        at=now - timedelta(minutes=5),
    )
    first = await receive(
        fhir,
        thread_id=thread,
        channel="whatsapp",
        patient_id=pid,
        text="Hello",
        at=now - timedelta(minutes=10),
    )

    before = await api.get(f"/api/v1/conversations/{thread}", headers=staff)
    replied = await api.post(
        f"/api/v1/conversations/{thread}/messages", json={"text": "Yes, until 8 pm."}, headers=staff
    )
    listed = await api.get(f"/api/v1/conversations/{thread}/messages", headers=staff)

    assert before.json()["unread_count"] == 2
    assert replied.status_code == 202, replied.text
    assert [m["id"] for m in listed.json()] == [first["id"], second["id"], replied.json()["id"]]
    inbound, _, outbound = listed.json()
    assert {k: inbound[k] for k in ("direction", "text", "status", "channel", "media", "sender")} == {
        "direction": "inbound", "text": "Hello", "status": "received", "channel": "whatsapp", "media": [],
        "sender": {"kind": "patient", "user": None},
    }  # fmt: skip
    assert inbound["sent_at"].startswith((now - timedelta(minutes=10)).isoformat(timespec="seconds")[:16])
    assert {k: outbound[k] for k in ("direction", "text", "status", "sender")} == {
        "direction": "outbound", "text": "Yes, until 8 pm.", "status": "queued",
        "sender": {"kind": "staff", "user": "reception@test"},
    }  # fmt: skip

    read = await api.post(f"/api/v1/conversations/{thread}/read", headers=staff)
    assert read.status_code == 200, read.text
    assert read.json()["unread_count"] == 0
    assert (await _threads(api, staff, patient=pid))[0]["unread_count"] == 0

    await receive(
        fhir,
        thread_id=thread,
        channel="whatsapp",
        patient_id=pid,
        text="Thanks",
        at=datetime.fromisoformat(read.json()["read_up_to"]) + timedelta(seconds=1),
    )
    assert (await _threads(api, staff, patient=pid))[0]["unread_count"] == 1

    earlier = (now - timedelta(minutes=7)).isoformat()
    rewound = await api.post(f"/api/v1/conversations/{thread}/read", json={"at": earlier}, headers=staff)
    assert rewound.json()["unread_count"] == 2
    task = await fhir.read("Task", thread)
    assert [e["valueDateTime"] for e in task["extension"] if e["url"] == EXT_READ_UP_TO] == [
        (now - timedelta(minutes=7)).isoformat(timespec="seconds")
    ]
    future = (now + timedelta(hours=1)).isoformat()
    refused = await api.post(f"/api/v1/conversations/{thread}/read", json={"at": future}, headers=staff)
    assert refused.status_code == 422


async def test_unknown_ids_and_tasks_that_are_not_conversations_are_404(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    ticket = await fhir.create(new_from("Task/prm-example-ticket"))
    for conversation_id in ("no-such-thread", ticket["id"]):
        base = f"/api/v1/conversations/{conversation_id}"
        answers = [
            await api.get(base, headers=staff),
            await api.get(f"{base}/messages", headers=staff),
            await api.post(f"{base}/messages", json={"text": "hi"}, headers=staff),
            await api.put(f"{base}/assignee", json={"user": "a@test"}, headers=staff),
            await api.delete(f"{base}/assignee", headers=staff),
            await api.post(f"{base}/close", headers=staff),
            await api.post(f"{base}/reopen", headers=staff),
            await api.put(f"{base}/tags", json={"tags": ["x"]}, headers=staff),
            await api.post(f"{base}/read", headers=staff),
        ]
        assert [a.status_code for a in answers] == [404] * len(answers), conversation_id
        assert answers[0].json()["error"] == "not_found"
    assert (await fhir.read("Task", ticket["id"]))["meta"]["versionId"] == "1"


async def test_bad_changes_are_422_and_write_nothing(
    api: httpx.AsyncClient, staff: dict[str, str], app: FastAPI, fhir: FhirClient
) -> None:
    services = app.state.services
    thread = await open_thread(
        fhir, services.state, channel="sms", address=phone(), patient_id=None, at=services.clock.now()
    )
    base = f"/api/v1/conversations/{thread}"
    answers = [
        await api.put(f"{base}/tags", json={"tags": ["Has Space"]}, headers=staff),
        await api.put(f"{base}/tags", json={"tags": [f"t{i}" for i in range(11)]}, headers=staff),
        await api.put(f"{base}/tags", json={"labels": ["x"]}, headers=staff),
        await api.put(f"{base}/assignee", json={"user": ""}, headers=staff),
        await api.put(f"{base}/assignee", json={}, headers=staff),
        await api.post(f"{base}/read", json={"at": "yesterday"}, headers=staff),
        await api.post(f"{base}/messages", json={}, headers=staff),
        await api.post(f"{base}/messages", json={"text": "a", "template": "welcome"}, headers=staff),
        await api.post(f"{base}/messages", json={"text": "a", "variables": {"x": "y"}}, headers=staff),
        await api.post(f"{base}/messages", json={"template": "welcome", "variables": {}}, headers=staff),
        await api.post(f"{base}/messages", json={"canned_response": "no-such-canned"}, headers=staff),
        await api.post(f"{base}/messages", json={"text": ""}, headers=staff),
    ]

    assert [a.status_code for a in answers] == [422] * 10 + [404, 422]
    assert answers[9].json()["fields"][0]["field"] == "variables.patient_name"
    assert (await fhir.read("Task", thread))["meta"]["versionId"] == "1"
    assert await fhir.count("Communication", {"conversation-thread": thread}) == 0


async def test_the_inbox_needs_a_staff_key(
    api: httpx.AsyncClient, integration: dict[str, str], admin: dict[str, str]
) -> None:
    assert (await api.get("/api/v1/conversations")).status_code == 401
    assert (await api.get("/api/v1/conversations", headers=integration)).status_code == 403
    assert (
        await api.get("/api/v1/conversations", params={"phone": phone()}, headers=admin)
    ).status_code == 200


async def test_messages_written_by_others_with_little_in_them_are_listed(
    api: httpx.AsyncClient, staff: dict[str, str], app: FastAPI, fhir: FhirClient
) -> None:
    services = app.state.services
    now = services.clock.now()
    thread = await open_thread(fhir, services.state, channel="sms", address=phone(), patient_id=None, at=now)
    bare = await fhir.create(
        {
            "resourceType": "Communication",
            "meta": {"profile": [PROFILE_COMMUNICATION]},
            "extension": [
                {"url": EXT_CHANNEL, "valueCode": "sms"},
                {"url": EXT_THREAD, "valueString": thread},
            ],
            "status": "in-progress",
        }
    )

    listed = await api.get(f"/api/v1/conversations/{thread}/messages", headers=staff)
    shown = await api.get(f"/api/v1/conversations/{thread}", headers=staff)

    assert listed.status_code == 200, listed.text
    assert [(m["id"], m["direction"], m["text"], m["status"], m["sent_at"]) for m in listed.json()] == [
        (bare["id"], "outbound", None, None, None)
    ]
    assert listed.json()[0]["sender"] == {"kind": "system", "user": None}
    assert (shown.json()["patient"], shown.json()["unread_count"]) == (None, 0)
