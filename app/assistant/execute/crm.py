"""Executing CRM plans: a lead (create, move stage, mark lost), a staff task (callback ticket)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.assistant.execute.common import SOURCE, Execution, Executor, patient_or_register, plan_tag, ref_id
from app.assistant.schemas import Plan
from app.errors import Invalid
from app.opportunities import service as opportunities
from app.opportunities.resources import LostReason, Stage
from app.ports.nlu import Intent
from app.tickets import service as tickets

CORRECTABLE: dict[Intent, tuple[str, ...]] = {
    Intent.CREATE_OPPORTUNITY: ("patient", "reason", "patient_name", "patient_phone"),
    Intent.CREATE_TASK: ("patient", "message", "due"),
    Intent.MOVE_OPPORTUNITY: ("stage",),
    Intent.LOSE_OPPORTUNITY: ("lost_reason", "message"),
}
REQUIRED: dict[Intent, tuple[tuple[str, ...], ...]] = {
    Intent.CREATE_OPPORTUNITY: (("patient",), ("patient_name", "patient_phone")),
    Intent.CREATE_TASK: (("message",),),
    Intent.MOVE_OPPORTUNITY: (("opportunity", "stage"),),
    Intent.LOSE_OPPORTUNITY: (("opportunity", "lost_reason"),),
}


async def _opportunity(
    plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]
) -> dict[str, str | None]:
    patient_id = await patient_or_register(form, ex, written)
    task = await opportunities.create_opportunity(
        ex.fhir,
        patient_id=patient_id,
        description=form.get("reason"),
        source=SOURCE,
        actors=ex.actors,
        instruction=ex.instruction,
        identifier=plan_tag(plan),
    )
    written.append(f"Task/{task['id']}")
    return {"patient": f"Patient/{patient_id}"}


async def _task(plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]) -> dict[str, str | None]:
    patient_id = ref_id(form["patient"], "Patient", "patient") if form.get("patient") else None
    if not form.get("message"):
        raise Invalid("form.message", "say what the task is")
    try:
        due = datetime.fromisoformat(form["due"]) if form.get("due") else None
    except ValueError:
        raise Invalid("form.due", f"{form['due']!r} is not a date-time") from None
    task = await tickets.create_ticket(
        ex.fhir,
        patient_id=patient_id,
        category="callback",
        description=str(form["message"]),
        due=due,
        owner=ex.actors[0].user,
        actors=ex.actors,
        instruction=ex.instruction,
        identifier=plan_tag(plan),
        now=ex.now,
        sla=ex.ticket_sla,
    )
    written.append(f"Task/{task['id']}")
    return {"patient": f"Patient/{patient_id}" if patient_id else None}


async def _change(
    form: dict[str, Any], ex: Execution, written: list[str], changes: opportunities.OpportunityChanges
) -> dict[str, str | None]:
    task = await opportunities.change_opportunity(
        ex.fhir,
        opportunity_id=ref_id(form.get("opportunity"), "Task", "opportunity"),
        changes=changes,
        actor=ex.actors[0],
        now=ex.now,
    )
    written.append(f"Task/{task['id']}")
    return {"patient": form.get("patient")}


async def _move(plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]) -> dict[str, str | None]:
    del plan
    return await _change(form, ex, written, opportunities.OpportunityChanges(stage=Stage(form["stage"])))


async def _lose(plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]) -> dict[str, str | None]:
    del plan
    changes = opportunities.OpportunityChanges(
        stage=Stage.LOST, lost_reason=LostReason(form["lost_reason"]), lost_note=form.get("message") or None
    )
    return await _change(form, ex, written, changes)


EXECUTORS: dict[Intent, Executor] = {
    Intent.MOVE_OPPORTUNITY: _move,
    Intent.LOSE_OPPORTUNITY: _lose,
    Intent.CREATE_OPPORTUNITY: _opportunity,
    Intent.CREATE_TASK: _task,
}
