"""The FHIR shape of a call: a prm-communication (channel and medium `voice`, the call id as identifier,
the voice-call extension with times, duration, language, agent, intent and the fields we do not know),
and DocumentReferences for its recording (a Binary, or the platform's URL) and transcript."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app.fhir.builders import instant
from app.fhir.canonical import EXT_VOICE_CALL, SID_VOICE_CALL
from app.fhir.client import Resource
from app.messaging.resources import RECEIVED, base_message
from app.ports.voice import Recording, Transcript, VoiceEvent
from app.vocabulary import ContactChannel

RECORDING_SUFFIX = "/recording"
TRANSCRIPT_SUFFIX = "/transcript"
# What the delivery-status extension says of a call the agent placed (the patient answered).
CALL_DELIVERED = "delivered"
SEGMENTS_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"


def call_search(call_id: str, suffix: str = "") -> dict[str, str]:
    """The identifier search of a call's resource (its Communication, or `/recording`, `/transcript`)."""
    return {"identifier": f"{SID_VOICE_CALL}|{call_id}{suffix}"}


def _identifier(value: str) -> list[dict[str, str]]:
    return [{"system": SID_VOICE_CALL, "value": value}]


def call_extension(event: VoiceEvent) -> Resource:
    """The voice-call extension: what a Communication has no element for."""
    call = event.call
    parts: list[Resource] = []
    parts.append({"url": "started", "valueDateTime": instant(call.started_at)})
    if call.ended_at:
        parts.append({"url": "ended", "valueDateTime": instant(call.ended_at)})
    if call.duration_seconds is not None:
        parts.append({"url": "duration", "valueDecimal": call.duration_seconds})
    if call.language:
        parts.append({"url": "language", "valueCode": call.language})
    if call.agent_id:
        parts.append({"url": "agent", "valueString": call.agent_id})
    if event.extraction:
        parts.append({"url": "intent", "valueCode": event.extraction.intent.value})
        parts.append({"url": "confidence", "valueDecimal": event.extraction.confidence})
    if extras := event.extras():
        parts.append({"url": "extra", "valueString": json.dumps(extras, ensure_ascii=False, sort_keys=True)})
    return {"url": EXT_VOICE_CALL, "extension": parts}


def call_communication(
    event: VoiceEvent, *, thread_id: str, patient_id: str | None, documents: Sequence[str]
) -> Resource:
    """The call as a message of the patient's voice thread; its text is the platform's summary."""
    inbound = event.call.direction == "inbound"
    message = base_message(
        channel=ContactChannel.VOICE,
        thread_id=thread_id,
        delivery=RECEIVED if inbound else CALL_DELIVERED,
        status="completed",
    )
    message["extension"].append(call_extension(event))
    message["identifier"] = _identifier(event.call.id)
    message["received" if inbound else "sent"] = instant(event.call.started_at)
    if patient_id:
        patient = {"reference": f"Patient/{patient_id}"}
        message["subject"] = patient
        message["sender" if inbound else "recipient"] = patient if inbound else [patient]
    payload: list[Resource] = []
    if event.extraction and event.extraction.summary:
        payload.append({"contentString": event.extraction.summary})
    payload += [{"contentReference": {"reference": ref}} for ref in documents]
    if payload:
        message["payload"] = payload
    return message


def _document(
    call_id: str, suffix: str, *, description: str, patient_id: str | None, at: datetime
) -> Resource:
    document: Resource = {
        "resourceType": "DocumentReference",
        "identifier": _identifier(call_id + suffix),
        "status": "current",
        "type": {"text": description},
        "date": instant(at),
        "description": description,
    }
    if patient_id:
        document["subject"] = {"reference": f"Patient/{patient_id}"}
    return document


def recording_document(
    event: VoiceEvent,
    recording: Recording,
    *,
    binary: str | None,
    size: int | None,
    why_not: str | None,
    patient_id: str | None,
) -> Resource:
    """The recording: stored in `binary` when downloaded, else the platform's URL (and why)."""
    description = "Call recording" + (f" (not downloaded: {why_not})" if why_not else "")
    document = _document(
        event.call.id,
        RECORDING_SUFFIX,
        description=description,
        patient_id=patient_id,
        at=event.call.started_at,
    )
    attachment: Resource = {"url": binary or recording.url, "title": "call recording"}
    if recording.content_type:
        attachment["contentType"] = recording.content_type
    if size is not None:
        attachment["size"] = size
    document["content"] = [{"attachment": attachment}]
    return document


def transcript_document(event: VoiceEvent, transcript: Transcript, *, patient_id: str | None) -> Resource:
    """The transcript: its text, and its turns (speaker, start, end, text) as JSON."""
    document = _document(
        event.call.id,
        TRANSCRIPT_SUFFIX,
        description="Call transcript (by the voice platform)",
        patient_id=patient_id,
        at=event.call.started_at,
    )
    document["docStatus"] = "final"
    content = []
    if transcript.text:
        content.append({"attachment": _inline(transcript.text.encode(), TEXT_TYPE, "transcript")})
    turns = [s.model_dump(mode="json") for s in transcript.segments]
    content.append(
        {"attachment": _inline(json.dumps(turns, ensure_ascii=False).encode(), SEGMENTS_TYPE, "segments")}
    )
    document["content"] = content
    return document


def _inline(data: bytes, content_type: str, title: str) -> dict[str, Any]:
    return {
        "contentType": content_type,
        "data": base64.b64encode(data).decode("ascii"),
        "size": len(data),
        "hash": base64.b64encode(hashlib.sha1(data).digest()).decode("ascii"),  # FHIR: SHA-1
        "title": title,
    }


def recording_binary(call_id: str, data: bytes, content_type: str, patient_id: str | None) -> Resource:
    """The downloaded audio, at an id derived from the call (a retry rewrites the same Binary)."""
    binary: Resource = {
        "resourceType": "Binary",
        "id": "call-" + hashlib.sha256(call_id.encode()).hexdigest()[:40],
        "contentType": content_type,
        "data": base64.b64encode(data).decode("ascii"),
    }
    if patient_id:
        binary["securityContext"] = {"reference": f"Patient/{patient_id}"}
    return binary


def outcome_of(call: Resource) -> list[str]:
    """What the call led to (Communication.about): empty until its action is done."""
    return [a["reference"] for a in call.get("about", []) if a.get("reference")]
