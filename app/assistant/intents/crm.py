"""CRM intents: leads (create, move stage, mark lost) and staff tasks (callback tickets)."""

from __future__ import annotations

from app.assistant.intents.common import (
    RESULTS_LIMIT,
    Context,
    Handler,
    patient_or_ask,
    patient_or_registration,
    when_text,
)
from app.directory.resources import display_name
from app.errors import InvalidTransition
from app.fhir.client import Resource
from app.language import terms
from app.opportunities import service as opportunities
from app.opportunities.resources import Stage, stage_of
from app.ports.nlu import Intent
from app.understanding import resolve as r
from app.understanding.draft import Draft


async def opportunity(draft: Draft, ctx: Context) -> None:
    """Add a lead (registering the person as a patient if new)."""
    await patient_or_registration(draft, ctx, why="for the lead")
    draft.fill(
        "reason", draft.entities.reason, "extracted" if draft.entities.reason else "default", "Interest"
    )
    draft.act(
        "create_opportunity",
        f"Create an opportunity (stage new, source assistant) for {draft.entities.patient_name or 'the patient'}",
    )


async def task(draft: Draft, ctx: Context) -> None:
    """Create a ticket for staff (e.g. a callback) due at the given time."""
    patient = await r.resolve_patient(draft, ctx.fhir, region=ctx.region)
    if patient is not None:
        draft.fill("patient", draft.resolved.patient, "resolved", "Patient")
    text = draft.entities.message or draft.text
    draft.fill("message", text, "extracted" if draft.entities.message else "default", "Task")
    due = draft.entities.start
    draft.fill("due", due.isoformat() if due else None, "extracted" if due else "default", "Due")
    for_whom = f" for {display_name(patient)}" if patient else ""
    draft.act("create_task", f"Create a callback task{for_whom}" + (f" due {when_text(due)}" if due else ""))


async def _lead(draft: Draft, ctx: Context) -> Resource | None:
    """The patient's newest lead still in the pipeline (not won or lost)."""
    patient = await patient_or_ask(draft, ctx, why="Whose lead?")
    if patient is None:
        return None
    draft.fill("patient", draft.resolved.patient, "resolved", "Patient")
    found, _ = await opportunities.list_opportunities(
        ctx.fhir, where=opportunities.OpportunityFilter(patient_id=patient["id"]), page=1, count=RESULTS_LIMIT
    )
    lead = next((t for t in found if stage_of(t) not in (Stage.WON, Stage.LOST)), None)
    if lead is None:
        draft.need("opportunity", "Lead", why=f"{display_name(patient)} has no open lead.")
        return None
    draft.resolved.opportunity = f"Task/{lead['id']}"
    draft.fill("opportunity", draft.resolved.opportunity, "resolved", "Lead")
    return lead


def _movable(draft: Draft, lead: Resource | None, wanted: Stage) -> None:
    """A move the pipeline refuses is said now, not at confirmation."""
    if lead is None:
        return
    try:
        opportunities.check_move(stage_of(lead), wanted)
    except InvalidTransition as exc:
        draft.clarifications.append(exc.message)


async def move(draft: Draft, ctx: Context) -> None:
    """Move a lead to another pipeline stage."""
    lead = await _lead(draft, ctx)
    stage = terms.code_of(terms.OPPORTUNITY_STAGES, draft.entities.stage)
    if stage is None or stage == Stage.LOST:
        draft.need("stage", "Stage", why="To which stage (contacted, qualified, booked, won)?")
    else:
        draft.fill("stage", stage, "extracted", "Stage")
        _movable(draft, lead, Stage(stage))
    now = f" (now {stage_of(lead) or 'no stage'})" if lead else ""
    draft.act(
        "move_opportunity", f"Move {draft.resolved.opportunity or 'the lead'}{now} to stage {stage or '?'}"
    )


async def lose(draft: Draft, ctx: Context) -> None:
    """Mark a lead lost, with the reason (a lost lead needs one)."""
    lead = await _lead(draft, ctx)
    reason = draft.entities.lost_reason
    note = draft.entities.message
    if reason is None and note:
        reason = "other"
    if reason is None:
        draft.need(
            "lost_reason",
            "Why lost",
            why="Why was the lead lost (" + ", ".join(sorted(set(terms.LOST_REASONS.values()))) + ")?",
        )
    else:
        draft.fill("lost_reason", reason, "extracted", "Why lost")
    draft.fill("message", note, "extracted" if note else "default", "Note")
    _movable(draft, lead, Stage.LOST)
    draft.act(
        "lose_opportunity",
        f"Mark {draft.resolved.opportunity or 'the lead'} lost ({reason or '?'}): it leaves the pipeline",
        destructive=True,
    )


HANDLERS: dict[Intent, Handler] = {
    Intent.MOVE_OPPORTUNITY: move,
    Intent.LOSE_OPPORTUNITY: lose,
    Intent.CREATE_OPPORTUNITY: opportunity,
    Intent.CREATE_TASK: task,
}
