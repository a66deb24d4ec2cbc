"""Campaign use cases: create (checked against the template catalog), read, pause, resume, cancel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, time
from zoneinfo import ZoneInfo

import structlog

from app.campaigns import runs
from app.campaigns.analytics import Report, report
from app.campaigns.resources import (
    FINISHED,
    WEEKDAYS,
    Campaign,
    Run,
    Schedule,
    Status,
    Variant,
    campaign_of,
    campaign_resource,
    run_of,
)
from app.errors import Conflict, Invalid, NotFound
from app.fhir.builders import Actor
from app.fhir.canonical import PROFILE_CAMPAIGN, PROFILE_CAMPAIGN_RUN
from app.fhir.client import FhirClient, Resource
from app.fhir.records import create_with_provenance, page_of, require_kind
from app.messaging import catalog
from app.messaging.service import MESSAGE_CHANNELS
from app.ports.jobs import Job, JobQueue
from app.segments import service as segments
from app.vocabulary import ContactChannel

log = structlog.get_logger(__name__)

# Filled per recipient from their record; a campaign gives every other variable of its template.
PER_PATIENT = ("patient_name",)
DEFAULT_ATTRIBUTION_DAYS = 14


def _is_campaign(resource: Resource) -> bool:
    return PROFILE_CAMPAIGN in (resource.get("meta") or {}).get("profile", [])


async def get(fhir: FhirClient, campaign_id: str) -> Campaign:
    """A campaign; NotFound for an unknown id (or a CommunicationRequest that is not a campaign)."""
    resource = await require_kind(
        fhir, "CommunicationRequest", campaign_id, what="Campaign", kind=_is_campaign
    )
    return campaign_of(resource)


def check_variant(
    variant: Variant,
    *,
    index: int,
    channel: str,
    languages: Sequence[str],
    content_sids: Mapping[str, str],
) -> None:
    """A variant's template exists, goes on the channel, has the languages and gets every variable; on
    WhatsApp (a campaign starts the conversation: outside the session window) it needs an approved
    template (ContentSid) in every language it may be sent in."""
    where = f"variants.{index}"
    try:
        template = catalog.template(variant.template)
    except NotFound:
        raise Invalid(f"{where}.template", f"no message template is named {variant.template!r}") from None
    if channel not in template.channels:
        sent_on = ", ".join(c.value for c in template.channels)
        raise Invalid("channel", f"template {template.name} is sent on {sent_on}, not {channel}")
    for language in languages:
        if language not in catalog.LANGUAGES:
            raise Invalid("languages", f"template {template.name} has no {language!r} translation")
    for name in PER_PATIENT:
        if name in variant.variables:
            raise Invalid(f"{where}.variables.{name}", "is filled in for each patient")
    sample = {**variant.variables, **{n: "x" for n in PER_PATIENT if n in template.variables}}
    try:
        catalog.render(template.name, language=catalog.DEFAULT_LANGUAGE, variables=sample)
    except Invalid as exc:
        raise Invalid(f"{where}.{_field(exc)}", exc.message) from None
    if channel == ContactChannel.WHATSAPP:
        used = sorted({*(languages or catalog.LANGUAGES), catalog.DEFAULT_LANGUAGE})
        sids = {
            lang: catalog.render(
                template.name, language=lang, variables=sample, content_sids=content_sids
            ).content_sid
            for lang in used
        }
        if missing := [lang for lang, sid in sids.items() if sid is None]:
            raise Invalid(
                f"{where}.template",
                f"template {template.name} has no approved WhatsApp template (ContentSid) in {', '.join(missing)}",
            )


def _field(exc: Invalid) -> str:
    fields = exc.details.get("fields") or [{}]
    return str(fields[0].get("field", "variables"))


async def create(
    fhir: FhirClient,
    queue: JobQueue,
    *,
    name: str,
    segment_id: str,
    channel: str,
    variants: Sequence[Variant],
    split_b: int,
    languages: Sequence[str],
    schedule: Schedule,
    start: datetime | None,
    end: datetime | None,
    weekdays: Sequence[str],
    window: tuple[time, time] | None,
    attribution_days: int,
    content_sids: Mapping[str, str],
    actor: Actor,
    now: datetime,
    tz: ZoneInfo,
) -> Campaign:
    """Save a campaign (422 before anything is written when it cannot be sent); a campaign due now starts."""
    if channel not in MESSAGE_CHANNELS:
        raise Invalid("channel", f"campaigns go on {', '.join(MESSAGE_CHANNELS)}, not {channel}")
    for index, variant in enumerate(variants):
        check_variant(variant, index=index, channel=channel, languages=languages, content_sids=content_sids)
    if len(variants) > 1 and not 0 < split_b < 100:
        raise Invalid("split_b", "with two variants, between 1 and 99 percent go to variant B")
    if unknown := sorted(set(weekdays) - set(WEEKDAYS)):
        raise Invalid("weekdays", f"unknown weekdays {', '.join(unknown)}")
    if weekdays and schedule is not Schedule.WEEKLY:
        raise Invalid("weekdays", "only weekly campaigns run on weekdays")
    start = start or now
    if end is not None and end <= start:
        raise Invalid("end", "must be after start")
    try:
        await segments.get(fhir, segment_id)
    except NotFound as exc:
        raise Invalid("segment", exc.message) from None
    campaign = Campaign(
        id="",
        name=name,
        status=Status.ACTIVE,
        channel=channel,
        segment_id=segment_id,
        variants=tuple(variants),
        split_b=split_b if len(variants) > 1 else 0,
        languages=tuple(languages),
        schedule=schedule,
        start=start,
        end=end,
        weekdays=tuple(weekdays),
        window_start=window[0] if window else None,
        window_end=window[1] if window else None,
        attribution_days=attribution_days,
        created=now,
    )
    stored = await create_with_provenance(
        fhir, campaign_resource(campaign), actors=[actor], activity="campaign.create"
    )
    created = replace(campaign, id=str(stored["id"]))
    log.info("campaign.created", campaign=f"CommunicationRequest/{created.id}", segment=f"Group/{segment_id}")
    await runs.open_due_run(fhir, queue, created, now=now, tz=tz)
    return created


async def listed(fhir: FhirClient, *, page: int, count: int) -> tuple[list[Campaign], bool]:
    """Campaigns, newest first, one page; and whether another follows."""
    found, more = await page_of(
        fhir,
        "CommunicationRequest",
        [("_profile", PROFILE_CAMPAIGN), ("_sort", "-_lastUpdated")],
        page=page,
        count=count,
    )
    return [campaign_of(r) for r in found], more


async def runs_of(fhir: FhirClient, campaign_id: str) -> list[Run]:
    """A campaign's runs, oldest first."""
    found = await fhir.search(
        "CommunicationRequest",
        [
            ("_profile", PROFILE_CAMPAIGN_RUN),
            ("based-on", f"CommunicationRequest/{campaign_id}"),
            ("_sort", "occurrence"),
        ],
    )
    return [run_of(r) for r in found]


