"""API models of the assistant (contract: DESIGN.md section 6.1)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from app.inputs import InputModel, Instant
from app.ports.nlu import Intent
from app.understanding.schemas import Action, Entities, FormField, Resolved


class InterpretIn(InputModel):
    """A staff instruction to interpret."""

    text: str = Field(min_length=1, description="The instruction, as typed or transcribed")
    now: Instant | None = Field(default=None, description="The instant it was given (default: server time)")
    channel: Literal["text", "audio"] | None = None


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
    answer: str | None = Field(default=None, description="For questions: the answer in one plain sentence")
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
