"""Outreach API: the waitlist, at-risk appointments, care gaps."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from app.deps import AppSettings, Fhir, Now
from app.directory.deps import Directory
from app.errors import Invalid, error_responses
from app.inputs import Instant, PathId, QueryId
from app.outreach import care_gaps, risk, waitlist
from app.outreach.resources import entry_of
from app.outreach.schemas import AtRiskOut, CareGapOut, GapOut, WaitlistIn, WaitlistOut
from app.security import StaffUser
from app.vocabulary import Channel

router = APIRouter(prefix="/api/v1", tags=["outreach"])


@router.post(
    "/waitlist",
    status_code=201,
    response_model=WaitlistOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def join_waitlist(
    body: WaitlistIn, fhir: Fhir, directory: Directory, now: Now, principal: StaffUser
) -> WaitlistOut:
    """Put a patient on the waitlist; a freed slot that suits is offered to them in queue order."""
    stored = await waitlist.join(
        fhir,
        directory,
        patient_id=body.patient,
        specialty=body.specialty,
        practitioner_id=body.practitioner,
        start=body.start,
        end=body.end,
        part_of_day=body.part_of_day,
        channel=Channel.DASHBOARD,
        actor=principal.actor(),
        now=now,
    )
    return WaitlistOut.of(entry_of(stored))


@router.get("/waitlist", response_model=list[WaitlistOut], responses=error_responses(401, 403, 422))
async def list_waitlist(
    fhir: Fhir, _: StaffUser, patient: QueryId = None, specialty: str | None = None
) -> list[WaitlistOut]:
    """Who is waiting, first come first (optionally one patient's entries, or one department's)."""
    return [WaitlistOut.of(e) for e in await waitlist.entries(fhir, patient_id=patient, specialty=specialty)]


@router.post(
    "/waitlist/{entry_id}/cancel", response_model=WaitlistOut, responses=error_responses(401, 403, 404, 409)
)
async def cancel_waitlist(entry_id: PathId, fhir: Fhir, principal: StaffUser) -> WaitlistOut:
    """Take an entry off the waitlist."""
    return WaitlistOut.of(entry_of(await waitlist.cancel(fhir, entry_id=entry_id, actor=principal.actor())))


@router.get("/appointments/at-risk", response_model=list[AtRiskOut], responses=error_responses(401, 403, 422))
async def appointments_at_risk(
    fhir: Fhir,
    settings: AppSettings,
    now: Now,
    _: StaffUser,
    start: Instant | None = None,
    end: Instant | None = None,
    min_score: Annotated[float, Query(ge=0, le=1)] = risk.HIGH_RISK,
) -> list[AtRiskOut]:
    """Booked appointments (default: the next 7 days) by no-show risk, riskiest first, each with its factors."""
    start = start or now
    end = end or start + timedelta(days=7)
    if end <= start:
        raise Invalid("end", "end must be after start")
    tz = ZoneInfo(settings.default_timezone)
    found = await risk.at_risk(fhir, start=start, end=end, now=now, tz=tz, threshold=min_score)
    return [AtRiskOut.of(r) for r in found]


@router.get("/care-gaps", response_model=list[CareGapOut], responses=error_responses(401, 403))
async def list_care_gaps(fhir: Fhir, now: Now, _: StaffUser) -> list[CareGapOut]:
    """Each care-gap rule of the project data and the patients it finds today."""
    found = []
    for rule in care_gaps.load_rules():
        gaps = await care_gaps.find_gaps(fhir, rule, now=now)
        patients = [GapOut(patient=g.patient_id, since=g.since, anchor=g.anchor) for g in gaps]
        found.append(CareGapOut(rule=rule.id, title=rule.title, days=rule.days, patients=patients))
    return found
