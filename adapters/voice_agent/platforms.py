"""Vapi, Retell and ElevenLabs pointed at the PRM directly: each platform's own signature checked, its
post-call payload mapped onto the native event (DESIGN.md 6.3), then the native path (dedupe, enqueue).

The clinic configures the platform's post-call analysis to return the native `extraction` object
(intent, confidence, patient, appointment: docs/webhooks/voice.md) as Vapi `analysis.structuredData`,
Retell `call_analysis.custom_analysis_data` or ElevenLabs `analysis.data_collection_results`. An
extraction that does not read as one is kept with the call (`platform_analysis`), not acted on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import ValidationError

from app.errors import ApiError
from app.ports.voice import CallExtraction

log = structlog.get_logger(__name__)

# Retell's and ElevenLabs' signed timestamps may be this far from now.
TOLERANCE_SECONDS = 300
COMPLETED = "call.completed"
# Vapi's HMAC credential sends its signature and timestamp in these headers (the credential's defaults).
VAPI_HMAC_SIGNATURE = "X-Signature"
VAPI_HMAC_TIMESTAMP = "X-Timestamp"
MILLISECOND_DIGITS = 13


class Unsigned(ApiError):
    """A delivery whose platform signature is missing or wrong: 401, nothing read further."""

    def __init__(self, platform: str, why: str) -> None:
        super().__init__(401, "invalid_signature", why)
        log.warning("voice.webhook.unauthorized", source=platform, reason=why)


def _configured(platform: str, secret: str | None) -> str:
    if not secret:
        raise Unsigned(platform, f"no {platform} webhook secret is configured")
    return secret


def check_vapi(*, secret: str | None, header: str | None) -> None:
    """Vapi sends the server URL's secret as X-Vapi-Secret (no timestamp: replays are de-duplicated)."""
    expected = _configured("vapi", secret)
    if not header or not hmac.compare_digest(header.encode(), expected.encode()):
        raise Unsigned("vapi", "X-Vapi-Secret does not match")


def check_vapi_hmac(
    *, secret: str | None, signature: str | None, timestamp: str | None, body: bytes, now: float
) -> None:
    """Vapi's HMAC credential (its defaults): X-Signature = hex HMAC-SHA256(secret, "<X-Timestamp>.<body>")."""
    key = _configured("vapi", secret)
    if not signature or not timestamp:
        raise Unsigned("vapi", f"{VAPI_HMAC_SIGNATURE} or {VAPI_HMAC_TIMESTAMP} is missing")
    # Vapi does not document the timestamp's unit: 13 digits and more are milliseconds.
    _fresh("vapi", timestamp, now, scale=1000 if len(timestamp) >= MILLISECOND_DIGITS else 1)
    if not _matches(key, f"{timestamp}.".encode() + body, signature.removeprefix("sha256=")):
        raise Unsigned("vapi", f"{VAPI_HMAC_SIGNATURE} does not match")


def _fresh(platform: str, timestamp: str, now: float, *, scale: int = 1) -> int:
    if not timestamp.isdigit() or len(timestamp) > 16:
        raise Unsigned(platform, "the signature's timestamp is not a number")
    if abs(now - int(timestamp) / scale) > TOLERANCE_SECONDS:
        raise Unsigned(platform, f"the signature's timestamp is more than {TOLERANCE_SECONDS} s from now")
    return int(timestamp)


def _parts(header: str | None) -> dict[str, str]:
    pairs = (part.strip().partition("=") for part in (header or "").split(","))
    return {key: value for key, _, value in pairs if key}


def _matches(secret: str, message: bytes, digest: str) -> bool:
    expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), digest.encode())


def check_retell(*, api_key: str | None, header: str | None, body: bytes, now: float) -> None:
    """X-Retell-Signature `v=<unix ms>,d=<hex HMAC-SHA256(api key, body + timestamp)>`."""
    secret = _configured("retell", api_key)
    parts = _parts(header)
    if "v" not in parts or "d" not in parts:
        raise Unsigned("retell", "X-Retell-Signature is missing or not v=...,d=...")
    _fresh("retell", parts["v"], now, scale=1000)
    if not _matches(secret, body + parts["v"].encode(), parts["d"]):
        raise Unsigned("retell", "X-Retell-Signature does not match")


