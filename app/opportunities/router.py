"""HTTP API of opportunities (leads) and the pipeline report (staff and admins)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from app.deps import AppSettings, Fhir, Now
from app.errors import error_responses
from app.inputs import USER_PATTERN, Instant, PathId, QueryId
from app.opportunities import service
from app.opportunities.pipeline import Interval
from app.opportunities.resources import Stage
from app.opportunities.schemas import OpportunityChangeIn, OpportunityIn, OpportunityOut, PipelineOut
from app.opportunities.service import OpportunityChanges, OpportunityFilter
from app.security import StaffUser
from app.vocabulary import SourceChannel

router = APIRouter(prefix="/api/v1/opportunities", tags=["opportunities"])

MAX_PAGE_SIZE = 100
_OWNER = Query(default=None, pattern=USER_PATTERN, description="A staff user, or `none` for unassigned leads")
_FROM = Query(default=None, description="Created at or after (ISO-8601 with offset)")
_TO = Query(default=None, description="Created before (ISO-8601 with offset)")


@router.post(
    "", status_code=201, response_model=OpportunityOut, responses=error_responses(401, 403, 404, 422, 503)
)
async def create_opportunity(
    body: OpportunityIn, fhir: Fhir, now: Now, principal: StaffUser
) -> OpportunityOut:
    """Open a lead at stage `new`."""
    task = await service.create_opportunity(
        fhir,
        patient_id=body.patient,
        description=body.description,
        source=body.source.value,
        owner=body.owner,
        value=body.estimated_value,
        specialty=body.specialty,
        department_id=body.department,
        actors=[principal.actor()],
        now=now,
    )
    return OpportunityOut.of(task)


@router.get("", response_model=list[OpportunityOut], responses=error_responses(401, 403, 422, 503))
async def list_opportunities(
    request: Request,
    response: Response,
    fhir: Fhir,
    _: StaffUser,
    patient: QueryId = None,
    stage: Stage | None = Query(default=None),
    owner: str | None = _OWNER,
    source: SourceChannel | None = Query(default=None),
    created_from: Instant | None = _FROM,
    created_to: Instant | None = _TO,
    page: int = Query(default=1, ge=1, le=1000),
    count: int = Query(default=20, ge=1, le=MAX_PAGE_SIZE),
) -> list[OpportunityOut]:
    """Leads, newest first; a `Link: <...>; rel="next"` header when more follow."""
    where = OpportunityFilter(
        patient_id=patient,
        stage=stage,
        owner=owner,
        source=source.value if source else None,
        created_from=created_from,
        created_to=created_to,
    )
    tasks, more = await service.list_opportunities(fhir, where=where, page=page, count=count)
    if more:
        response.headers["Link"] = f'<{request.url.include_query_params(page=page + 1)}>; rel="next"'
    return [OpportunityOut.of(t) for t in tasks]


@router.get("/pipeline", response_model=PipelineOut, responses=error_responses(401, 403, 422, 503))
async def pipeline(
    fhir: Fhir,
    settings: AppSettings,
    _: StaffUser,
    source: SourceChannel | None = Query(default=None),
    owner: str | None = _OWNER,
    start: Instant | None = Query(default=None, description="Leads created at or after"),
    end: Instant | None = Query(default=None, description="Leads created before"),
    interval: Interval = Query(default=Interval.MONTH, description="Periods of by_period (clinic time zone)"),
) -> PipelineOut:
    """Count and estimated value per stage, conversion between stages, by source channel and by period."""
    where = OpportunityFilter(
        owner=owner, source=source.value if source else None, created_from=start, created_to=end
    )
    report = await service.pipeline_report(
        fhir, where=where, interval=interval, timezone=settings.default_timezone
    )
    return PipelineOut.of(report)


@router.get(
    "/{opportunity_id}", response_model=OpportunityOut, responses=error_responses(401, 403, 404, 422, 503)
)
async def get_opportunity(opportunity_id: PathId, fhir: Fhir, _: StaffUser) -> OpportunityOut:
    """One lead."""
    return OpportunityOut.of(await service.get_opportunity(fhir, opportunity_id))


@router.patch(
    "/{opportunity_id}",
    response_model=OpportunityOut,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def change_opportunity(
    opportunity_id: PathId, body: OpportunityChangeIn, fhir: Fhir, now: Now, principal: StaffUser
) -> OpportunityOut:
    """Move along the pipeline (409 `invalid_transition` lists the allowed stages; lost needs
    `lost_reason`), or change owner, estimated value, description or appointment."""
    changes = OpportunityChanges(
        stage=body.stage,
        lost_reason=body.lost_reason,
        lost_note=body.lost_note,
        appointment_id=body.appointment,
        owner=body.owner,
        value=body.estimated_value,
        description=body.description,
    )
    task = await service.change_opportunity(
        fhir, opportunity_id=opportunity_id, changes=changes, actor=principal.actor(), now=now
    )
    return OpportunityOut.of(task)
