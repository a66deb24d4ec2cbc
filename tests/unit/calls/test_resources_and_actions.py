"""The pure parts of a call: its FHIR shape, the request read the assistant's way in the clinic's zone,
and the ticket text staff read."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from app.calls import resources
from app.calls.actions import describe, request_draft
from app.calls.rules import CallRules
from app.fhir.canonical import EXT_VOICE_CALL, SID_VOICE_CALL
from app.messaging.resources import Direction, message_of
from app.ports.voice import VoiceEvent

RULES = CallRules(
    region="IN",
    timezone=ZoneInfo("Asia/Kolkata"),
    min_confidence=0.8,
    fetch_recordings=False,
    mrn_prefix="PRM",
)


def event(**changes: Any) -> VoiceEvent:
    body: dict[str, Any] = {
        "event_id": "evt_1",
        "event": "call.completed",
        "call": {"id": "call_1", "direction": "inbound", "from": "+919844111173", "to": "+918000000000",
                 "started_at": "2026-12-01T09:00:00+05:30", "duration_seconds": 95, "agent_id": "a1"},
        "extraction": {"intent": "book_appointment", "confidence": 0.6, "summary": "Wants a heart doctor.",
                       "appointment": {"specialty": "heart doctor", "preferred_date": "2026-12-02",
                                       "preferred_time": "10:30", "reason": "palpitations"}},
        "sip": "trunk-1",
    }  # fmt: skip
    body.update(changes)
    return VoiceEvent.model_validate(body)


def test_an_inbound_call_reads_back_as_the_patients_voice_message() -> None:
    call = resources.call_communication(
        event(), thread_id="T1", patient_id="P1", documents=["DocumentReference/D1"]
    )

    message = message_of(call)
    assert (message.direction, message.channel, message.patient_id, message.text) == (
        Direction.INBOUND,
        "voice",
        "P1",
        "Wants a heart doctor.",
    )
    assert message.attachments == ("DocumentReference/D1",)
    assert call["identifier"] == [{"system": SID_VOICE_CALL, "value": "call_1"}]
    [ext] = [e for e in call["extension"] if e["url"] == EXT_VOICE_CALL]
    parts = {p["url"]: p for p in ext["extension"]}
    assert parts["duration"]["valueDecimal"] == 95
    assert parts["intent"]["valueCode"] == "book_appointment"
    assert json.loads(parts["extra"]["valueString"]) == {"sip": "trunk-1"}
    assert "ended" not in parts and "language" not in parts


def test_an_outbound_call_is_sent_to_the_patient() -> None:
    call_part = {"id": "call_2", "direction": "outbound", "from": "+918000000000", "to": "+919844111173",
                 "started_at": "2026-12-01T09:00:00+05:30"}  # fmt: skip

    call = resources.call_communication(event(call=call_part), thread_id="T1", patient_id="P1", documents=[])

    assert call["recipient"] == [{"reference": "Patient/P1"}] and "sender" not in call
    assert call["sent"] == "2026-12-01T09:00:00+05:30" and "received" not in call


def test_the_request_is_resolved_in_the_clinics_zone_with_the_specialty_code() -> None:
    draft = request_draft(event(), event().extraction, RULES)  # type: ignore[arg-type]

    assert draft.entities.specialty == "cardiology"
    assert draft.entities.start is not None
    assert draft.entities.start.isoformat() == "2026-12-02T10:30:00+05:30"
    assert draft.entities.reason == "palpitations"


def test_the_ticket_says_what_was_asked_why_not_and_what_is_free() -> None:
    draft = request_draft(event(), event().extraction, RULES)  # type: ignore[arg-type]
    draft.alternatives += [
        {"slot": "Slot/S1", "start": "2026-12-02T10:45:00+05:30", "practitioner_name": "Rao", "specialty": "cardiology"},
        {"practitioner": "Practitioner/X", "practitioner_name": "Rao", "specialty": "cardiology"},
    ]  # fmt: skip

    text = describe(event(), event().extraction, why=["the voice agent was 60% sure"], draft=draft)  # type: ignore[arg-type]

    assert text.splitlines() == [
        "Voice call call_1: book_appointment (60% sure).",
        "Summary: Wants a heart doctor.",
        "Caller: +919844111173",
        "Asked for: cardiology, Wed 02 Dec 2026 10:30, palpitations",
        "Not done automatically: the voice agent was 60% sure",
        "Free alternatives:",
        "- Dr. Rao (cardiology), 2026-12-02T10:45:00+05:30 [Slot/S1]",
    ]
