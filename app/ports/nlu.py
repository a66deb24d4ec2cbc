"""The assistant's language port: a staff instruction in, a strict-schema intent and entities out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field


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


class ExtractionStep(BaseModel):
    """One further thing a compound instruction asks for, in the order it is said."""

    model_config = ConfigDict(extra="forbid")

    intent: Intent
    entities: ExtractedEntities = Field(default_factory=ExtractedEntities)


class Extraction(BaseModel):
    """An extractor's answer: the (first) intent and its entities, then any further steps in order."""

    model_config = ConfigDict(extra="forbid")

    intent: Intent
    entities: ExtractedEntities = Field(default_factory=ExtractedEntities)
    then: list[ExtractionStep] = Field(
        default_factory=list,
        description="Further steps when one instruction asks for several things, in order (usually empty); "
        "a step referring to an earlier one ('book him') leaves that entity null",
    )
    confidence: float | None = Field(
        default=None, description="How sure the extractor is of the whole answer, 0 to 1 (null: no estimate)"
    )

    def steps(self) -> list[ExtractionStep]:
        """Every step, the first one included."""
        return [ExtractionStep(intent=self.intent, entities=self.entities), *self.then]


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
