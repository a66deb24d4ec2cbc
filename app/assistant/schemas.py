"""API models of the assistant (contract: DESIGN.md section 6.1)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from app.inputs import InputModel, Instant
from app.ports.nlu import Intent


class InterpretIn(InputModel):
    """A staff instruction to interpret."""

    text: str = Field(min_length=1, description="The instruction, as typed or transcribed")
    now: Instant | None = Field(default=None, description="The instant it was given (default: server time)")
    channel: Literal["text", "audio"] | None = None


class Entities(BaseModel):
    """What the instruction says, normalised: E.164 phone, specialty code, start in the clinic's zone."""

    patient_phone: str | None = None
    patient_name: str | None = None
    practitioner_name: str | None = None
    specialty: str | None = None
    start: AwareDatetime | None = None
    date: str | None = Field(default=None, description="YYYY-MM-DD")
    time: str | None = Field(default=None, description="HH:MM")
    reason: str | None = None
    message: str | None = None


class Resolved(BaseModel):
    """FHIR references the code resolved the entities to (`Type/id`)."""

    patient: str | None = None
    practitioner: str | None = None
    slot: str | None = None
    appointment: str | None = None


class Action(BaseModel):
    """One write the plan will make when confirmed, described for the person confirming it."""

    type: str
    summary: str


class FormField(BaseModel):
    """One field of the dashboard form, pre-filled, with where its value came from."""

    value: Any = None
    source: Literal["extracted", "resolved", "default", "missing"]
    label: str


class Plan(BaseModel):
    """A previewed plan: nothing is written until it is confirmed."""

    plan_id: str
    intent: Intent
    entities: Entities
    resolved: Resolved
    actions: list[Action]
    form: dict[str, FormField]
    missing: list[str]
    clarifications: list[str]
    alternatives: list[dict[str, Any]] = Field(
        description="Other free slots, candidate patients or appointments"
    )
    notes: list[str] = Field(default_factory=list, description="How ambiguities were settled, for the reader")
    results: list[dict[str, Any]] = Field(
        default_factory=list, description="For questions (find, list, availability): the answer"
    )
    requires_confirmation: bool
    executable: bool = Field(description="True when confirming would write the actions as they are")
    expires_at: AwareDatetime
    transcript: str | None = None


class ConfirmIn(InputModel):
    """Confirm a plan, optionally correcting form fields (e.g. another slot)."""

    form: dict[str, Any] = Field(default_factory=dict, description="Field name -> corrected value")


class Confirmation(BaseModel):
    """What confirming wrote."""

    plan_id: str
    intent: Intent
    written: list[str] = Field(description="`Type/id` of every resource written")
    appointment: str | None = None
    patient: str | None = None
