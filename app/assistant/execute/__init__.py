"""Confirming a plan: its (possibly corrected) form is executed through the same services the API
uses, every write carrying Provenance with the staff user, the assistant and the instruction. One module
per capability; the registries (EXECUTORS, CORRECTABLE, REQUIRED) are merged here."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import StringConstraints, TypeAdapter, ValidationError

from app.assistant.execute import appointments, crm, journeys, messages, patients, tickets
from app.assistant.execute.common import Execution, Executor
from app.assistant.schemas import Confirmation, Plan
from app.errors import Conflict, Invalid
from app.inputs import USER_PATTERN, CalendarDate, Instant
from app.opportunities.resources import LostReason
from app.ports.nlu import Intent
from app.tickets.resources import Category, Priority
from app.vocabulary import ContactChannel

__all__ = ["CORRECTABLE", "EXECUTORS", "REQUIRED", "Execution", "execute", "merged_form"]

_MODULES = (appointments, patients, crm, messages, tickets, journeys)
EXECUTORS: dict[Intent, Executor] = {k: v for m in _MODULES for k, v in m.EXECUTORS.items()}
# Form fields a person may correct before confirming, per intent.
CORRECTABLE: dict[Intent, tuple[str, ...]] = {k: v for m in _MODULES for k, v in m.CORRECTABLE.items()}
# Form fields confirming needs, per intent: any one alternative of a tuple-of-tuples must be filled.
REQUIRED: dict[Intent, tuple[tuple[str, ...], ...]] = {k: v for m in _MODULES for k, v in m.REQUIRED.items()}

_Reference = Annotated[str, StringConstraints(pattern=r"^([A-Za-z]+/)?[A-Za-z0-9\-.]{1,64}$")]
# What a correction of each field must be (JSON values, checked before anything is written).
CORRECTION_TYPES: dict[str, TypeAdapter[Any]] = {
    "patient": TypeAdapter(_Reference),
    "slot": TypeAdapter(_Reference),
    "reason": TypeAdapter(Annotated[str, StringConstraints(max_length=500)] | None),
    "message": TypeAdapter(Annotated[str, StringConstraints(min_length=1, max_length=2000)]),
    "patient_name": TypeAdapter(Annotated[str, StringConstraints(min_length=1, max_length=200)]),
    "patient_phone": TypeAdapter(Annotated[str, StringConstraints(min_length=1, max_length=32)]),
    "gender": TypeAdapter(Literal["male", "female", "other", "unknown"]),
    "birth_date": TypeAdapter(CalendarDate),
    "due": TypeAdapter(Instant | None),
    "category": TypeAdapter(Category),
    "priority": TypeAdapter(Priority),
    "status": TypeAdapter(Literal["in-progress", "on-hold", "open"]),
    "outcome": TypeAdapter(Literal["completed", "skipped"]),
    "owner": TypeAdapter(Annotated[str, StringConstraints(pattern=USER_PATTERN)]),
    "stage": TypeAdapter(Literal["contacted", "qualified", "booked", "won"]),
    "lost_reason": TypeAdapter(LostReason),
    "template": TypeAdapter(Annotated[str, StringConstraints(min_length=1, max_length=100)]),
    "channel": TypeAdapter(Literal["whatsapp", "sms", "email"]),
    "phone": TypeAdapter(Annotated[str, StringConstraints(min_length=1, max_length=32)]),
    "email": TypeAdapter(Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]),
    "preferred_language": TypeAdapter(Literal["en", "hi", "kn"]),
    "preferred_channel": TypeAdapter(ContactChannel),
    "start": TypeAdapter(CalendarDate),
    "end": TypeAdapter(CalendarDate),
}


def merged_form(plan: Plan, corrections: dict[str, Any]) -> dict[str, Any]:
    """The plan's form values with the person's corrections; 422 for a field that may not change or a
    value of the wrong type."""
    allowed = CORRECTABLE.get(plan.intent, ())
    values = {name: field.value for name, field in plan.form.items()}
    for name, value in corrections.items():
        if name not in allowed:
            raise Invalid(
                f"form.{name}",
                f"cannot be changed for {plan.intent.value} (allowed: {', '.join(allowed) or 'none'})",
            )
        adapter = CORRECTION_TYPES[name]
        try:
            # As JSON and strict: a number is not a phone, a date is ISO text, not an epoch.
            values[name] = adapter.dump_python(
                adapter.validate_json(json.dumps(value), strict=True), mode="json"
            )
        except ValidationError as exc:
            raise Invalid(f"form.{name}", exc.errors()[0]["msg"]) from None
    return values


async def execute(plan: Plan, form: dict[str, Any], ex: Execution) -> Confirmation:
    """Perform the plan's actions; returns the references written."""
    executor = EXECUTORS.get(plan.intent)
    if executor is None:
        raise Conflict(
            f"A {plan.intent.value} plan writes nothing; its answer is in the plan", code="nothing_to_confirm"
        )
    written: list[str] = []
    refs = await executor(plan, form, ex, written)
    return Confirmation(plan_id=plan.plan_id, intent=plan.intent, written=written, **refs)