def check_elevenlabs(*, secret: str | None, header: str | None, body: bytes, now: float) -> None:
    """ElevenLabs-Signature `t=<unix s>,v0=<hex HMAC-SHA256(secret, "<t>.<body>")>`."""
    key = _configured("elevenlabs", secret)
    parts = _parts(header)
    if "t" not in parts or "v0" not in parts:
        raise Unsigned("elevenlabs", "ElevenLabs-Signature is missing or not t=...,v0=...")
    _fresh("elevenlabs", parts["t"], now)
    if not _matches(key, f"{parts['t']}.".encode() + body, parts["v0"]):
        raise Unsigned("elevenlabs", "ElevenLabs-Signature does not match")


def _extraction(analysis: Any, summary: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(the native extraction, or None; what to keep when the analysis is not one)."""
    if not isinstance(analysis, dict) or "intent" not in analysis:
        return None, ({"platform_analysis": analysis} if analysis else {})
    candidate = {"confidence": 0.0, **analysis, "summary": analysis.get("summary") or summary}
    try:
        return CallExtraction.model_validate(candidate).model_dump(mode="json"), {}
    except ValidationError as exc:
        log.info("voice.mapping.extraction_unreadable", errors=len(exc.errors()))
        return None, {"platform_analysis": analysis}


def _obj(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (a platform's optional parts may be null)."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    """`value` if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def _seconds(value: Any) -> float:
    """A time offset in seconds; 0 for anything that is not a non-negative number."""
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 else 0.0
    )


def _instant(value: Any, *, scale: int = 1) -> str | None:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / scale, tz=UTC).isoformat()
    return value if isinstance(value, str) else None


def _turns(
    items: Any, *, speaker: str, text: str, start: str, end: str | None, scale: float = 1
) -> list[dict[str, Any]]:
    turns = []
    for item in _list(items):
        if not isinstance(item, dict) or not isinstance(item.get(text), str):
            continue
        begin = _seconds(item.get(start)) / scale
        finish = _seconds(item.get(end)) / scale if end else begin
        role = str(item.get(speaker) or "unknown")
        turns.append(
            {
                "speaker": "agent"
                if role in ("bot", "assistant", "agent")
                else "caller"
                if role == "user"
                else role,
                "start": begin,
                "end": max(finish, begin),
                "text": item[text],
            }
        )
    return turns


def from_vapi(payload: dict[str, Any]) -> dict[str, Any]:
    """A Vapi `end-of-call-report` server message as the native event (other message types: ignored)."""
    message = _obj(payload.get("message"))
    call = _obj(message.get("call"))
    artifact = _obj(message.get("artifact"))
    analysis = _obj(message.get("analysis"))
    customer = _obj(message.get("customer") or call.get("customer")).get("number")
    clinic = _obj(message.get("phoneNumber") or call.get("phoneNumber")).get("number")
    outbound = str(call.get("type", "")).startswith("outbound")
    summary = analysis.get("summary") or message.get("summary")
    extraction, kept = _extraction(analysis.get("structuredData"), summary)
    recording = message.get("recordingUrl") or artifact.get("recordingUrl")
    transcript = message.get("transcript") or artifact.get("transcript")
    return {
        "event_id": f"vapi-{call.get('id')}",
        "event": COMPLETED if message.get("type") == "end-of-call-report" else f"vapi.{message.get('type')}",
        "call": {
            "id": call.get("id"),
            "direction": "outbound" if outbound else "inbound",
            "from": clinic if outbound else customer,
            "to": customer if outbound else clinic,
            "started_at": message.get("startedAt") or call.get("startedAt"),
            "ended_at": message.get("endedAt") or call.get("endedAt"),
            "duration_seconds": message.get("durationSeconds"),
            "agent_id": call.get("assistantId"),
        },
        "recording": {"url": recording, "content_type": None} if recording else None,
        "transcript": {
            "text": transcript,
            "segments": _turns(
                artifact.get("messages"), speaker="role", text="message", start="secondsFromStart", end=None
            ),
        }
        if transcript
        else None,
        "extraction": extraction,
        "ended_reason": message.get("endedReason"),
        **kept,
    }


