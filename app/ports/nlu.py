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
    JOIN_WAITLIST = "join_waitlist"
    PATIENT_SUMMARY = "patient_summary"
    CREATE_TICKET = "create_ticket"
    UPDATE_TICKET = "update_ticket"
    ASSIGN_TICKET = "assign_ticket"
    COMMENT_TICKET = "comment_ticket"
    RESOLVE_TICKET = "resolve_ticket"
    CLOSE_TICKET = "close_ticket"
    LIST_TICKETS = "list_tickets"
    MOVE_OPPORTUNITY = "move_opportunity"
    LOSE_OPPORTUNITY = "lose_opportunity"
    START_JOURNEY = "start_journey"
    LIST_JOURNEYS = "list_journeys"
    ADVANCE_JOURNEY = "advance_journey"
    PREVIEW_SEGMENT = "preview_segment"
    MESSAGE_HISTORY = "message_history"
    ASK_ANALYTICS = "ask_analytics"
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
    period: str | None = Field(
        default=None, description="A date range as written ('next week', 'last month', 'last 7 days')"
    )
    channel: str | None = Field(
        default=None, description="whatsapp, sms or email: where to send, or the patient's preferred channel"
    )
    template: str | None = Field(
        default=None, description="A message template or journey template name as written"
    )
    segment: str | None = Field(default=None, description="A saved patient segment's name as written")
    tag: str | None = Field(
        default=None,
        description="A tag to add to the patient, as written (VIP, wheelchair, needs interpreter, senior citizen)",
    )
    ticket: str | None = Field(default=None, description="The ticket's id or number as written")
    category: str | None = Field(
        default=None, description="The ticket category as written (complaint, billing, callback ...)"
    )
    priority: str | None = Field(
        default=None, description="The ticket priority as written (urgent, asap ...)"
    )
    assignee: str | None = Field(default=None, description="The staff user to assign to, e.g. nurse@clinic")
    mine: bool | None = Field(default=None, description="True when staff ask about their own tickets")
    overdue: bool | None = Field(default=None, description="True when staff ask about overdue tickets")
    stage: str | None = Field(
        default=None, description="The opportunity stage or journey stage to move to, as written"
    )
    lost_reason: str | None = Field(default=None, description="Why a lead was lost, as written")
    new_phone: str | None = Field(default=None, description="A patient's new phone number (update)")
    email: str | None = Field(default=None, description="A patient's new email address (update)")
    address: str | None = Field(default=None, description="A patient's new postal address (update)")
    language: str | None = Field(default=None, description="A patient's preferred language as written")
    contact_name: str | None = Field(default=None, description="The emergency contact's name")
    contact_phone: str | None = Field(default=None, description="The emergency contact's phone number")
    contact_relationship: str | None = Field(
        default=None, description="How the emergency contact is related (wife, father, friend ...)"
    )
    metric: str | None = Field(
        default=None,
        description="What an analytics question counts: appointments, no-shows, cancellations, leads, tickets, messages",
    )


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
