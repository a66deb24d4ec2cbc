"""Every Job the workers run, mapped to its function beside its capability (`app/<capability>/jobs.py`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from app.analytics import jobs as analytics
from app.bot import jobs as bot
from app.bot.turn import Bot
from app.calls import jobs as calls
from app.calls.rules import CallRules
from app.campaigns import jobs as campaigns
from app.changes import jobs as changes
from app.changes.registry import ChangeContext, registry, watched_types
from app.journeys import jobs as journeys
from app.messaging import inbound, reminders
from app.messaging import jobs as messaging
from app.opportunities import jobs as opportunities
from app.outreach import jobs as outreach
from app.outreach.new_slots import offer_new_slots
from app.ports.inbound import DeliveryReport, InboundMessage
from app.ports.jobs import Job
from app.scheduling import jobs as scheduling
from app.services import Services
from app.tickets import jobs as tickets

# A job gets the process's services and its payload (ids or small JSON, never PHI).
JobFunction = Callable[[Services, dict[str, Any]], Awaitable[object]]


async def _extend_slot_horizons(services: Services, payload: dict[str, Any]) -> object:
    return await scheduling.extend_slot_horizons(
        fhir=services.fhir, directory=services.directory, now=services.clock.now(), **payload
    )


async def _release_expired_holds(services: Services, payload: dict[str, Any]) -> object:
    return await scheduling.release_expired_holds(fhir=services.fhir, now=services.clock.now(), **payload)


def change_context(services: Services) -> ChangeContext:
    """What change handlers run with, from the process's services (the workers' and tests' one way)."""
    return ChangeContext(
        fhir=services.fhir,
        queue=services.queue,
        state=services.state,
        now=services.clock.now(),
        events=services.events,
        default_timezone=services.settings.default_timezone,
        ticket_sla=services.settings.ticket_sla_minutes,
    )


async def _handle_change(services: Services, payload: dict[str, Any]) -> object:
    return await changes.handle_change(
        **payload,
        context=change_context(services),
        dedupe_ttl_seconds=services.settings.change_feed_dedupe_ttl_seconds,
    )


async def _sweep_changes(services: Services, payload: dict[str, Any]) -> object:
    settings = services.settings
    return await changes.sweep_changes(
        context=change_context(services),
        types=watched_types(registry, settings.change_feed_types),
        overlap_seconds=settings.change_feed_overlap_seconds,
        lookback_seconds=settings.change_feed_lookback_seconds,
        dedupe_ttl_seconds=settings.change_feed_dedupe_ttl_seconds,
        **payload,
    )


async def _receive_message(services: Services, payload: dict[str, Any]) -> object:
    message = InboundMessage.from_payload(payload)
    # The offline speech engine needs the clinic's names to recognise them; only voice notes need it.
    voice = any((m.content_type or "").startswith("audio/") for m in message.media)
    return await inbound.receive_message(
        services.fhir,
        services.state,
        services.queue,
        message=message,
        region=services.settings.default_phone_region,
        fetcher=services.media,
        transcriber=services.transcriber,
        hints=await services.assistant.hints() if voice else (),
        to_bot=services.settings.bot_enabled,
    )


async def _record_delivery_status(services: Services, payload: dict[str, Any]) -> object:
    return await inbound.record_delivery_status(services.fhir, report=DeliveryReport.from_payload(payload))


async def _send_message(services: Services, payload: dict[str, Any]) -> object:
    return await messaging.send_message(
        fhir=services.fhir,
        queue=services.queue,
        messenger=services.messenger,
        policy=messaging.send_policy(services.settings),
        now=services.clock.now(),
        **payload,
    )


async def _requeue_pending_sends(services: Services, payload: dict[str, Any]) -> object:
    return await messaging.requeue_pending_sends(
        fhir=services.fhir,
        queue=services.queue,
        policy=messaging.send_policy(services.settings),
        now=services.clock.now(),
        **payload,
    )


async def _send_due_reminders(services: Services, payload: dict[str, Any]) -> object:
    return await reminders.send_due_reminders(
        fhir=services.fhir,
        state=services.state,
        queue=services.queue,
        now=services.clock.now(),
        default_timezone=services.settings.default_timezone,
        **payload,
    )


async def _remind_high_risk(services: Services, payload: dict[str, Any]) -> object:
    return await outreach.remind_high_risk(
        fhir=services.fhir, now=services.clock.now(), timezone=services.settings.default_timezone, **payload
    )


async def _open_care_gap_tickets(services: Services, payload: dict[str, Any]) -> object:
    return await outreach.open_care_gap_tickets(
        fhir=services.fhir, now=services.clock.now(), sla=services.settings.ticket_sla_minutes, **payload
    )


async def _escalate_overdue_tickets(services: Services, payload: dict[str, Any]) -> object:
    return await tickets.escalate_overdue_tickets(
        fhir=services.fhir, events=services.events, now=services.clock.now(), **payload
    )


async def _lose_cancelled_opportunities(services: Services, payload: dict[str, Any]) -> object:
    return await opportunities.lose_cancelled_opportunities(
        fhir=services.fhir,
        now=services.clock.now(),
        rebook_days=services.settings.opportunity_rebook_days,
        **payload,
    )


