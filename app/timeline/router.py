"""HTTP API of a patient's whole story (staff): `GET /api/v1/patients/{id}/timeline?limit=&cursor=` and the
360, composed here, above every capability it shows (journeys included)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.consents.resources import newest_first
from app.consents.schemas import ConsentsOut
from app.deps import Fhir, Now
from app.engagement.schemas import EngagementOut
from app.errors import error_responses
from app.inputs import PathId
from app.intake.schemas import IntakeSummaryOut
from app.journeys import service as journeys
from app.journeys.schemas import JourneyOut
from app.opportunities.schemas import OpportunityOut
from app.patients import service as patients
from app.patients.schemas import CoverageOut, PatientOut
from app.scheduling.schemas import AppointmentOut
from app.security import StaffUser
from app.tickets.schemas import TicketSummary
from app.timeline import service
from app.timeline.schemas import Patient360Out, TimelineOut

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])


@router.get("/{patient_id}/timeline", response_model=TimelineOut, responses=error_responses(401, 404, 422))
async def timeline(
    patient_id: PathId,
    fhir: Fhir,
    _: StaffUser,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, Query(max_length=400, description="next_cursor of the previous page")
    ] = None,
) -> TimelineOut:
    """The patient's appointments, messages, calls, tickets and journey steps, newest first."""
    page = await service.patient_timeline(fhir, patient_id=patient_id, limit=limit, cursor=cursor)
    return TimelineOut.of(page)


@router.get("/{patient_id}/360", response_model=Patient360Out, responses=error_responses(401, 404, 422))
async def patient_360(patient_id: PathId, fhir: Fhir, now: Now, _: StaffUser) -> Patient360Out:
    """Demographics, appointments, communications, opportunities, tickets, consents and journeys in one call."""
    view = await patients.patient_360(fhir, patient_id=patient_id, now=now)
    return Patient360Out(
        patient=PatientOut.of(view.patient),
        upcoming_appointments=[AppointmentOut.of(a) for a in view.upcoming],
        past_appointments=[AppointmentOut.of(a) for a in view.past],
        communications=view.communications,
        opportunities=view.opportunities,
        tickets=view.tickets,
        ticket_summaries=[TicketSummary.of(t, now=now) for t in view.tickets],
        open_opportunity=OpportunityOut.of(view.open_opportunity) if view.open_opportunity else None,
        consents=view.consents,
        consent_decisions=ConsentsOut.of(newest_first(view.consents)),
        coverages=[CoverageOut.of(c) for c in view.coverages],
        timeline=f"/api/v1/patients/{patient_id}/timeline",
        intake=IntakeSummaryOut.of(view.intake),
        engagement=EngagementOut.of(view.engagement) if view.engagement else None,
        journeys=[JourneyOut.of(j) for j in await journeys.patient_journeys(fhir, patient_id=patient_id)],
    )
