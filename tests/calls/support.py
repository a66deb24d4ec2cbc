"""Helpers for the voice tests: native events, signing like a platform, running the job, reading back."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from app.fhir.canonical import SID_VOICE_CALL
from app.fhir.client import FhirClient
from app.ingress.signing import sign
from app.ports.jobs import Job
from app.services import Services
from tests.conftest import VOICE_WEBHOOK_SECRET
from tests.factories import unique
from workers.registry import JOBS

KOLKATA = ZoneInfo("Asia/Kolkata")
EVENTS_PATH = "/webhooks/voice/events"
CLINIC_NUMBER = "+918000000000"


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    """A local time tomorrow (the test practitioners work 10:00-11:00 every day)."""
    day = datetime.now(KOLKATA).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=KOLKATA)


def event(
    *,
    caller: str,
    intent: str | None = "book_appointment",
    confidence: float = 0.95,
    appointment: dict[str, Any] | None = None,
    patient: dict[str, Any] | None = None,
    summary: str | None = "The caller wants an appointment.",
    recording: bool = True,
    transcript: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """A native call.completed event from `caller` (fresh event and call ids)."""
    started = datetime.now(KOLKATA) - timedelta(minutes=5)
    body: dict[str, Any] = {
        "event_id": unique("evt_"),
        "event": "call.completed",
        "call": {
            "id": unique("call_"),
            "direction": "inbound",
            "from": caller,
            "to": CLINIC_NUMBER,
            "started_at": started.isoformat(),
            "ended_at": (started + timedelta(seconds=184)).isoformat(),
            "duration_seconds": 184,
            "language": "en-IN",
            "agent_id": "agent_reception_en",
        },
        "recording": {
            "url": f"https://recordings.example/{unique()}.mp3",
            "content_type": "audio/mpeg",
            "duration_seconds": 184,
        }
        if recording
        else None,
        "transcript": {
            "text": "Agent: Sunrise Clinic, how can I help? Caller: I need to see a doctor.",
            "segments": [
                {"speaker": "agent", "start": 0.0, "end": 3.2, "text": "Sunrise Clinic, how can I help?"},
                {"speaker": "caller", "start": 3.4, "end": 6.0, "text": "I need to see a doctor."},
            ],
        }
        if transcript
        else None,
        "extraction": {
            "intent": intent,
            "confidence": confidence,
            "summary": summary,
            "patient": patient or {"name": None, "phone": caller, "dob": None, "gender": None},
            "appointment": appointment,
        }
        if intent
        else None,
        **extra,
    }
    return body


def signed(
    body: dict[str, Any] | bytes, *, secret: str = VOICE_WEBHOOK_SECRET, at: float | None = None
) -> tuple[bytes, dict[str, str]]:
    """The raw body and the X-PRM headers a platform sends."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    timestamp = str(int(at if at is not None else time.time()))
    return raw, {
        "X-PRM-Timestamp": timestamp,
        "X-PRM-Signature": sign(secret, timestamp, raw),
        "Content-Type": "application/json",
    }


async def post_event(api: httpx.AsyncClient, body: dict[str, Any] | bytes, **signing: Any) -> httpx.Response:
    """POST a signed native event."""
    raw, headers = signed(body, **signing)
    return await api.post(EVENTS_PATH, content=raw, headers=headers)


async def process(services: Services, body: dict[str, Any]) -> Any:
    """Run the PROCESS_VOICE_EVENT job on an event, as a worker would."""
    return await JOBS[Job.PROCESS_VOICE_EVENT](services, {"event": body})


async def keyed(fhir: FhirClient, resource_type: str, call_id: str, suffix: str = "") -> list[dict[str, Any]]:
    """The resources of a type keyed on the call id."""
    return await fhir.search(resource_type, {"identifier": f"{SID_VOICE_CALL}|{call_id}{suffix}"})
