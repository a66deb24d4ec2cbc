"""FHIR shape of an opportunity (a lead): a Task with the prm-opportunity profile and a pipeline stage."""

from __future__ import annotations

from enum import StrEnum

from app.fhir.builders import coding, extension, instant, meta_profile, now_utc
from app.fhir.canonical import (
    CS_OPPORTUNITY_STAGE,
    CS_TASK_TYPE,
    EXT_SOURCE_CHANNEL,
    PROFILE_OPPORTUNITY,
    TASK_TYPE_OPPORTUNITY,
)
from app.fhir.client import Resource


class Stage(StrEnum):
    """Opportunity pipeline stages (CodeSystem opportunity-stage)."""

    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    BOOKED = "booked"
    WON = "won"
    LOST = "lost"


OPEN_STAGES = (Stage.NEW, Stage.CONTACTED, Stage.QUALIFIED)
# Task.status that goes with each stage.
TASK_STATUS = {
    Stage.NEW: "requested",
    Stage.CONTACTED: "in-progress",
    Stage.QUALIFIED: "in-progress",
    Stage.BOOKED: "in-progress",
    Stage.WON: "completed",
    Stage.LOST: "cancelled",
}


def stage_of(task: Resource) -> Stage | None:
    """An opportunity's stage."""
    for c in task.get("businessStatus", {}).get("coding", []):
        if c.get("system") == CS_OPPORTUNITY_STAGE:
            return Stage(c["code"])
    return None


def with_stage(task: Resource, stage: Stage, *, focus: str | None = None) -> Resource:
    """A copy of an opportunity moved to `stage` (and focused on an appointment)."""
    updated = {k: v for k, v in task.items() if k != "meta"}
    updated["meta"] = {"profile": task.get("meta", {}).get("profile", [PROFILE_OPPORTUNITY])}
    updated["businessStatus"] = {"coding": [coding(CS_OPPORTUNITY_STAGE, stage.value)]}
    updated["status"] = TASK_STATUS[stage]
    updated["lastModified"] = instant(now_utc())
    if focus:
        updated["focus"] = {"reference": focus}
    return updated


def opportunity_resource(
    *,
    patient_ref: str,
    stage: Stage,
    source: str,
    description: str | None,
    focus: str | None = None,
) -> Resource:
    """A new opportunity (lead) for a patient."""
    task: Resource = {
        "resourceType": "Task",
        "meta": meta_profile(PROFILE_OPPORTUNITY),
        "extension": [extension(EXT_SOURCE_CHANNEL, valueCode=source)],
        "status": TASK_STATUS[stage],
        "businessStatus": {"coding": [coding(CS_OPPORTUNITY_STAGE, stage.value)]},
        "intent": "proposal",
        "code": {"coding": [coding(CS_TASK_TYPE, TASK_TYPE_OPPORTUNITY)]},
        "for": {"reference": patient_ref},
        "authoredOn": instant(now_utc()),
    }
    if description:
        task["description"] = description
    if focus:
        task["focus"] = {"reference": focus}
    return task