async def _process_voice_event(services: Services, payload: dict[str, Any]) -> object:
    return await calls.process_voice_event(
        fhir=services.fhir,
        state=services.state,
        directory=services.directory,
        rules=CallRules.of(services.settings),
        recordings=services.recordings,
        now=services.clock.now(),
        **payload,
    )


async def _run_journey_actions(services: Services, payload: dict[str, Any]) -> object:
    return await journeys.run_journey_actions(
        fhir=services.fhir,
        state=services.state,
        queue=services.queue,
        now=services.clock.now(),
        default_timezone=services.settings.default_timezone,
        sla=services.settings.ticket_sla_minutes,
        **payload,
    )


async def _run_due_campaigns(services: Services, payload: dict[str, Any]) -> object:
    return await campaigns.run_due_campaigns(
        fhir=services.fhir,
        queue=services.queue,
        now=services.clock.now(),
        timezone=services.settings.default_timezone,
        **payload,
    )


async def _dispatch_campaign_run(services: Services, payload: dict[str, Any]) -> object:
    return await campaigns.dispatch_campaign_run(
        fhir=services.fhir,
        state=services.state,
        queue=services.queue,
        now=services.clock.now(),
        timezone=services.settings.default_timezone,
        pace=campaigns.pace_of(services.settings),
        **payload,
    )


async def _send_campaign_batch(services: Services, payload: dict[str, Any]) -> object:
    return await campaigns.send_campaign_batch(
        fhir=services.fhir,
        state=services.state,
        queue=services.queue,
        now=services.clock.now(),
        timezone=services.settings.default_timezone,
        window_hours=services.settings.session_window_hours,
        pace=campaigns.pace_of(services.settings),
        **payload,
    )


def bot_of(services: Services) -> Bot:
    """What the WhatsApp bot's turns run on, from the process's services."""
    settings = services.settings
    return Bot(
        fhir=services.fhir,
        state=services.state,
        queue=services.queue,
        directory=services.directory,
        extractor=services.extractor,
        region=settings.default_phone_region,
        tz=ZoneInfo(settings.default_timezone),
        dialogue_ttl_seconds=settings.bot_dialogue_ttl_seconds,
        search_days=settings.bot_search_days,
        ticket_sla=settings.ticket_sla_minutes,
        mrn_prefix=settings.mrn_prefix,
        window_hours=settings.session_window_hours,
    )


async def _answer_message(services: Services, payload: dict[str, Any]) -> object:
    return await bot.answer_message(bot_of(services), now=services.clock.now(), **payload)


async def _offer_new_slots(services: Services, payload: dict[str, Any]) -> object:
    return await offer_new_slots(change_context(services), **payload)


async def _start_intake(services: Services, payload: dict[str, Any]) -> object:
    return await bot.start_intake(bot_of(services), now=services.clock.now(), **payload)


async def _roll_up_analytics_day(services: Services, payload: dict[str, Any]) -> object:
    return await analytics.roll_up_day(
        fhir=services.fhir,
        state=services.state,
        now=services.clock.now(),
        timezone=services.settings.default_timezone,
        **payload,
    )


async def _roll_up_analytics(services: Services, payload: dict[str, Any]) -> object:
    return await analytics.roll_up_days(
        fhir=services.fhir,
        state=services.state,
        now=services.clock.now(),
        timezone=services.settings.default_timezone,
        **payload,
    )


JOBS: dict[Job, JobFunction] = {
    Job.EXTEND_SLOT_HORIZONS: _extend_slot_horizons,
    Job.RELEASE_EXPIRED_HOLDS: _release_expired_holds,
    Job.HANDLE_CHANGE: _handle_change,
    Job.SWEEP_CHANGES: _sweep_changes,
    Job.RECEIVE_MESSAGE: _receive_message,
    Job.RECORD_DELIVERY_STATUS: _record_delivery_status,
    Job.SEND_MESSAGE: _send_message,
    Job.REQUEUE_PENDING_SENDS: _requeue_pending_sends,
    Job.SEND_DUE_REMINDERS: _send_due_reminders,
    Job.REMIND_HIGH_RISK: _remind_high_risk,
    Job.OPEN_CARE_GAP_TICKETS: _open_care_gap_tickets,
    Job.ESCALATE_OVERDUE_TICKETS: _escalate_overdue_tickets,
    Job.LOSE_CANCELLED_OPPORTUNITIES: _lose_cancelled_opportunities,
    Job.PROCESS_VOICE_EVENT: _process_voice_event,
    Job.RUN_JOURNEY_ACTIONS: _run_journey_actions,
    Job.ANSWER_MESSAGE: _answer_message,
    Job.OFFER_NEW_SLOTS: _offer_new_slots,
    Job.START_INTAKE: _start_intake,
    Job.ROLL_UP_ANALYTICS_DAY: _roll_up_analytics_day,
    Job.ROLL_UP_ANALYTICS: _roll_up_analytics,
    Job.RUN_DUE_CAMPAIGNS: _run_due_campaigns,
    Job.DISPATCH_CAMPAIGN_RUN: _dispatch_campaign_run,
    Job.SEND_CAMPAIGN_BATCH: _send_campaign_batch,
}
