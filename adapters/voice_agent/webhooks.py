"""The voice agent's webhooks: the native contract `POST /webhooks/voice/events` (DESIGN.md 6.3) and
the platform adapters beside it. Verify -> parse -> de-duplicate -> enqueue -> acknowledge; no FHIR and
no PHI in logs here (app/calls stores the call)."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from adapters.voice_agent.ingress import Ack, enqueue_event, parse_event, responses
from app.errors import ApiError
from app.ingress import VOICE_SIGNATURE
from app.ingress.deps import AppSettings, Now, Queue, State
from app.ingress.signing import refusal
from app.ports.voice import VoiceEvent

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/webhooks/voice", tags=["webhooks"])


def _body_of(model: type[VoiceEvent]) -> dict[str, object]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        },
        "security": [{VOICE_SIGNATURE: []}],
    }


def answer(ack: Ack) -> JSONResponse:
    """202 for accepted or ignored, 200 for a duplicate."""
    return JSONResponse(ack.model_dump(), status_code=200 if ack.status == "duplicate" else 202)


@router.post(
    "/events",
    summary="A call ended (the native post-call event)",
    status_code=202,
    response_model=Ack,
    responses=responses("Bad X-PRM-Signature or X-PRM-Timestamp more than 300 s away: nothing stored"),
    openapi_extra=_body_of(VoiceEvent),
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
