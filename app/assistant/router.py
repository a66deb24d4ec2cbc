"""HTTP API of the assistant (DESIGN.md section 6.1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import AwareDatetime, TypeAdapter, ValidationError

from app.assistant import service
from app.assistant.schemas import Confirmation, ConfirmIn, InterpretIn, Plan
from app.assistant.service import Assistant
from app.deps import services
from app.errors import Forbidden, Invalid, NotFound, error_responses
from app.inputs import PathId
from app.security import StaffUser

router = APIRouter(prefix="/api/v1/assistant", tags=["assistant"])
_instant = TypeAdapter(AwareDatetime)


async def _assistant(request: Request) -> Assistant:
    return services(request).assistant


AssistantDep = Annotated[Assistant, Depends(_assistant)]


@router.post("/interpret", response_model=Plan, responses=error_responses(401, 403, 422, 502, 503))
async def interpret(body: InterpretIn, assistant: AssistantDep, principal: StaffUser) -> Plan:
    """Read a staff instruction and return a previewed plan; nothing is written."""
    return await service.interpret(assistant, text=body.text, now=body.now, principal=principal)


@router.post(
    "/interpret-audio",
    response_model=Plan,
    responses=error_responses(401, 403, 413, 415, 422, 501, 502, 503),
)
async def interpret_audio(
    assistant: AssistantDep,
    principal: StaffUser,
    audio: UploadFile = File(description="A spoken instruction (WAV 16-bit mono works offline)"),
    now: str | None = Form(default=None, description="ISO-8601 instant with offset; default: server time"),
) -> Plan:
    """Transcribe a spoken instruction, then interpret it; the plan carries the transcript."""
    said_at = None
    if now:
        try:
            said_at = _instant.validate_python(now)
        except ValidationError:
            raise Invalid("now", "must be an ISO-8601 date-time with an offset") from None
    limit = assistant.settings.max_audio_bytes
    content = await audio.read(limit + 1)
    if len(content) > limit:
        raise service.audio_too_large(limit)
    text = await service.transcribe(assistant, audio=content, content_type=audio.content_type or "")
    return await service.interpret(assistant, text=text, now=said_at, principal=principal, transcript=text)


@router.post(
    "/plans/{plan_id}/confirm",
    response_model=Confirmation,
    responses=error_responses(401, 403, 404, 409, 410, 422, 503),
)
async def confirm(
    plan_id: PathId, assistant: AssistantDep, principal: StaffUser, body: ConfirmIn | None = None
) -> Confirmation:
    """Execute a plan (optionally with corrected form fields); once only, by its author, before it expires."""
    return await service.confirm(
        assistant, plan_id=plan_id, corrections=body.form if body else {}, principal=principal
    )


@router.delete("/session", status_code=204, responses=error_responses(401, 403, 503))
async def new_session(assistant: AssistantDep, principal: StaffUser) -> None:
    """Start a new assistant session: later instructions no longer refer to earlier ones."""
    await assistant.sessions.forget(principal.user)


@router.get("/plans/{plan_id}", response_model=Plan, responses=error_responses(401, 403, 404))
async def get_plan(plan_id: PathId, assistant: AssistantDep, principal: StaffUser) -> Plan:
    """A plan as it was previewed (its author only)."""
    stored = await assistant.plans.load(plan_id)
    if stored is None:
        raise NotFound("Plan", plan_id)
    if stored.owner != principal.user:
        raise Forbidden("Only the user who asked for this plan may see it")
    return stored.plan
