"""What every voice webhook does once a delivery is verified: parse the native event (422 naming the
field path), de-duplicate on its event_id, queue PROCESS_VOICE_EVENT (503 when the queue is down)."""

from __future__ import annotations

from typing import Any, Literal

import structlog
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from app.errors import ErrorBody
from app.ingress import accept
from app.ports.jobs import Job, JobQueue
from app.ports.state import StateStore
from app.ports.voice import CALL_COMPLETED, VoiceEvent

log = structlog.get_logger(__name__)

# Platforms retry for hours at most; a replay within a week is still recognised.
DEDUPE_TTL_SECONDS = 7 * 24 * 3600


class Ack(BaseModel):
    """The answer to a delivery: accepted (queued), duplicate (queued before) or ignored (not a call)."""

    status: Literal["accepted", "duplicate", "ignored"]


def responses(unauthorized: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answers of a voice webhook."""
    return {
        200: {"model": Ack, "description": "An event_id already accepted (`duplicate`): nothing queued"},
        202: {"model": Ack, "description": "Queued (`accepted`), or not a completed call (`ignored`)"},
        401: {"model": ErrorBody, "description": unauthorized},
        422: {"model": ErrorBody, "description": "Malformed body: `fields` names each path"},
        503: {"model": ErrorBody, "description": "Queue or state store down: retry (Retry-After)"},
    }


def parse_event(data: bytes | dict[str, Any]) -> VoiceEvent:
    """The native event in a body (raw JSON or already mapped); 422 naming each bad field's path."""
    try:
        if isinstance(data, bytes):
            return VoiceEvent.model_validate_json(data)
        return VoiceEvent.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [
                {**err, "loc": ("body", *err["loc"])}
                for err in exc.errors(include_url=False, include_input=False)
            ]
        ) from None


async def enqueue_event(state: StateStore, queue: JobQueue, event: VoiceEvent, *, source: str) -> Ack:
    """Queue the event once per event_id; the job carries the event (it exists nowhere else yet)."""
    if event.event != CALL_COMPLETED:
        log.info("voice.event.ignored", event_id=event.event_id, kind=event.event, source=source)
        return Ack(status="ignored")
    queued = await accept(
        state,
        queue,
        key=f"voice:event:{event.event_id}",
        ttl_seconds=DEDUPE_TTL_SECONDS,
        job=Job.PROCESS_VOICE_EVENT,
        payload={"event": event.to_payload()},
        job_id=f"voice-{event.event_id}",
    )
    log.info(
        "voice.event.received",
        event_id=event.event_id,
        call_id=event.call.id,
        source=source,
        duplicate=not queued,
    )
    return Ack(status="accepted" if queued else "duplicate")
