"""Ports: what the core needs from the outside world, as Protocols and vendor-neutral DTOs.

Concrete adapters live in `adapters/` and `workers/`; only `app/main.py` and
`workers/bootstrap.py` choose them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field


class QueueUnavailable(Exception):
    """The job queue (Redis) cannot take work right now; callers answer 503 so senders retry."""


class StateUnavailable(Exception):
    """The store of transient state (Redis: plans, de-duplication) cannot answer; callers answer 503."""


@dataclass(frozen=True)
class FailedJob:
    """A job that exhausted its retries (no payload: it may carry PHI)."""

    id: str
    name: str
    enqueued_at: datetime | None
    failed_at: datetime | None
    error_type: str
    attempts: int


class JobQueue(Protocol):
    """Background work: jobs take ids or small JSON, re-read state and are idempotent."""

    async def enqueue(
        self, name: str, payload: dict[str, Any], *, job_id: str | None = None, at: datetime | None = None
    ) -> str:
        """Queue job `name` with `payload` (to run at `at`, if given); a repeated `job_id` is not queued
        twice. Returns the job id."""
        ...

    async def failed_jobs(self, *, limit: int = 50) -> list[FailedJob]:
        """Jobs that failed after their last retry, newest first."""
        ...


# -- the assistant: intent extraction ------------------------------------------------------------


class Intent(StrEnum):
    """What a staff instruction asks the PRM to do."""

    BOOK_APPOINTMENT = "book_appointment"
    RESCHEDULE_APPOINTMENT = "reschedule_appointment"
    CANCEL_APPOINTMENT = "cancel_appointment"
    REGISTER_PATIENT = "register_patient"
    UPDATE_PATIENT = "update_patient"
    CREATE_OPPORTUNITY = "create_opportunity"
    CREATE_TASK = "create_task"
    SEND_MESSAGE = "send_message"
    FIND_PATIENT = "find_patient"
    LIST_APPOINTMENTS = "list_appointments"
    CHECK_AVAILABILITY = "check_availability"
    UNSUPPORTED = "unsupported"


class ExtractedEntities(BaseModel):
    """What an extractor found in an instruction, as written: the core normalises and resolves it."""

    model_config = ConfigDict(extra="forbid")

    patient_phone: str | None = Field(default=None, description="The patient's phone number as written")
    patient_name: str | None = Field(default=None, description="The patient's full name")
    practitioner_name: str | None = Field(default=None, description="The doctor's name without 'Dr.'")
    specialty: str | None = Field(default=None, description="The specialty or the words used for it")
    when: str | None = Field(
        default=None, description="The words naming the date and/or time, verbatim (e.g. '10AM tomorrow')"
    )
    reason: str | None = Field(default=None, description="Why the patient comes, or what the lead is about")
    message: str | None = Field(
        default=None, description="Text to send (send_message) or what to do (create_task)"
    )
    gender: str | None = Field(default=None, description="male, female, other or unknown")
    birth_date: str | None = Field(default=None, description="Date of birth as written")


class Extraction(BaseModel):
    """An extractor's answer: one intent and its entities."""

    model_config = ConfigDict(extra="forbid")

    intent: Intent
    entities: ExtractedEntities = Field(default_factory=ExtractedEntities)


@dataclass(frozen=True)
class ExtractionContext:
    """What an extractor may know about the clinic: the time now, and the names it can expect."""

    now: datetime  # aware, in the clinic's time zone
    practitioner_names: tuple[str, ...] = ()
    patient_names: tuple[str, ...] = ()
    specialty_codes: tuple[str, ...] = ()


class ExtractionFailed(Exception):
    """The extractor could not produce an answer (refusal, malformed output, timeout, rate limit)."""


class IntentExtractor(Protocol):
    """Turns a staff instruction into an intent and entities. It decides nothing."""

    async def extract(self, text: str, *, context: ExtractionContext) -> Extraction:
        """Extract intent and entities from `text`; raises ExtractionFailed."""
        ...


# -- speech ----------------------------------------------------------------------------------------


class TranscriptionUnavailable(Exception):
    """No speech engine is configured or installed."""


class TranscriptionFailed(Exception):
    """The audio could not be transcribed (not audio, unreadable, engine error)."""


@dataclass(frozen=True)
class Transcript:
    """Text recognised in audio."""

    text: str
    duration_seconds: float | None = None
    engine: str = ""


class Transcriber(Protocol):
    """Speech to text. `hints` are phrases likely to occur (doctor names, specialties)."""

    async def transcribe(self, audio: bytes, *, content_type: str, hints: Sequence[str] = ()) -> Transcript:
        """Transcribe `audio`; raises TranscriptionFailed or TranscriptionUnavailable."""
        ...
