"""FHIR shape of an opportunity (a lead): a Task with the prm-opportunity profile and a pipeline stage.

Stage in `businessStatus`, source channel and estimated value (Money) as extensions, `focus` -> the
Appointment once booked, owner a staff user; a lost lead has its reason in `statusReason` (CodeSystem
opportunity-lost-reason) and the stage it was lost from in the lost-at-stage extension.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from app.fhir.builders import (
    code_in,
    coding,
    extension,
    extension_value,
    instant,
    meta_profile,
    now_utc,
    set_extension,
    set_task_owner,
    task_owner,
)
from app.fhir.canonical import (
    CS_LOST_REASON,
    CS_OPPORTUNITY_STAGE,
    CS_TASK_TYPE,
    EXT_ESTIMATED_VALUE,
    EXT_LOST_AT_STAGE,
    EXT_SOURCE_CHANNEL,
    PROFILE_OPPORTUNITY,
    TASK_TYPE_OPPORTUNITY,
)
from app.fhir.client import Resource
from app.fhir.dates import parse_datetime


class Stage(StrEnum):
    """Opportunity pipeline stages (CodeSystem opportunity-stage), in pipeline order."""

    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    BOOKED = "booked"
    WON = "won"
    LOST = "lost"


class LostReason(StrEnum):
    """Why a lead was lost (CodeSystem opportunity-lost-reason)."""

    NOT_INTERESTED = "not-interested"
    UNREACHABLE = "unreachable"
    PRICE = "price"
    CHOSE_ANOTHER_PROVIDER = "chose-another-provider"
    NO_SHOW = "no-show"
    CANCELLED_NOT_REBOOKED = "cancelled-not-rebooked"
    OTHER = "other"


OPEN_STAGES = (Stage.NEW, Stage.CONTACTED, Stage.QUALIFIED)
# The pipeline, in order (lost is off it): conversion is measured between neighbours.
PIPELINE = (Stage.NEW, Stage.CONTACTED, Stage.QUALIFIED, Stage.BOOKED, Stage.WON)
# Allowed moves: forward along the pipeline (booking may come at any open stage), won only from booked,
# lost from anywhere before won.
TRANSITIONS: dict[Stage, tuple[Stage, ...]] = {
    Stage.NEW: (Stage.CONTACTED, Stage.QUALIFIED, Stage.BOOKED, Stage.LOST),
    Stage.CONTACTED: (Stage.QUALIFIED, Stage.BOOKED, Stage.LOST),
    Stage.QUALIFIED: (Stage.BOOKED, Stage.LOST),
    Stage.BOOKED: (Stage.WON, Stage.LOST),
    Stage.WON: (),
    Stage.LOST: (),
}
# Task.status that goes with each stage.
TASK_STATUS = {
    Stage.NEW: "requested",
    Stage.CONTACTED: "in-progress",
    Stage.QUALIFIED: "in-progress",
    Stage.BOOKED: "in-progress",
    Stage.WON: "completed",
    Stage.LOST: "cancelled",
}
CURRENCY = "INR"


@dataclass(frozen=True)
class Opportunity:
    """An opportunity as the API shows it, read from any prm-opportunity Task (missing parts are None)."""

    id: str
    patient: str | None
    stage: Stage | None
    source: str | None
    appointment: str | None
    estimated_value: Decimal | None
    currency: str | None
    owner: str | None
    description: str | None
    created: datetime | None
    lost_reason: str | None
    lost_note: str | None
    lost_at_stage: str | None


def stage_of(task: Resource) -> Stage | None:
    """An opportunity's stage."""
    code = code_in(task.get("businessStatus"), CS_OPPORTUNITY_STAGE)
    return Stage(code) if code is not None and code in Stage.__members__.values() else None


def focus_of(task: Resource) -> str | None:
    """The `Appointment/id` the opportunity is about."""
    ref = (task.get("focus") or {}).get("reference")
    return str(ref) if ref else None


def opportunity_of(task: Resource) -> Opportunity:
    """Read an opportunity (valid FHIR written by anyone: every part may be missing)."""
    patient = str((task.get("for") or {}).get("reference", ""))
    money = extension_value(task, EXT_ESTIMATED_VALUE) or {}
    value = money.get("value")
    reason = task.get("statusReason") or {}
    return Opportunity(
        id=str(task.get("id")),
        patient=patient.removeprefix("Patient/") if patient.startswith("Patient/") else None,
        stage=stage_of(task),
        source=extension_value(task, EXT_SOURCE_CHANNEL),
        appointment=focus_of(task),
        estimated_value=Decimal(str(value)) if value is not None else None,
        currency=money.get("currency"),
        owner=task_owner(task),
        description=task.get("description"),
        created=parse_datetime(task.get("authoredOn")),
        lost_reason=code_in(reason, CS_LOST_REASON),
        lost_note=reason.get("text"),
        lost_at_stage=extension_value(task, EXT_LOST_AT_STAGE),
    )


def set_value(task: Resource, value: Decimal) -> None:
    """Set the estimated value (in the clinic's currency)."""
    set_extension(task, EXT_ESTIMATED_VALUE, valueMoney={"value": float(value), "currency": CURRENCY})


def move(
    task: Resource,
    stage: Stage,
    *,
    at: datetime,
    focus: str | None = None,
    lost_reason: str | None = None,
    lost_note: str | None = None,
) -> None:
    """Move an opportunity to `stage` in place (focused on an appointment; a lost one with its reason)."""
    before = stage_of(task)
    task["businessStatus"] = {"coding": [coding(CS_OPPORTUNITY_STAGE, stage.value)]}
    task["status"] = TASK_STATUS[stage]
    task["lastModified"] = instant(at)
    if focus:
        task["focus"] = {"reference": focus}
    if stage is Stage.LOST:
        reason: Resource = {"coding": [coding(CS_LOST_REASON, lost_reason or LostReason.OTHER.value)]}
        if lost_note:
            reason["text"] = lost_note
        task["statusReason"] = reason
        if before is not None:
            set_extension(task, EXT_LOST_AT_STAGE, valueCode=before.value)


def with_stage(task: Resource, stage: Stage, *, focus: str | None = None) -> Resource:
    """A copy of an opportunity moved to `stage` (and focused on an appointment)."""
    updated = {k: v for k, v in task.items() if k != "meta"}
    updated["meta"] = {"profile": task.get("meta", {}).get("profile", [PROFILE_OPPORTUNITY])}
    move(updated, stage, at=now_utc(), focus=focus)
    return updated


def opportunity_resource(
    *,
    patient_ref: str,
    stage: Stage,
    source: str,
    description: str | None,
    focus: str | None = None,
    value: Decimal | None = None,
    owner: str | None = None,
    created: datetime | None = None,
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
        "authoredOn": instant(created or now_utc()),
    }
    if description:
        task["description"] = description
    if focus:
        task["focus"] = {"reference": focus}
    if value is not None:
        set_value(task, value)
    if owner:
        set_task_owner(task, owner)
    return task
