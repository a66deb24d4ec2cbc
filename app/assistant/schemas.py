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


class PlanStep(BaseModel):
    """One step of a plan, in the order the instruction asked for it."""

    intent: Intent
    entities: Entities
    resolved: Resolved
    actions: list[Action]
    form: dict[str, FormField]
    missing: list[str]
    clarifications: list[str]


class Plan(BaseModel):
    """A previewed plan: nothing is written until it is confirmed.

    A compound instruction has several `steps`; the top-level intent, entities, resolved and form are
    those of its main (first writing) step, `actions` lists every step's, in order.
    """

    plan_id: str
    summary: str = Field(
        description="The plan in plain words: what confirming does, what is missing, or the answer"
    )
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
    steps: list[PlanStep] = Field(default_factory=list, description="Every step, in order (one for most)")


class ConfirmIn(InputModel):
    """Confirm a plan, optionally correcting form fields (e.g. another slot)."""

    form: dict[str, Any] = Field(default_factory=dict, description="Field name -> corrected value")


class Confirmation(BaseModel):
    """What confirming wrote."""

    plan_id: str
    summary: str = Field(default="", description="What was done, in plain words")
    intent: Intent
    written: list[str] = Field(description="`Type/id` of every resource written")
    appointment: str | None = None
    patient: str | None = None
