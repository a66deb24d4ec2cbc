"""Campaigns API: create, read, pause/resume/cancel, runs and analytics."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response

from app.campaigns import service
from app.campaigns.schemas import AnalyticsOut, CampaignIn, CampaignOut, RunOut
from app.deps import AppSettings, Fhir, Now, Queue
from app.errors import error_responses
from app.inputs import PathId
from app.security import StaffUser

router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"])


@router.post("", status_code=201, response_model=CampaignOut, responses=error_responses(401, 403, 422, 503))
async def create_campaign(
    body: CampaignIn, fhir: Fhir, queue: Queue, settings: AppSettings, now: Now, principal: StaffUser
) -> CampaignOut:
    """Save a campaign; a template missing a variable, a channel or language it lacks, or an unknown
    segment is refused (422) before anything is written. One due now starts at once."""
    campaign = await service.create(
        fhir,
        queue,
        name=body.name,
        segment_id=body.segment,
        channel=body.channel,
        variants=body.variant_list(),
        split_b=body.split_b,
        languages=body.languages,
        schedule=body.schedule,
        start=body.start,
        end=body.end,
        weekdays=body.weekdays,
        window=(body.window.start, body.window.end) if body.window else None,
        attribution_days=body.attribution_days,
        content_sids=settings.twilio_content_sids,
        actor=principal.actor(),
        now=now,
        tz=ZoneInfo(settings.default_timezone),
    )
    return CampaignOut.of(campaign)


@router.get("", response_model=list[CampaignOut], responses=error_responses(401, 403))
async def list_campaigns(
    fhir: Fhir,
    _: StaffUser,
    response: Response,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    count: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[CampaignOut]:
    """Campaigns, newest first (header X-Has-More: whether another page follows)."""
    found, more = await service.listed(fhir, page=page, count=count)
    response.headers["X-Has-More"] = "true" if more else "false"
    return [CampaignOut.of(c) for c in found]


@router.get("/{campaign_id}", response_model=CampaignOut, responses=error_responses(401, 403, 404))
async def get_campaign(campaign_id: PathId, fhir: Fhir, _: StaffUser) -> CampaignOut:
    """A campaign."""
    return CampaignOut.of(await service.get(fhir, campaign_id))


@router.get("/{campaign_id}/runs", response_model=list[RunOut], responses=error_responses(401, 403, 404))
async def campaign_runs(campaign_id: PathId, fhir: Fhir, _: StaffUser) -> list[RunOut]:
    """A campaign's runs, oldest first."""
    await service.get(fhir, campaign_id)
    return [RunOut(id=r.id, status=r.status, at=r.at) for r in await service.runs_of(fhir, campaign_id)]


@router.post(
    "/{campaign_id}/pause", response_model=CampaignOut, responses=error_responses(401, 403, 404, 409)
)
async def pause_campaign(campaign_id: PathId, fhir: Fhir, principal: StaffUser) -> CampaignOut:
    """Stop preparing messages until resumed; a completed or cancelled campaign: 409."""
    return CampaignOut.of(await service.pause(fhir, campaign_id=campaign_id, actor=principal.actor()))


@router.post(
    "/{campaign_id}/resume", response_model=CampaignOut, responses=error_responses(401, 403, 404, 409, 503)
)
async def resume_campaign(
    campaign_id: PathId, fhir: Fhir, queue: Queue, now: Now, principal: StaffUser
) -> CampaignOut:
    """Carry on: runs in progress go on with the patients not messaged yet; finished campaigns: 409."""
    resumed = await service.resume(fhir, queue, campaign_id=campaign_id, actor=principal.actor(), now=now)
    return CampaignOut.of(resumed)


@router.post(
    "/{campaign_id}/cancel", response_model=CampaignOut, responses=error_responses(401, 403, 404, 409)
)
async def cancel_campaign(campaign_id: PathId, fhir: Fhir, principal: StaffUser) -> CampaignOut:
    """Stop for good; a completed or cancelled campaign: 409."""
    return CampaignOut.of(await service.cancel(fhir, campaign_id=campaign_id, actor=principal.actor()))


@router.get("/{campaign_id}/analytics", response_model=AnalyticsOut, responses=error_responses(401, 403, 404))
async def campaign_analytics(campaign_id: PathId, fhir: Fhir, _: StaffUser) -> AnalyticsOut:
    """Targeted, suppressed by reason, sent, delivered, read, replied and booked, overall and per variant."""
    campaign, report = await service.analytics(fhir, campaign_id=campaign_id)
    return AnalyticsOut.of(campaign, report)
