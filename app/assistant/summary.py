"""Plans and confirmations in plain words, templated from what the plan holds (never invented), and
how far each form field can be trusted."""

from __future__ import annotations

from datetime import datetime

from app.assistant.schemas import Confirmation, Plan
from app.ports.nlu import Intent
from app.understanding.draft import Draft

# How far a form field can be trusted, by where its value came from: checked against the records,
# read from the instruction, filled in by default, or not there.
CONFIDENCE = {"resolved": 0.95, "extracted": 0.8, "default": 0.5, "missing": 0.0}


def field_confidence(draft: Draft, *, extractor: float | None) -> None:
    """Set each form field's confidence; an extractor's own estimate caps what it extracted."""
    for field in draft.form.values():
        level = CONFIDENCE[field.source]
        if field.source == "extracted" and extractor is not None:
            level = min(level, max(0.0, min(1.0, extractor)))
        field.confidence = level


def _local(value: str | None, plan: Plan) -> str:
    if not value:
        return "?"
    moment = datetime.fromisoformat(value).astimezone(plan.expires_at.tzinfo)
    return f"{moment:%a %d %b, %H:%M}"


def answer(draft: Draft) -> str:
    """A read intent's answer in words: its handler's own sentence, else a count of its results."""
    if draft.answer:
        return draft.answer
    return f"{len(draft.results)} result(s)." if draft.results else ""


def plan_summary(plan: Plan, answers: list[str]) -> str:
    """What confirming the plan would do, what stops it, or the answer to a question."""
    if plan.intent is Intent.UNSUPPORTED:
        return "That is not something I can do. " + " ".join(plan.clarifications)
    parts = [a for a in answers if a]
    if plan.clarifications:
        parts.append("Before I can do this: " + " ".join(plan.clarifications))
    elif plan.missing:
        parts.append("Still needed: " + ", ".join(plan.missing) + ".")
    if plan.requires_confirmation:
        steps = "; then ".join(a.summary for a in plan.actions)
        lead = "Confirm to" if plan.executable else "Once settled, confirming will"
        parts.append(f"{lead}: {steps}.")
    return " ".join(parts) or "Nothing to do."


def confirmation_summary(confirmation: Confirmation, plan: Plan) -> str:
    """What confirming wrote, in words and references."""
    done = "; ".join(a.summary for a in plan.actions)
    written = ", ".join(confirmation.written) or "nothing new"
    when = ""
    if confirmation.appointment and plan.resolved.slot:
        start = plan.entities.start.isoformat() if plan.entities.start else None
        when = f" The appointment is {confirmation.appointment} on {_local(start, plan)}."
    return f"Done: {done}. Written: {written}.{when}"
