"""Journey intents: start a template for a patient, list a patient's journeys, complete or skip a stage."""

from __future__ import annotations

from typing import Any

from rapidfuzz import fuzz, process

from app.assistant.intents.common import Context, Handler, patient_or_ask
from app.directory.resources import display_name
from app.journeys import service as journeys
from app.journeys import templates
from app.journeys.model import Journey, JourneyStatus
from app.ports.nlu import Intent
from app.understanding.draft import Draft

# How alike a template's name or title must be to the words said (rapidfuzz WRatio, 0-100).
TEMPLATE_SCORE = 75


def summary(journey: Journey) -> dict[str, Any]:
    """A journey as shown in results and candidates."""
    current = journey.current()
    return {
        "journey": f"CarePlan/{journey.id}",
        "template": journey.template,
        "status": journey.status.value,
        "current_stage": current.code if current else None,
        "current_stage_title": current.title if current else None,
        "stages": [{"code": s.code, "title": s.title, "status": s.status.value} for s in journey.stages],
    }


def _best(words: str, choices: dict[str, str]) -> str | None:
    """The key whose text is most like the words (None when nothing is close)."""
    match = process.extractOne(words, choices, scorer=fuzz.WRatio, score_cutoff=TEMPLATE_SCORE)
    return str(match[2]) if match else None


async def start(draft: Draft, ctx: Context) -> None:
    """Start a journey template for a patient, anchored now."""
    patient = await patient_or_ask(draft, ctx, why="For which patient?")
    if patient is not None:
        draft.fill("patient", draft.resolved.patient, "resolved", "Patient")
    active = [t for t in await templates.list_templates(ctx.fhir) if t.active]
    names = {t.name: f"{t.name.replace('-', ' ')} {t.title}" for t in active}
    chosen = _best(draft.entities.template, names) if draft.entities.template else None
    if chosen is None:
        said = f"I know no journey {draft.entities.template!r}. " if draft.entities.template else ""
        draft.need("template", "Journey", why=f"{said}Which journey: {', '.join(sorted(names))}?")
    else:
        draft.entities.template = chosen
        draft.fill("template", chosen, "extracted", "Journey")
    who = display_name(patient) if patient else "the patient"
    draft.act("start_journey", f"Start the journey {chosen or '?'} for {who}")


async def listing(draft: Draft, ctx: Context) -> None:
    """Answer: a patient's journeys, newest first."""
    patient = await patient_or_ask(draft, ctx, why="Whose journeys?")
    if patient is None:
        return
    found = await journeys.patient_journeys(ctx.fhir, patient_id=patient["id"])
    draft.results.extend(summary(j) for j in found)
    active = [j for j in found if j.status is JourneyStatus.ACTIVE]
    draft.answer = f"{display_name(patient)} has {len(found)} journeys, {len(active)} active" + (
        ": " + "; ".join(f"{j.template} at {(j.current() or j.stages[-1]).title}" for j in active)
        if active
        else "."
    )


async def advance(draft: Draft, ctx: Context) -> None:
    """Complete (or skip) the current stage of a patient's active journey."""
    patient = await patient_or_ask(draft, ctx, why="Whose journey?")
    if patient is None:
        return
    draft.fill("patient", draft.resolved.patient, "resolved", "Patient")
    active = [
        j
        for j in await journeys.patient_journeys(ctx.fhir, patient_id=patient["id"])
        if j.status is JourneyStatus.ACTIVE and j.current() is not None
    ]
    if draft.entities.template and len(active) > 1:
        chosen = _best(draft.entities.template, {str(j.id): j.template.replace("-", " ") for j in active})
        active = [j for j in active if j.id == chosen] or active
    if len(active) != 1:
        draft.alternatives.extend(summary(j) for j in active)
        draft.need(
            "journey",
            "Journey",
            why=f"{display_name(patient)} has {len(active) or 'no'} active journeys"
            + ("; which one?" if active else "."),
        )
        return
    journey = active[0]
    current = journey.current()
    status = "skipped" if draft.entities.stage == "skipped" else "completed"
    draft.resolved.journey = f"CarePlan/{journey.id}"
    draft.fill("journey", draft.resolved.journey, "resolved", "Journey")
    draft.fill("stage", current.code if current else None, "resolved", "Stage")
    draft.fill("outcome", status, "extracted" if status == "skipped" else "default", "Stage outcome")
    draft.act(
        "advance_journey",
        f"Mark stage {current.title if current else '?'} of {journey.template} for {display_name(patient)} {status}",
    )


HANDLERS: dict[Intent, Handler] = {
    Intent.START_JOURNEY: start,
    Intent.LIST_JOURNEYS: listing,
    Intent.ADVANCE_JOURNEY: advance,
}
