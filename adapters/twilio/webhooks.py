"""Twilio's webhooks: inbound WhatsApp/SMS messages and delivery status callbacks.

Verify -> parse -> de-duplicate -> enqueue -> acknowledge (docs/conventions.md, "A webhook"). The
signature is Twilio's `X-Twilio-Signature` checked by the SDK's RequestValidator over the public URL
(`PRM_PUBLIC_BASE_URL` + path, so proxies do not break it) and every form parameter received. No FHIR
and no PHI in logs here: the jobs store what was accepted.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl

import structlog
from fastapi import APIRouter, Header, Request, Response
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import RequestValidator

from adapters.twilio.schemas import TwilioMessageForm, TwilioStatusForm, parse_message, parse_status
from app.errors import ApiError, ErrorBody
from app.ingress import TWILIO_SIGNATURE, accept
from app.ingress.deps import AppSettings, Now, Queue, State
from app.ports.jobs import Job

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/webhooks/whatsapp/twilio", tags=["webhooks"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
FORM = "application/x-www-form-urlencoded"
# Twilio retries a delivery for hours at most; a replay within a week is still recognised.
DEDUPE_TTL_SECONDS = 7 * 24 * 3600
# Twilio's forms carry a few dozen fields; more is not Twilio.
MAX_FIELDS = 200
# Form parameters, repeated names kept (the signature covers every value).
Params = ImmutableMultiDict[str, str]


def _form_body(model: type[TwilioMessageForm | TwilioStatusForm]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {
        "requestBody": {"required": True, "content": {FORM: {"schema": schema}}},
        "security": [{TWILIO_SIGNATURE: []}],
    }


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Accepted, or a duplicate: empty TwiML",
        "content": {"text/xml": {"schema": {"type": "string"}}},
    },
    400: {"model": ErrorBody, "description": "The body is not a readable form"},
    403: {"model": ErrorBody, "description": "Missing or wrong X-Twilio-Signature: nothing stored"},
    422: {"model": ErrorBody, "description": "MessageSid (or the sender) missing or unreadable"},
    503: {"model": ErrorBody, "description": "Queue or state store down: retry (Retry-After)"},
}


async def _signed_form(request: Request, settings: AppSettings, signature: str | None) -> Params:
    """The form parameters, once the signature over them is Twilio's; 403 otherwise."""
    params = await _form(request)
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    url = settings.public_base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    if not token or not signature or not RequestValidator(token).validate(url, params, signature):
        log.warning("twilio.webhook.unauthorized", path=request.url.path, signed=bool(signature))
        raise ApiError(403, "invalid_signature", "Missing or wrong X-Twilio-Signature")
    return params


async def _form(request: Request) -> Params:
    """The url-encoded body as Twilio sent it (another content type has no parameters to sign)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM:
        return Params()
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        return Params(parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FIELDS))
    except ValueError as exc:
        raise ApiError(400, "bad_request", f"Unreadable form: {exc}") from None


def _twiml() -> Response:
    return Response(content=EMPTY_TWIML, media_type="text/xml")


@router.post(
    "",
    summary="Inbound WhatsApp or SMS message (Twilio)",
    response_class=Response,
    responses=_RESPONSES,
    openapi_extra=_form_body(TwilioMessageForm),
)
async def inbound_message(
    request: Request,
    settings: AppSettings,
    state: State,
    queue: Queue,
    now: Now,
    x_twilio_signature: Annotated[str | None, Header()] = None,
) -> Response:
    """A patient's message: verified, de-duplicated on MessageSid and queued; stored by the worker."""
    form = await _signed_form(request, settings, x_twilio_signature)
    message = parse_message(form, region=settings.default_phone_region, received_at=now)
    queued = await accept(
        state,
        queue,
        key=f"twilio:message:{message.provider_id}",
        ttl_seconds=DEDUPE_TTL_SECONDS,
        job=Job.RECEIVE_MESSAGE,
        payload=message.to_payload(),
        job_id=f"inbound-{message.provider_id}",
    )
    log.info(
        "twilio.message.received",
        sid=message.provider_id,
        channel=message.channel.value,
        media=len(message.media),
        duplicate=not queued,
    )
    return _twiml()


@router.post(
    "/status",
    summary="Delivery status callback (Twilio)",
    response_class=Response,
    responses=_RESPONSES,
    openapi_extra=_form_body(TwilioStatusForm),
)
async def status_callback(
    request: Request,
    settings: AppSettings,
    state: State,
    queue: Queue,
    now: Now,
    x_twilio_signature: Annotated[str | None, Header()] = None,
) -> Response:
    """News about a message the clinic sent: de-duplicated on MessageSid + status, queued."""
    form = await _signed_form(request, settings, x_twilio_signature)
    report = parse_status(form, reported_at=now)
    if report is None:
        log.info("twilio.status.ignored", status=(form.get("MessageStatus") or "")[:32])
        return _twiml()
    queued = await accept(
        state,
        queue,
        key=f"twilio:status:{report.provider_id}:{report.status.value}",
        ttl_seconds=DEDUPE_TTL_SECONDS,
        job=Job.RECORD_DELIVERY_STATUS,
        payload=report.to_payload(),
        job_id=f"delivery-{report.provider_id}-{report.status.value}",
    )
    log.info(
        "twilio.status.received",
        sid=report.provider_id,
        status=report.status.value,
        error_code=report.error_code,
        duplicate=not queued,
    )
    return _twiml()
