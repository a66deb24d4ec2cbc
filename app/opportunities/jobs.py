"""Opportunity background work: leads whose appointment was cancelled and never rebooked are lost."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from app.fhir.builders import instant
from app.fhir.canonical import CS_OPPORTUNITY_STAGE
from app.fhir.client import FhirClient, Resource
from app.fhir.dates import parse_datetime
from app.fhir.errors import FhirNotFound
from app.fhir.records import update_edited
from app.opportunities import resources as res
from app.opportunities.moves import PIPELINE_ACTOR, busy
from app.opportunities.resources import LostReason, Stage
from app.opportunities.service import OPPORTUNITY_CODE
from app.scheduling.resources import participant
from app.vocabulary import ACTIVE_APPOINTMENT_STATUSES

log = structlog.get_logger(__name__)


async def lose_cancelled_opportunities(
    *, fhir: FhirClient, now: datetime, rebook_days: int, patient_id: str | None = None
) -> int:
    """Leads 'booked' on an appointment cancelled over `rebook_days` ago, with no booking of the patient
    since, become 'lost' (cancelled-not-rebooked); only one patient's when named; how many."""
    params = {
        "code": OPPORTUNITY_CODE,
        "business-status": f"{CS_OPPORTUNITY_STAGE}|{Stage.BOOKED.value}",
        "focus:Appointment.status": "cancelled",
    }
    if patient_id:
        params["patient"] = f"Patient/{patient_id}"
    leads = await fhir.search("Task", params)
    lost = 0
    for lead in leads:
        if await _lose_if_stale(fhir, lead, now=now, rebook_days=rebook_days):
            lost += 1
    return lost


async def _lose_if_stale(fhir: FhirClient, lead: Resource, *, now: datetime, rebook_days: int) -> bool:
    focus = (res.focus_of(lead) or "").removeprefix("Appointment/")
    try:
        appointment = await fhir.read("Appointment", focus)
    except FhirNotFound:
        return False
    # R4 has no cancellation date: the cancelled version's time stands for it.
    cancelled = parse_datetime((appointment.get("meta") or {}).get("lastUpdated"))
    patient_id = participant(appointment, "Patient")
    if appointment.get("status") != "cancelled" or cancelled is None or patient_id is None:
        return False
    if now - cancelled < timedelta(days=rebook_days):
        return False
    rebooked = await fhir.count(
        "Appointment",
        {
            "patient": f"Patient/{patient_id}",
            "status": ",".join((*ACTIVE_APPOINTMENT_STATUSES, "fulfilled")),
            "_lastUpdated": f"ge{instant(cancelled)}",
        },
    )
    if rebooked:
        return False

    def lose(task: Resource) -> bool:
        if res.stage_of(task) is not Stage.BOOKED or res.focus_of(task) != f"Appointment/{focus}":
            return False
        res.move(task, Stage.LOST, at=now, lost_reason=LostReason.CANCELLED_NOT_REBOOKED.value)
        return True

    before = lead.get("meta", {}).get("versionId")
    updated = await update_edited(
        fhir, lead, lose, on_conflict=busy(lead), actors=[PIPELINE_ACTOR], activity="opportunity.lost"
    )
    if updated.get("meta", {}).get("versionId") == before:
        return False
    log.info("opportunity.lost", opportunity=f"Task/{lead['id']}", appointment=f"Appointment/{focus}")
    return True