def from_retell(payload: dict[str, Any]) -> dict[str, Any]:
    """A Retell `call_analyzed` event as the native event (other events: ignored)."""
    call = _obj(payload.get("call"))
    analysis = _obj(call.get("call_analysis"))
    summary = analysis.get("call_summary")
    extraction, kept = _extraction(analysis.get("custom_analysis_data"), summary)
    duration = call.get("duration_ms")
    turns = []
    for turn in _list(call.get("transcript_object")):
        words = [w for w in _list(_obj(turn).get("words")) if isinstance(w, dict)]
        if words:
            turns.append({**turn, "start": words[0].get("start"), "end": words[-1].get("end")})
        elif isinstance(turn, dict):
            turns.append(turn)
    return {
        "event_id": f"retell-{call.get('call_id')}",
        "event": COMPLETED if payload.get("event") == "call_analyzed" else f"retell.{payload.get('event')}",
        "call": {
            "id": call.get("call_id"),
            "direction": call.get("direction") or "inbound",
            "from": call.get("from_number"),
            "to": call.get("to_number"),
            "started_at": _instant(call.get("start_timestamp"), scale=1000),
            "ended_at": _instant(call.get("end_timestamp"), scale=1000),
            "duration_seconds": duration / 1000 if isinstance(duration, int | float) else None,
            "agent_id": call.get("agent_id"),
        },
        "recording": {"url": call["recording_url"], "content_type": None}
        if call.get("recording_url")
        else None,
        "transcript": {
            "text": call.get("transcript"),
            "segments": _turns(turns, speaker="role", text="content", start="start", end="end"),
        }
        if call.get("transcript")
        else None,
        "extraction": extraction,
        "metadata": call.get("metadata"),
        **kept,
    }


def from_elevenlabs(payload: dict[str, Any]) -> dict[str, Any]:
    """An ElevenLabs `post_call_transcription` webhook as the native event (other types: ignored)."""
    data = _obj(payload.get("data"))
    meta = _obj(data.get("metadata"))
    phone = _obj(meta.get("phone_call"))
    analysis = _obj(data.get("analysis"))
    collected = analysis.get("data_collection_results")
    values = (
        {k: (v.get("value") if isinstance(v, dict) else v) for k, v in collected.items()}
        if isinstance(collected, dict)
        else None
    )
    for nested in ("patient", "appointment"):
        text = values.get(nested) if values else None
        if values and isinstance(text, str):
            with suppress(ValueError):
                values[nested] = json.loads(text)  # data collection answers strings
    extraction, kept = _extraction(values, analysis.get("transcript_summary"))
    turns = data.get("transcript") if isinstance(data.get("transcript"), list) else []
    outbound = phone.get("direction") == "outbound"
    start = meta.get("start_time_unix_secs")
    duration = meta.get("call_duration_secs")
    return {
        "event_id": f"elevenlabs-{data.get('conversation_id')}",
        "event": COMPLETED
        if payload.get("type") == "post_call_transcription"
        else f"elevenlabs.{payload.get('type')}",
        "call": {
            "id": data.get("conversation_id"),
            "direction": "outbound" if outbound else "inbound",
            "from": phone.get("agent_number") if outbound else phone.get("external_number"),
            "to": phone.get("external_number") if outbound else phone.get("agent_number"),
            "started_at": _instant(start),
            "ended_at": _instant(start + duration)
            if isinstance(start, int) and isinstance(duration, int)
            else None,
            "duration_seconds": duration,
            "agent_id": data.get("agent_id"),
        },
        "recording": None,
        "transcript": {
            "text": "\n".join(
                f"{t.get('role')}: {t.get('message')}"
                for t in turns
                if isinstance(t, dict) and t.get("message")
            ),
            "segments": _turns(turns, speaker="role", text="message", start="time_in_call_secs", end=None),
        }
        if turns
        else None,
        "extraction": extraction,
        **kept,
    }
