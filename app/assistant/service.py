"""Assistant use cases: interpret an instruction into a previewed plan (writing nothing), and
confirm a plan (once, by the user who asked, before it expires)."""

from __future__ import annotations

import io
import time as clock
import uuid
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from app.assistant import intents, plan_steps, summary
from app.assistant.execute import REQUIRED, Execution, merged_form
from app.assistant.memory import (
    Memory,
    Sessions,
    after_confirmation,
    after_plan,
    recalled,
    refers_to_appointment,
)
from app.assistant.schemas import Confirmation, Plan
from app.assistant.store import PlanStore, StoredPlan, is_expired
from app.config import Settings
from app.directory.index import DirectoryCache
from app.directory.resources import display_name
from app.errors import (
    Conflict,
    Expired,
    Forbidden,
    Invalid,
    NotFound,
    NotSupported,
    TooLarge,
    UnsupportedMedia,
    UpstreamFailed,
)
from app.fhir.builders import Actor, AgentKind
from app.fhir.client import FhirClient
from app.inputs import control_character
from app.language.specialties import SPECIALTIES
from app.ports.clock import Clock
from app.ports.jobs import JobQueue
from app.ports.nlu import (
    ExtractedEntities,
    Extraction,
    ExtractionContext,
    ExtractionFailed,
    Intent,
    IntentExtractor,
)
from app.ports.speech import Transcriber, TranscriptionFailed, TranscriptionUnavailable
from app.ports.state import StateStore
from app.security import Principal
from app.understanding.draft import Draft, normalise
from app.understanding.schemas import Entities, FormField

log = structlog.get_logger(__name__)

ASSISTANT = Actor(kind=AgentKind.ASSISTANT)
# Patient names offered to the extractor for fuzzy matching are re-read after this long.
PATIENT_NAMES_TTL_SECONDS = 60.0
PATIENT_NAMES_LIMIT = 1000


@dataclass
class Assistant:
    """What the assistant's use cases run on (built in the composition root)."""

    fhir: FhirClient
    directory: DirectoryCache
    extractor: IntentExtractor
    transcriber: Transcriber | None
    plans: PlanStore
    sessions: Sessions
    state: StateStore
    queue: JobQueue
    settings: Settings
    clock: Clock
    _patient_names: tuple[float, tuple[str, ...]] = (0.0, ())

    @property
    def tz(self) -> ZoneInfo:
        """The clinic's time zone."""
        return ZoneInfo(self.settings.default_timezone)

    async def patient_names(self) -> tuple[str, ...]:
        """Names of recently active patients, for fuzzy matching in the extractor."""
        loaded_at, names = self._patient_names
        if clock.monotonic() - loaded_at > PATIENT_NAMES_TTL_SECONDS:
            patients = await self.fhir.search(
                "Patient",
                {"_elements": "name", "_sort": "-_lastUpdated", "active:not": "false"},
                limit=PATIENT_NAMES_LIMIT,
            )
            # A name others wrote with control characters would reach the extractor's prompt as is.
            named = {display_name(p) for p in patients if p.get("name")}
            names = tuple(sorted(n for n in named if n and control_character(n) is None))
            self._patient_names = (clock.monotonic(), names)
        return names

    async def hints(self) -> list[str]:
        """Words a speech engine should expect: doctors, specialties, patients."""
        index = await self.directory.get()
        doctors = sorted({r.practitioner_name for r in index.roles if r.active})
        return [*doctors, *(s.display for s in SPECIALTIES), *await self.patient_names()]


def _check_text(text: str, settings: Settings) -> str:
    stripped = text.strip()
    if not stripped:
        raise Invalid("text", "is empty")
    if len(stripped) > settings.max_instruction_chars:
        raise Invalid("text", f"is longer than {settings.max_instruction_chars} characters")
    return stripped


async def interpret(
    assistant: Assistant,
    *,
    text: str,
    now: datetime | None,
    principal: Principal,
    transcript: str | None = None,
) -> Plan:
    """Turn an instruction into a plan: the extractor reads it, code resolves it; nothing is written."""
    instruction = _check_text(text, assistant.settings)
    real_now = assistant.clock.now().astimezone(assistant.tz)
    said_at = (now or real_now).astimezone(assistant.tz)
    index = await assistant.directory.get()
    context = ExtractionContext(
        now=said_at,
        practitioner_names=tuple(sorted({r.practitioner_name for r in index.roles if r.active})),
        patient_names=await assistant.patient_names(),
        specialty_codes=tuple(s.code for s in SPECIALTIES),
    )
    try:
        extraction = await assistant.extractor.extract(instruction, context=context)
    except ExtractionFailed as exc:
        raise UpstreamFailed(
            f"The language model could not read the instruction: {exc}", code="extraction_failed"
        ) from None
    memory = await assistant.sessions.recall(principal.user, now=real_now)
    steps, notes = plan_steps.compose(extraction.steps())
    ctx = intents.Context(
        fhir=assistant.fhir,
        index=index,
        region=assistant.settings.default_phone_region,
        real_now=max(real_now, said_at),
        user=principal.user,
        timezone=assistant.settings.default_timezone,
    )
    drafts = [
        await _draft(assistant, step, text=instruction, now=said_at, memory=memory, ctx=ctx) for step in steps
    ]
    for draft in drafts:
        summary.field_confidence(draft, extractor=extraction.confidence)
    plan = _plan(
        drafts,
        notes=notes,
        transcript=transcript,
        expires_at=real_now + timedelta(seconds=assistant.settings.plan_ttl_seconds),
    )
    await assistant.plans.save(
        StoredPlan(plan=plan, owner=principal.user, text=instruction),
        ttl_seconds=assistant.settings.plan_ttl_seconds,
    )
    await assistant.sessions.remember(principal.user, after_plan(plan, earlier=memory, at=real_now))
    log.info(
        "assistant.plan.created",
        plan_id=plan.plan_id,
        intent=plan.intent.value,
        steps=len(plan.steps),
        executable=plan.executable,
        missing=len(plan.missing),
        clarifications=len(plan.clarifications),
    )
    return plan


