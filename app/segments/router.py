"""Segments API: saved patient filters, their members and counts."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response

from app.deps import AppSettings, Fhir, Now
from app.errors import error_responses
from app.inputs import PathId
from app.security import StaffUser
from app.segments import service
from app.segments.schemas import CountOut, CriteriaIn, MembersOut, SegmentIn, SegmentOut

router = APIRouter(prefix="/api/v1/segments", tags=["segments"])


@router.post("", status_code=201, response_model=SegmentOut, responses=error_responses(401, 403, 422))
async def create_segment(
    body: SegmentIn, fhir: Fhir, settings: AppSettings, now: Now, principal: StaffUser
) -> SegmentOut:
    """Save a segment; its search is checked by the FHIR server first (422 with its message)."""
    segment = await service.create(
        fhir,
        name=body.name,
        description=body.description,
        criteria=body.criteria.criteria(),
        actor=principal.actor(),
        now=now,
        tz=ZoneInfo(settings.default_timezone),
    )
    return SegmentOut.of(segment)


@router.get("", response_model=list[SegmentOut], responses=error_responses(401, 403))
async def list_segments(
    fhir: Fhir,
    _: StaffUser,
    response: Response,
    page: int = Query(default=1, ge=1, le=1000),
    count: int = Query(default=50, ge=1, le=200),
) -> list[SegmentOut]:
    """Saved segments, newest first (header X-Has-More: whether another page follows)."""
    found, more = await service.listed(fhir, page=page, count=count)
    response.headers["X-Has-More"] = "true" if more else "false"
    return [SegmentOut.of(s) for s in found]


@router.post("/preview", response_model=CountOut, responses=error_responses(401, 403, 422))
async def preview_segment(
    body: CriteriaIn, fhir: Fhir, settings: AppSettings, now: Now, _: StaffUser
) -> CountOut:
    """How many patients an unsaved definition selects now."""
    tz = ZoneInfo(settings.default_timezone)
    return CountOut(count=await service.check(fhir, body.criteria(), now=now, tz=tz))


@router.get("/{segment_id}", response_model=SegmentOut, responses=error_responses(401, 403, 404))
async def get_segment(segment_id: PathId, fhir: Fhir, _: StaffUser) -> SegmentOut:
    """A saved segment."""
    return SegmentOut.of(await service.get(fhir, segment_id))


@router.put("/{segment_id}", response_model=SegmentOut, responses=error_responses(401, 403, 404, 409, 422))
async def update_segment(
    segment_id: PathId, body: SegmentIn, fhir: Fhir, settings: AppSettings, now: Now, principal: StaffUser
) -> SegmentOut:
    """Replace a segment's name and definition."""
    segment = await service.update(
        fhir,
        segment_id=segment_id,
        name=body.name,
        description=body.description,
        criteria=body.criteria.criteria(),
        actor=principal.actor(),
        now=now,
        tz=ZoneInfo(settings.default_timezone),
    )
    return SegmentOut.of(segment)


@router.delete("/{segment_id}", status_code=204, responses=error_responses(401, 403, 404, 409))
async def delete_segment(segment_id: PathId, fhir: Fhir, _: StaffUser) -> Response:
    """Delete a segment that no campaign uses (409 otherwise)."""
    await service.delete(fhir, segment_id=segment_id)
    return Response(status_code=204)


@router.get("/{segment_id}/count", response_model=CountOut, responses=error_responses(401, 403, 404, 422))
async def count_segment(
    segment_id: PathId, fhir: Fhir, settings: AppSettings, now: Now, _: StaffUser
) -> CountOut:
    """How many patients a saved segment selects now."""
    tz = ZoneInfo(settings.default_timezone)
    return CountOut(count=await service.count(fhir, segment_id=segment_id, now=now, tz=tz))


@router.get("/{segment_id}/members", response_model=MembersOut, responses=error_responses(401, 403, 404, 422))
async def segment_members(
    segment_id: PathId,
    fhir: Fhir,
    settings: AppSettings,
    now: Now,
    _: StaffUser,
    page: int = Query(default=1, ge=1, le=10000),
    count: int = Query(default=100, ge=1, le=1000),
) -> MembersOut:
    """One page of the patients a saved segment selects now (ids, sorted)."""
    found, total = await service.members(
        fhir, segment_id=segment_id, page=page, count=count, now=now, tz=ZoneInfo(settings.default_timezone)
    )
    return MembersOut(segment=segment_id, total=total, page=page, count=count, members=found)