async def pause(fhir: FhirClient, *, campaign_id: str, actor: Actor) -> Campaign:
    """Stop sending until resumed (the batches already prepared go out; the rest wait)."""
    campaign = await _changeable(fhir, campaign_id, "paused")
    if campaign.status == Status.PAUSED:
        return campaign
    return await _move(fhir, campaign, Status.PAUSED, actor=actor)


async def resume(
    fhir: FhirClient, queue: JobQueue, *, campaign_id: str, actor: Actor, now: datetime
) -> Campaign:
    """Send again: the runs in progress carry on with the members not messaged yet."""
    campaign = await _changeable(fhir, campaign_id, "resumed")
    if campaign.status == Status.ACTIVE:
        return campaign
    resumed = await _move(fhir, campaign, Status.ACTIVE, actor=actor)
    pass_ = f"r{int(now.timestamp())}"
    for run in await runs_of(fhir, campaign_id):
        if run.status == "active":
            await queue.enqueue(
                Job.DISPATCH_CAMPAIGN_RUN,
                runs.dispatch_payload(run.id, pass_=pass_),
                job_id=runs.dispatch_id(run.id, pass_=pass_),
            )
    return resumed


async def cancel(fhir: FhirClient, *, campaign_id: str, actor: Actor) -> Campaign:
    """Stop for good: no further batch is prepared and the runs in progress end (revoked)."""
    campaign = await _changeable(fhir, campaign_id, "cancelled")
    cancelled = await _move(fhir, campaign, Status.CANCELLED, actor=actor)
    for run in await runs_of(fhir, campaign_id):
        await runs.set_status(fhir, run.id, "revoked", expect=("active",), actor=actor)
    return cancelled


async def _changeable(fhir: FhirClient, campaign_id: str, verb: str) -> Campaign:
    campaign = await get(fhir, campaign_id)
    if campaign.status in FINISHED:
        state = "completed" if campaign.status == Status.COMPLETED else "cancelled"
        raise Conflict(f"Campaign {campaign_id!r} is {state}: it cannot be {verb}", status=campaign.status)
    return campaign


async def _move(fhir: FhirClient, campaign: Campaign, status: Status, *, actor: Actor) -> Campaign:
    expect = tuple(s.value for s in Status if s not in FINISHED)
    stored = await runs.set_status(fhir, campaign.id, status.value, expect=expect, actor=actor)
    moved = campaign_of(stored)
    if moved.status != status:
        raise Conflict(f"Campaign {campaign.id!r} is {moved.status} now", status=moved.status)
    log.info("campaign.status", campaign=f"CommunicationRequest/{campaign.id}", status=status.value)
    return moved


async def analytics(fhir: FhirClient, *, campaign_id: str) -> tuple[Campaign, Report]:
    """What the campaign's runs did, overall and per variant."""
    campaign = await get(fhir, campaign_id)
    run_ids = [run.id for run in await runs_of(fhir, campaign_id)]
    return campaign, await report(fhir, campaign, run_ids=run_ids)