async def _draft(
    assistant: Assistant,
    step: plan_steps.Step,
    *,
    text: str,
    now: datetime,
    memory: Memory | None,
    ctx: intents.Context,
) -> Draft:
    """One step normalised, completed from the session where the text refers back, and resolved."""
    entities = step.entities.model_copy()
    recalled_notes = recalled(memory, intent=step.intent, text=text, entities=entities)

    def draft_of(intent: Intent, found: ExtractedEntities) -> Draft:
        draft = normalise(
            Extraction(intent=intent, entities=found),
            text=text,
            now=now,
            tz=assistant.tz,
            region=assistant.settings.default_phone_region,
        )
        draft.remembered_appointment = refers_to_appointment(memory, text)
        return draft

    draft = draft_of(step.intent, entities)
    if step.replaces is not None:
        old = step.replaces.model_copy(
            update={"patient_phone": entities.patient_phone, "patient_name": entities.patient_name}
        )
        draft = await plan_steps.replace_appointment(draft_of(Intent.CANCEL_APPOINTMENT, old), draft, ctx)
    else:
        await intents.HANDLERS[draft.intent](draft, ctx)
    draft.notes[:0] = recalled_notes
    return draft


def _values(form: dict[str, FormField]) -> dict[str, Any]:
    return {name: field.value for name, field in form.items()}


def _plan(drafts: list[Draft], *, notes: list[str], transcript: str | None, expires_at: datetime) -> Plan:
    writes = [d for d in drafts if d.intent not in intents.READ_ONLY]
    main = writes[0] if writes else drafts[0]
    clarifications = [c for d in drafts for c in d.clarifications]
    if len(drafts) > 1:
        clarifications += plan_steps.refusals(drafts)
    missing = [name if d is main else f"steps.{i}.{name}" for i, d in enumerate(drafts) for name in d.missing]
    executable = (
        bool(writes) and not clarifications and all(_satisfied(d.intent, _values(d.form)) for d in writes)
    )
    plan = Plan(
        plan_id=uuid.uuid4().hex,
        summary="",
        intent=main.intent,
        entities=Entities.model_validate(main.entities.model_dump()),
        resolved=main.resolved,
        actions=[a for d in writes for a in d.actions],
        form=main.form,
        missing=missing,
        clarifications=clarifications,
        alternatives=[a for d in drafts for a in d.alternatives],
        notes=[*notes, *(n for d in drafts for n in d.notes)],
        results=[r for d in drafts if d.intent in intents.READ_ONLY for r in d.results],
        answer=" ".join(d.answer for d in drafts if d.answer) or None,
        requires_confirmation=bool(writes),
        executable=executable,
        expires_at=expires_at,
        transcript=transcript,
        steps=[plan_steps.step_of(d) for d in drafts],
    )
    answers = [summary.answer(d) for d in drafts if d.intent in intents.READ_ONLY]
    return plan.model_copy(update={"summary": summary.plan_summary(plan, answers)})


def _satisfied(intent: Intent, values: dict[str, Any]) -> bool:
    options = REQUIRED.get(intent, ())
    return any(all(values.get(name) for name in option) for option in options)


def _check_patient(plan: Plan, corrections: dict[str, Any]) -> None:
    """A correction may pick the patient the plan left open, never swap the one it resolved."""
    wanted = corrections.get("patient")
    resolved = plan.resolved.patient
    if wanted is None or resolved is None:
        return
    if f"Patient/{str(wanted).removeprefix('Patient/')}" != resolved:
        raise Invalid(
            "form.patient",
            f"the plan was resolved for {resolved}; writing to another patient needs a new instruction",
            code="other_patient",
        )


