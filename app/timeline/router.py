"""HTTP API of the timeline (staff): `GET /api/v1/patients/{id}/timeline?limit=&cursor=`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.deps import Fhir
from app.errors import error_responses
from app.inputs import PathId
from app.security import StaffUser
from app.timeline import service
from app.timeline.schemas import TimelineOut

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
