"""Automatic pipeline moves from appointments, whoever wrote them (the API, the assistant, an EHR, a
script into HAPI): booked -> the patient's lead is 'booked' (created if none is open), fulfilled ->
'won', cancelled and not rebooked within N days -> 'lost' (jobs.py). Every move is idempotent: an opportunity
already focused on the appointment (the assistant books and advances the lead in one transaction) is
the one, and a repeated change finds it there."""

from __future__ import annotations

from datetime import datetime

import structlog

from app.errors import Conflict
from app.fhir.builders import Actor, AgentKind
from app.fhir.canonical import CS_OPPORTUNITY_STAGE
from app.fhir.client import FhirClient, Resource
from app.fhir.errors import FhirNotFound
from app.fhir.records import create_with_provenance, update_edited
from app.opportunities import resources as res
from app.opportunities.resources import Stage
from app.opportunities.service import OPPORTUNITY_CODE, open_opportunity
from app.opportunities.value import appointment_fee
from app.scheduling.resources import channel_of, participant, rescheduled_from

log = structlog.get_logger(__name__)

PIPELINE_ACTOR = Actor(kind=AgentKind.SYSTEM)
# Written straight into HAPI without a booking channel: it came from outside the PRM.
DEFAULT_SOURCE = "ehr"


def busy(task: Resource) -> Conflict:
    """The error of a lead that kept changing under a move."""
    return Conflict(f"Opportunity {task.get('id')!r} kept changing", code="opportunity_busy")


async def focused_on(fhir: FhirClient, appointment_ref: str) -> Resource | None:
    """The opportunity about an appointment."""
    found = await fhir.search("Task", {"code": OPPORTUNITY_CODE, "focus": appointment_ref}, limit=1)
    return found[0] if found else None


async def _rebooked_lead(fhir: FhirClient, patient_id: str) -> Resource | None:
    """The patient's 'booked' lead whose appointment was cancelled (a booking now is its rebooking)."""
    leads = await fhir.search(
        "Task",
        {
            "patient": f"Patient/{patient_id}",
            "code": OPPORTUNITY_CODE,
            "business-status": f"{CS_OPPORTUNITY_STAGE}|{Stage.BOOKED.value}",
            "_sort": "-_lastUpdated",
        },
        limit=20,
    )
    for lead in leads:
        focus = res.focus_of(lead) or ""
        try:
            appointment = await fhir.read("Appointment", focus.removeprefix("Appointment/"))
        except FhirNotFound:
            continue
        if appointment.get("status") == "cancelled":
            return lead
    return None


async def on_booked(fhir: FhirClient, appointment: Resource, *, now: datetime) -> Resource | None:
    """The appointment's lead at 'booked' (or beyond): found, advanced, re-pointed or created."""
    ref = f"Appointment/{appointment['id']}"
    patient_id = participant(appointment, "Patient")
    if patient_id is None:
        return None
    lead = await focused_on(fhir, ref)
    if lead is None:
        old = rescheduled_from(appointment)
        lead = (
            (await focused_on(fhir, old) if old else None)
            or await open_opportunity(fhir, patient_id=patient_id)
            or await _rebooked_lead(fhir, patient_id)
        )
    # The fee takes a few reads: only for a new lead or one without a value.
    valued = lead is not None and res.opportunity_of(lead).estimated_value is not None
    fee = None if valued else await appointment_fee(fhir, appointment)
    if lead is None:
        task = res.opportunity_resource(
            patient_ref=f"Patient/{patient_id}",
            stage=Stage.BOOKED,
            source=channel_of(appointment) or DEFAULT_SOURCE,
            description=None,
            focus=ref,
            value=fee,
            created=now,
        )
        created = await create_with_provenance(
            fhir,
            task,
            actors=[PIPELINE_ACTOR],
            activity="opportunity.booked",
            if_none_exist={"code": OPPORTUNITY_CODE, "focus": ref},
        )
        log.info("opportunity.booked", opportunity=f"Task/{created['id']}", appointment=ref, created=True)
        return created

    def book(task: Resource) -> bool:
        stage = res.stage_of(task)
        changed = False
        if stage in res.OPEN_STAGES or (stage is Stage.BOOKED and res.focus_of(task) != ref):
            res.move(task, Stage.BOOKED, at=now, focus=ref)
            changed = True
        if fee is not None and res.opportunity_of(task).estimated_value is None:
            res.set_value(task, fee)
            changed = True
        return changed

    updated = await update_edited(
        fhir, lead, book, on_conflict=busy(lead), actors=[PIPELINE_ACTOR], activity="opportunity.booked"
    )
    log.info("opportunity.booked", opportunity=f"Task/{updated['id']}", appointment=ref, created=False)
    return updated


async def on_fulfilled(fhir: FhirClient, appointment: Resource, *, now: datetime) -> Resource | None:
    """The visit happened: the appointment's lead is 'won'."""
    lead = await on_booked(fhir, appointment, now=now)
    if lead is None:
        return None

    def win(task: Resource) -> bool:
        if res.stage_of(task) is not Stage.BOOKED:
            return False
        res.move(task, Stage.WON, at=now)
        return True

    updated = await update_edited(
        fhir, lead, win, on_conflict=busy(lead), actors=[PIPELINE_ACTOR], activity="opportunity.won"
    )
    log.info(
        "opportunity.won", opportunity=f"Task/{updated['id']}", appointment=f"Appointment/{appointment['id']}"
    )
    return updated
