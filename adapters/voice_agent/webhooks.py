"""The voice agent's webhooks: the native contract `POST /webhooks/voice/events` (DESIGN.md 6.3) and
the platform adapters beside it. Verify -> parse -> de-duplicate -> enqueue -> acknowledge; no FHIR and
no PHI in logs here (app/calls stores the call)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import SecretStr
from starlette.datastructures import Headers

from adapters.voice_agent import platforms
from adapters.voice_agent.ingress import Ack, enqueue_event, parse_event, responses
from app.config import Settings
from app.errors import ApiError
from app.ingress import ELEVENLABS_SIGNATURE, RETELL_SIGNATURE, VAPI_HMAC, VAPI_SECRET, VOICE_SIGNATURE
from app.ingress.deps import AppSettings, Now, Queue, State
from app.ingress.signing import refusal
from app.ports.voice import VoiceEvent

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/webhooks/voice", tags=["webhooks"])


def _body_of(schema: dict[str, Any], *schemes: str) -> dict[str, object]:
    return {
        "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
        "security": [{scheme: []} for scheme in schemes],
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


@dataclass(frozen=True)
class Platform:
    """A voice platform pointed at the PRM: its route, its signature check and its payload mapper."""

    name: str
    summary: str
    unauthorized: str
    schemes: tuple[str, ...]
    # (settings, request headers, raw body, now as a unix time) -> None, or Unsigned (401).
    verify: Callable[[Settings, Headers, bytes, float], None]
    mapper: Callable[[dict[str, Any]], dict[str, Any]]


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value else None


def _verify_vapi(settings: Settings, headers: Headers, body: bytes, now: float) -> None:
    secret = _secret(settings.vapi_webhook_secret)
    if settings.vapi_webhook_auth == "hmac":
        platforms.check_vapi_hmac(
            secret=secret,
            signature=headers.get(platforms.VAPI_HMAC_SIGNATURE),
            timestamp=headers.get(platforms.VAPI_HMAC_TIMESTAMP),
            body=body,
            now=now,
        )
    else:
        # Older Vapi sends the secret as X-Vapi-Secret, newer as X-Vapi-Signature.
        header = headers.get("X-Vapi-Secret") or headers.get("X-Vapi-Signature")
        platforms.check_vapi(secret=secret, header=header)


def _verify_retell(settings: Settings, headers: Headers, body: bytes, now: float) -> None:
    platforms.check_retell(
        api_key=_secret(settings.retell_api_key), header=headers.get("X-Retell-Signature"), body=body, now=now
    )


def _verify_elevenlabs(settings: Settings, headers: Headers, body: bytes, now: float) -> None:
    platforms.check_elevenlabs(
        secret=_secret(settings.elevenlabs_webhook_secret),
        header=headers.get("ElevenLabs-Signature"),
        body=body,
        now=now,
    )


PLATFORMS = (
    Platform(
        name="vapi",
        summary="Vapi end-of-call report",
        unauthorized="Missing or wrong X-Vapi-Secret / X-Vapi-Signature (or, with the HMAC credential, "
        "X-Signature, or its X-Timestamp more than 300 s away): nothing stored",
        schemes=(VAPI_SECRET, VAPI_HMAC),
        verify=_verify_vapi,
        mapper=platforms.from_vapi,
    ),
    Platform(
        name="retell",
        summary="Retell call_analyzed event",
        unauthorized="Missing or wrong X-Retell-Signature, or its timestamp more than 300 s away",
        schemes=(RETELL_SIGNATURE,),
        verify=_verify_retell,
        mapper=platforms.from_retell,
    ),
    Platform(
        name="elevenlabs",
        summary="ElevenLabs post_call_transcription webhook",
        unauthorized="Missing or wrong ElevenLabs-Signature, or its timestamp more than 300 s away",
        schemes=(ELEVENLABS_SIGNATURE,),
        verify=_verify_elevenlabs,
        mapper=platforms.from_elevenlabs,
    ),
)


def _receiver(platform: Platform) -> Callable[..., Awaitable[JSONResponse]]:
    """The one route body of every platform: verify its signature, map its payload, the native path."""

    async def receive(
        request: Request, settings: AppSettings, state: State, queue: Queue, now: Now
    ) -> JSONResponse:
        body = await request.body()
        platform.verify(settings, request.headers, body, now.timestamp())
        try:
            payload = json.loads(body)
        except ValueError:
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": "Invalid JSON"}]
            ) from None
        if not isinstance(payload, dict):
            raise RequestValidationError(
                [{"type": "dict_type", "loc": ("body",), "msg": "must be an object"}]
            )
        native = platform.mapper(payload)
        if native["event"] != platforms.COMPLETED:
            log.info("voice.event.ignored", source=platform.name, kind=str(native["event"])[:64])
            return answer(Ack(status="ignored"))
        # Answered only once the event is queued (ElevenLabs does not retry: 2xx means it is durable here).
        return answer(await enqueue_event(state, queue, parse_event(native), source=platform.name))

    receive.__doc__ = f"{platform.summary}, mapped onto the native event; other messages ignored."
    return receive


for _platform in PLATFORMS:
    router.add_api_route(
        f"/{_platform.name}",
        _receiver(_platform),
        methods=["POST"],
        name=_platform.name,
        summary=_platform.summary,
        status_code=202,
        response_model=Ack,
        responses=responses(_platform.unauthorized),
        openapi_extra=_body_of(PLATFORM_BODY, *_platform.schemes),
    )
