"""Vapi, Retell and ElevenLabs: each one's signature scheme, and its recorded sample (tests/data/voice,
written from the platforms' public docs) mapped onto a valid native event."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from adapters.voice_agent import platforms
from app.errors import ApiError
from app.ports.voice import VoiceEvent, VoiceIntent

DATA = Path(__file__).parents[3] / "data" / "voice"
NOW = 1_795_500_200.0
BODY = b'{"event": "call_analyzed"}'


def sample(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())  # type: ignore[no-any-return]


def test_vapis_report_maps_onto_the_native_event() -> None:
    event = VoiceEvent.model_validate(platforms.from_vapi(sample("vapi-end-of-call-report.json")))

    assert (event.event_id, event.event, event.call.id) == (
        "vapi-5f1a2b3c-0000-4000-8000-000000000001",
        "call.completed",
        "5f1a2b3c-0000-4000-8000-000000000001",
    )
    assert (event.call.from_, event.call.to, event.call.duration_seconds) == (
        "+919844111173",
        "+918000000000",
        184,
    )
    assert event.recording is not None and event.recording.url.endswith("5f1a2b3c.wav")
    assert event.transcript is not None
    assert [(s.speaker, s.start) for s in event.transcript.segments] == [
        ("system", 0),
        ("agent", 0.5),
        ("caller", 3.0),
    ]
    assert event.extraction is not None
    assert (event.extraction.intent, event.extraction.confidence) == (VoiceIntent.BOOK_APPOINTMENT, 0.9)
    assert event.extraction.summary == "Caller asked to see a cardiologist on Wednesday morning."
    assert event.extras() == {"ended_reason": "customer-ended-call"}


def test_retells_call_analyzed_maps_onto_the_native_event() -> None:
    event = VoiceEvent.model_validate(platforms.from_retell(sample("retell-call-analyzed.json")))

    assert event.event_id == "retell-Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6"
    assert event.call.started_at.isoformat() == "2026-11-24T06:00:00+00:00"
    assert event.call.duration_seconds == 184
    assert event.transcript is not None
    assert [(s.speaker, s.start, s.end) for s in event.transcript.segments] == [
        ("agent", 0.4, 2.3),
        ("caller", 3.1, 5.6),
    ]
    assert event.extraction is not None and event.extraction.intent is VoiceIntent.CALLBACK
    assert event.extraction.summary == "The caller wants a callback about a bill."
    assert event.extras() == {"metadata": {"clinic_branch": "indiranagar"}}


def test_elevenlabs_transcription_maps_onto_the_native_event() -> None:
    event = VoiceEvent.model_validate(
        platforms.from_elevenlabs(sample("elevenlabs-post-call-transcription.json"))
    )

    assert (event.event_id, event.call.id) == (
        "elevenlabs-conv_01jsample0000000000000001",
        "conv_01jsample0000000000000001",
    )
    assert (event.call.from_, event.call.duration_seconds) == ("+919844111173", 42)
    assert event.recording is None
    assert event.transcript is not None and len(event.transcript.segments) == 3
    assert event.extraction is not None
    assert (event.extraction.intent, event.extraction.confidence) == (VoiceIntent.EMERGENCY, 0.97)
    assert event.extraction.patient is not None and event.extraction.patient.phone == "+919844111173"


def test_an_analysis_that_is_not_an_extraction_is_kept_not_acted_on() -> None:
    payload = sample("retell-call-analyzed.json")
    payload["call"]["call_analysis"]["custom_analysis_data"] = {"intent": "buy_a_car", "colour": "red"}

    native = platforms.from_retell(payload)

    assert native["extraction"] is None
    assert native["platform_analysis"] == {"intent": "buy_a_car", "colour": "red"}


def test_other_platform_events_are_not_completed_calls() -> None:
    vapi = sample("vapi-end-of-call-report.json")
    vapi["message"]["type"] = "status-update"
    retell = sample("retell-call-analyzed.json") | {"event": "call_started"}

    assert platforms.from_vapi(vapi)["event"] == "vapi.status-update"
    assert platforms.from_retell(retell)["event"] == "retell.call_started"


def retell_header(key: str, at_ms: int, body: bytes = BODY) -> str:
    digest = hmac.new(key.encode(), body + str(at_ms).encode(), hashlib.sha256).hexdigest()
    return f"v={at_ms},d={digest}"


def elevenlabs_header(secret: str, at: int, body: bytes = BODY) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v0={digest}"


def refused(check: Any, **kwargs: Any) -> str:
    with pytest.raises(ApiError) as raised:
        check(**kwargs)
    assert raised.value.status == 401
    return raised.value.message


def test_retell_signatures() -> None:
    good = retell_header("key_1", int(NOW * 1000))

    platforms.check_retell(api_key="key_1", header=good, body=BODY, now=NOW)
    assert refused(platforms.check_retell, api_key="key_2", header=good, body=BODY, now=NOW) == (
        "X-Retell-Signature does not match"
    )
    assert refused(platforms.check_retell, api_key="key_1", header=good, body=BODY + b" ", now=NOW) == (
        "X-Retell-Signature does not match"
    )
    stale = retell_header("key_1", int((NOW - 301) * 1000))
    assert "more than 300 s" in refused(
        platforms.check_retell, api_key="key_1", header=stale, body=BODY, now=NOW
    )
    assert "missing" in refused(platforms.check_retell, api_key="key_1", header=None, body=BODY, now=NOW)
    assert "configured" in refused(platforms.check_retell, api_key=None, header=good, body=BODY, now=NOW)


def test_elevenlabs_signatures() -> None:
    good = elevenlabs_header("wsec_1", int(NOW))

    platforms.check_elevenlabs(secret="wsec_1", header=good, body=BODY, now=NOW)
    assert refused(platforms.check_elevenlabs, secret="wsec_2", header=good, body=BODY, now=NOW) == (
        "ElevenLabs-Signature does not match"
    )
    stale = elevenlabs_header("wsec_1", int(NOW) - 400)
    assert "more than 300 s" in refused(
        platforms.check_elevenlabs, secret="wsec_1", header=stale, body=BODY, now=NOW
    )
    assert "missing" in refused(
        platforms.check_elevenlabs, secret="wsec_1", header="v0=abc", body=BODY, now=NOW
    )


def test_vapi_secret() -> None:
    platforms.check_vapi(secret="vapi-secret", header="vapi-secret")
    assert (
        refused(platforms.check_vapi, secret="vapi-secret", header="guess") == "X-Vapi-Secret does not match"
    )
    assert refused(platforms.check_vapi, secret="vapi-secret", header=None) == "X-Vapi-Secret does not match"
    assert "configured" in refused(platforms.check_vapi, secret=None, header="anything")


def test_vapi_hmac_credential_on_a_recorded_delivery() -> None:
    delivery = sample("vapi-hmac-delivery.json")
    body, at = delivery["body"].encode(), delivery["headers"]["x-timestamp"]
    signed = {"secret": delivery["secret"], "signature": delivery["headers"]["x-signature"], "timestamp": at}
    then = int(at) / 1000

    platforms.check_vapi_hmac(**signed, body=body, now=then + 299)
    platforms.check_vapi_hmac(**signed | {"signature": "sha256=" + signed["signature"]}, body=body, now=then)
    assert refused(platforms.check_vapi_hmac, **signed | {"secret": "other"}, body=body, now=then) == (
        "X-Signature does not match"
    )
    assert refused(platforms.check_vapi_hmac, **signed, body=body + b" ", now=then) == (
        "X-Signature does not match"
    )
    assert "more than 300 s" in refused(platforms.check_vapi_hmac, **signed, body=body, now=then + 301)
    assert "missing" in refused(
        platforms.check_vapi_hmac, **signed | {"timestamp": None}, body=body, now=then
    )
    assert "configured" in refused(
        platforms.check_vapi_hmac, **signed | {"secret": None}, body=body, now=then
    )


def test_vapi_hmac_timestamp_in_seconds() -> None:
    digest = hmac.new(b"k", f"{int(NOW)}.".encode() + BODY, hashlib.sha256).hexdigest()

    platforms.check_vapi_hmac(secret="k", signature=digest, timestamp=str(int(NOW)), body=BODY, now=NOW)
    assert "not a number" in refused(
        platforms.check_vapi_hmac, secret="k", signature=digest, timestamp="soon", body=BODY, now=NOW
    )


def test_odd_shapes_in_a_platform_payload_never_break_the_mapping() -> None:
    retell = sample("retell-call-analyzed.json")
    retell["call"]["transcript_object"] = [{"role": "agent", "content": "hi", "words": {"not": "a list"}},
                                           {"role": "user", "content": "yo", "start": "soon"}, "junk"]  # fmt: skip
    vapi = sample("vapi-end-of-call-report.json")
    vapi["message"]["artifact"]["messages"] = {"role": "bot"}
    vapi["message"]["customer"] = "not an object"
    eleven = sample("elevenlabs-post-call-transcription.json")
    eleven["data"]["transcript"] = [{"role": "agent", "message": 7}, None]

    mapped_retell = VoiceEvent.model_validate(platforms.from_retell(retell))
    assert mapped_retell.transcript is not None
    assert [(s.speaker, s.start) for s in mapped_retell.transcript.segments] == [
        ("agent", 0.0),
        ("caller", 0.0),
    ]
    assert platforms.from_vapi(vapi)["transcript"]["segments"] == []
    assert VoiceEvent.model_validate(platforms.from_elevenlabs(eleven)).transcript is not None
