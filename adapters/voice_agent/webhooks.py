"""The voice agent's webhooks: the native contract `POST /webhooks/voice/events` (DESIGN.md 6.3) and
the platform adapters beside it. Verify -> parse -> de-duplicate -> enqueue -> acknowledge; no FHIR and
no PHI in logs here (app/calls stores the call)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from adapters.voice_agent import platforms
from adapters.voice_agent.ingress import Ack, enqueue_event, parse_event, responses
from app.errors import ApiError
from app.ingress import ELEVENLABS_SIGNATURE, RETELL_SIGNATURE, VAPI_SECRET, VOICE_SIGNATURE
from app.ingress.deps import AppSettings, Now, Queue, State
from app.ingress.signing import refusal
from app.ports.voice import VoiceEvent

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/webhooks/voice", tags=["webhooks"])


def _body_of(schema: dict[str, Any], scheme: str) -> dict[str, object]:
    return {
        "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
        "security": [{scheme: []}],
    }


# A platform's own payload: an object (its shape is the platform's, documented in docs/webhooks/voice.md).
PLATFORM_BODY: dict[str, Any] = {"type": "object", "additionalProperties": True}


def answer(ack: Ack) -> JSONResponse:
    """202 for accepted or ignored, 200 for a duplicate."""
    return JSONResponse(ack.model_dump(), status_code=200 if ack.status == "duplicate" else 202)


@router.post(
    "/events",
    summary="A call ended (the native post-call event)",
    status_code=202,
    response_model=Ack,
    responses=responses("Bad X-PRM-Signature or X-PRM-Timestamp more than 300 s away: nothing stored"),
    openapi_extra=_body_of(VoiceEvent.model_json_schema(), VOICE_SIGNATURE),
)
async def call_event(
    request: Request,
    settings: AppSettings,
    state: State,
    queue: Queue,
    now: Now,
    x_prm_timestamp: Annotated[str | None, Header()] = None,
    x_prm_signature: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Verified (HMAC over timestamp and raw body), de-duplicated on event_id, queued; 202."""
    body = await request.body()
    previous = settings.voice_webhook_previous_secret
    why = refusal(
        secrets=[
            settings.voice_webhook_secret.get_secret_value(),
            previous.get_secret_value() if previous else "",
        ],
        timestamp=x_prm_timestamp,
        signature=x_prm_signature,
        body=body,
        now=now.timestamp(),
        tolerance_seconds=settings.voice_webhook_tolerance_seconds,
    )
    if why is not None:
        log.warning("voice.webhook.unauthorized", source="native", reason=why)
        raise ApiError(401, "invalid_signature", why)
    return answer(await enqueue_event(state, queue, parse_event(body), source="native"))


async def _platform_event(
    request: Request,
    state: State,
    queue: Queue,
    *,
    source: str,
    mapper: Callable[[dict[str, Any]], dict[str, Any]],
) -> JSONResponse:
    """A verified platform payload mapped onto the native event, then the native path."""
    try:
        payload = json.loads(await request.body())
    except ValueError:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": "Invalid JSON"}]
        ) from None
    if not isinstance(payload, dict):
        raise RequestValidationError([{"type": "dict_type", "loc": ("body",), "msg": "must be an object"}])
    native = mapper(payload)
    if native["event"] != platforms.COMPLETED:
        log.info("voice.event.ignored", source=source, kind=str(native["event"])[:64])
        return answer(Ack(status="ignored"))
    # Answered only once the event is queued (ElevenLabs does not retry: 2xx means it is durable here).
    return answer(await enqueue_event(state, queue, parse_event(native), source=source))


@router.post(
    "/vapi",
    summary="Vapi end-of-call report",
    status_code=202,
    response_model=Ack,
    responses=responses("Missing or wrong X-Vapi-Secret: nothing stored"),
    openapi_extra=_body_of(PLATFORM_BODY, VAPI_SECRET),
)
async def vapi(
    request: Request,
    settings: AppSettings,
    state: State,
    queue: Queue,
    x_vapi_secret: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Vapi's `end-of-call-report` server message, mapped onto the native event; other messages ignored."""
    secret = settings.vapi_webhook_secret
    platforms.check_vapi(secret=secret.get_secret_value() if secret else None, header=x_vapi_secret)
    return await _platform_event(request, state, queue, source="vapi", mapper=platforms.from_vapi)


@router.post(
    "/retell",
    summary="Retell call_analyzed event",
    status_code=202,
    response_model=Ack,
    responses=responses("Missing or wrong X-Retell-Signature, or its timestamp more than 300 s away"),
    openapi_extra=_body_of(PLATFORM_BODY, RETELL_SIGNATURE),
)
async def retell(
    request: Request,
    settings: AppSettings,
    state: State,
    queue: Queue,
    now: Now,
    x_retell_signature: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Retell's `call_analyzed` event, mapped onto the native event; other events ignored."""
    key = settings.retell_api_key
    platforms.check_retell(
        api_key=key.get_secret_value() if key else None,
        header=x_retell_signature,
        body=await request.body(),
        now=now.timestamp(),
    )
    return await _platform_event(request, state, queue, source="retell", mapper=platforms.from_retell)


@router.post(
    "/elevenlabs",
    summary="ElevenLabs post_call_transcription webhook",
    status_code=202,
    response_model=Ack,
    responses=responses("Missing or wrong ElevenLabs-Signature, or its timestamp more than 300 s away"),
    openapi_extra=_body_of(PLATFORM_BODY, ELEVENLABS_SIGNATURE),
)
async def elevenlabs(
    request: Request,
    settings: AppSettings,
    state: State,
    queue: Queue,
    now: Now,
    elevenlabs_signature: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """ElevenLabs' `post_call_transcription`, mapped onto the native event; acknowledged once queued."""
    secret = settings.elevenlabs_webhook_secret
    platforms.check_elevenlabs(
        secret=secret.get_secret_value() if secret else None,
        header=elevenlabs_signature,
        body=await request.body(),
        now=now.timestamp(),
    )
    return await _platform_event(request, state, queue, source="elevenlabs", mapper=platforms.from_elevenlabs)
