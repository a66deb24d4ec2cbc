"""Engagement API."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import Fhir, Now
from app.engagement import service
from app.engagement.schemas import EngagementOut
from app.errors import error_responses
from app.inputs import PathId
from app.security import StaffUser

router = APIRouter(prefix="/api/v1", tags=["engagement"])


@router.get(
    "/patients/{patient_id}/engagement",
    response_model=EngagementOut,
    responses=error_responses(401, 403, 404),
)
async def patient_engagement(patient_id: PathId, fhir: Fhir, now: Now, _: StaffUser) -> EngagementOut:
    """The patient's engagement (0-100) from visits, replies, confirmations and no-shows, with its factors."""
    return EngagementOut.of(await service.of_patient(fhir, patient_id=patient_id, now=now))
