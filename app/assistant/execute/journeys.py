"""Executing journey plans through the journeys service: start a template, complete or skip a stage."""

from __future__ import annotations

from typing import Any

from app.assistant.execute.common import Execution, Executor, ref_id
from app.assistant.schemas import Plan
from app.journeys import service as journeys
from app.journeys.model import StageStatus
from app.ports.nlu import Intent

CORRECTABLE: dict[Intent, tuple[str, ...]] = {
    Intent.START_JOURNEY: ("template",),
    Intent.ADVANCE_JOURNEY: ("outcome",),
}
REQUIRED: dict[Intent, tuple[tuple[str, ...], ...]] = {
    Intent.START_JOURNEY: (("patient", "template"),),
    Intent.ADVANCE_JOURNEY: (("journey", "stage", "outcome"),),
}


async def _start(
    plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]
) -> dict[str, str | None]:
    del plan
    patient_id = ref_id(form.get("patient"), "Patient", "patient")
    journey = await journeys.start_journey(
        ex.fhir, patient_id=patient_id, template_name=str(form["template"]), now=ex.now, actors=ex.actors
    )
    written.append(f"CarePlan/{journey.id}")
    return {"patient": f"Patient/{patient_id}"}


async def _advance(
    plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]
) -> dict[str, str | None]:
    del plan
    journey = await journeys.change_stage(
        ex.fhir,
        journey_id=ref_id(form.get("journey"), "CarePlan", "journey"),
        stage=str(form["stage"]),
        status=StageStatus(form["outcome"]),
        now=ex.now,
        actors=ex.actors,
    )
    written.append(f"CarePlan/{journey.id}")
    return {"patient": form.get("patient")}


EXECUTORS: dict[Intent, Executor] = {
    Intent.START_JOURNEY: _start,
    Intent.ADVANCE_JOURNEY: _advance,
}
