"""The native voice event: required fields, extras kept by path, the caller's side of the call."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.ports.voice import VoiceEvent


def body(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": "evt_1",
        "event": "call.completed",
        "call": {
            "id": "call_1",
            "direction": "inbound",
            "from": "+919844111173",
            "to": "+918000000000",
            "started_at": "2026-12-01T09:00:00+05:30",
        },
        "recording": None,
        "transcript": None,
        "extraction": None,
    }
    event.update(changes)
    return event


def test_a_minimal_event_reads_and_round_trips_through_the_job_payload() -> None:
    event = VoiceEvent.model_validate(body())

    assert event.caller == "+919844111173"
    assert VoiceEvent.model_validate(event.to_payload()) == event
    assert event.to_payload()["call"]["from"] == "+919844111173"
    assert event.extras() == {}


def test_an_outbound_call_is_about_the_number_called() -> None:
    call = {**body()["call"], "direction": "outbound", "from": "+918000000000", "to": "+919844111173"}

    assert VoiceEvent.model_validate(body(call=call)).caller == "+919844111173"


def test_unknown_fields_are_kept_at_every_level_by_dotted_path() -> None:
    call = {**body()["call"], "sip": {"trunk": 7}}
    transcript = {
        "text": "hi",
        "segments": [{"speaker": "agent", "start": 0, "end": 1, "text": "hi", "conf": 0.9}],
    }

    event = VoiceEvent.model_validate(body(call=call, transcript=transcript, metadata={"a": 1}))

    assert event.extras() == {
        "metadata": {"a": 1},
        "call.sip": {"trunk": 7},
        "transcript.segments.0.conf": 0.9,
    }
    assert VoiceEvent.model_validate(event.to_payload()).extras() == event.extras()


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"event_id": "evt 1"}, ("event_id",)),
        ({"call": {"id": "c", "from": "+91", "started_at": "2026-12-01T09:00:00"}}, ("call", "started_at")),
        ({"extraction": {"intent": "book_appointment"}}, ("extraction", "confidence")),
    ],
)
def test_bad_fields_are_named_by_path(changes: dict[str, Any], path: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as raised:
        VoiceEvent.model_validate(body(**changes))

    assert [e["loc"] for e in raised.value.errors()] == [path]