async def confirm(
    assistant: Assistant, *, plan_id: str, corrections: dict[str, Any], principal: Principal
) -> Confirmation:
    """Execute a plan once: 404 unknown, 403 someone else's, 410 expired, 409 already confirmed."""
    stored = await assistant.plans.load(plan_id)
    if stored is None:
        raise NotFound("Plan", plan_id)
    if stored.owner != principal.user:
        raise Forbidden("Only the user who asked for this plan may confirm it")
    now = assistant.clock.now().astimezone(assistant.tz)
    if is_expired(stored.plan, now):
        raise Expired(
            f"Plan {plan_id!r} expired at {stored.plan.expires_at.isoformat()}", code="plan_expired"
        )
    plan = stored.plan
    if not plan.requires_confirmation:
        raise Conflict(f"A {plan.intent.value} plan writes nothing", code="nothing_to_confirm")
    _check_patient(plan, corrections)
    form = merged_form(plan, corrections)
    if plan.clarifications and len(plan.steps) > 1:
        raise Invalid(
            None, "The plan cannot be confirmed: " + " ".join(plan.clarifications), code="plan_incomplete"
        )
    later = [s for s in plan.steps[1:] if s.intent not in intents.READ_ONLY]
    if not _satisfied(plan.intent, form) or not all(_satisfied(s.intent, _values(s.form)) for s in later):
        needed = " or ".join("+".join(option) for option in REQUIRED[plan.intent])
        raise Invalid(
            None,
            f"The plan cannot be confirmed yet: it needs {needed}",
            code="plan_incomplete",
            missing=plan.missing,
        )
    if not await assistant.plans.claim(plan_id):
        prior = await assistant.plans.result(plan_id)
        raise Conflict(
            f"Plan {plan_id!r} was already confirmed" if prior else f"Plan {plan_id!r} is being confirmed",
            code="already_confirmed",
            result=prior.model_dump(mode="json") if prior else None,
        )
    execution = Execution(
        fhir=assistant.fhir,
        directory=assistant.directory,
        state=assistant.state,
        queue=assistant.queue,
        actors=[principal.actor(), ASSISTANT],
        instruction=stored.text,
        now=now,
        region=assistant.settings.default_phone_region,
        ticket_sla=assistant.settings.ticket_sla_minutes,
        mrn_prefix=assistant.settings.mrn_prefix,
    )
    try:
        done = await plan_steps.execute_steps(plan, form, execution)
    except BaseException:
        await assistant.plans.release(plan_id)
        raise
    confirmation = done.model_copy(update={"summary": summary.confirmation_summary(done, plan)})
    await assistant.plans.finish(confirmation, ttl_seconds=assistant.settings.plan_ttl_seconds)
    earlier = await assistant.sessions.recall(principal.user, now=now)
    await assistant.sessions.remember(
        principal.user, after_confirmation(plan, confirmation, earlier=earlier, at=now)
    )
    log.info(
        "assistant.plan.confirmed",
        plan_id=plan_id,
        intent=confirmation.intent.value,
        written=len(confirmation.written),
    )
    return confirmation


def audio_too_large(limit: int) -> TooLarge:
    """413: the upload is bigger than the limit."""
    return TooLarge(None, f"Audio is larger than {limit} bytes", code="audio_too_large")


def wav_seconds(audio: bytes) -> float | None:
    """Duration of WAV audio from its header (None for other formats)."""
    if not audio.startswith(b"RIFF"):
        return None
    try:
        with wave.open(io.BytesIO(audio)) as wav:
            frames: int = wav.getnframes()
            rate: int = wav.getframerate()
            return frames / float(rate)
    except (wave.Error, EOFError, ZeroDivisionError):
        return None


async def transcribe(assistant: Assistant, *, audio: bytes, content_type: str) -> str:
    """Speech to text with the clinic's vocabulary as hints; clear errors for what cannot be heard."""
    settings = assistant.settings
    if not audio:
        raise Invalid("audio", "is empty")
    if len(audio) > settings.max_audio_bytes:
        raise audio_too_large(settings.max_audio_bytes)
    if not content_type.startswith("audio/") and content_type != "application/octet-stream":
        raise UnsupportedMedia(None, f"Expected audio, got {content_type!r}", code="not_audio")
    seconds = wav_seconds(audio)
    if seconds is not None and seconds > settings.max_audio_seconds:
        raise TooLarge(
            None,
            f"Audio is {seconds:.0f} s long; the limit is {settings.max_audio_seconds:.0f} s",
            code="audio_too_long",
        )
    if assistant.transcriber is None:
        raise NotSupported(
            "No speech engine is configured (PRM_TRANSCRIPTION_ENGINE)", code="transcription_unavailable"
        )
    hints: Sequence[str] = await assistant.hints()
    try:
        transcript = await assistant.transcriber.transcribe(audio, content_type=content_type, hints=hints)
    except TranscriptionUnavailable as exc:
        raise NotSupported(str(exc), code="transcription_unavailable") from None
    except TranscriptionFailed as exc:
        raise Invalid(None, f"The audio could not be transcribed: {exc}", code="unreadable_audio") from None
    log.info(
        "assistant.audio.transcribed",
        bytes=len(audio),
        seconds=transcript.duration_seconds,
        engine=transcript.engine,
    )
    if not transcript.text.strip():
        raise Invalid(None, "No speech was recognised in the audio", code="no_speech")
    return transcript.text
