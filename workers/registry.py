"""Every Job the workers run, mapped to its function beside its capability (`app/<capability>/jobs.py`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from app.changes import jobs as changes
from app.changes.registry import ChangeContext, registry, watched_types
from app.messaging import jobs as messaging
from app.ports.jobs import Job
from app.scheduling import jobs as scheduling
from app.services import Services

# A job gets the process's services and its payload (ids or small JSON, never PHI).
JobFunction = Callable[[Services, dict[str, Any]], Awaitable[object]]


async def _extend_slot_horizons(services: Services, payload: dict[str, Any]) -> object:
    return await scheduling.extend_slot_horizons(
        fhir=services.fhir, directory=services.directory, now=services.clock.now(), **payload
    )


async def _release_expired_holds(services: Services, payload: dict[str, Any]) -> object:
    return await scheduling.release_expired_holds(fhir=services.fhir, now=services.clock.now(), **payload)


def _change_context(services: Services) -> ChangeContext:
    return ChangeContext(
        fhir=services.fhir,
        queue=services.queue,
        state=services.state,
        now=services.clock.now(),
        default_timezone=services.settings.default_timezone,
    )


async def _handle_change(services: Services, payload: dict[str, Any]) -> object:
    return await changes.handle_change(
        **payload,
        context=_change_context(services),
        dedupe_ttl_seconds=services.settings.change_feed_dedupe_ttl_seconds,
    )


async def _sweep_changes(services: Services, payload: dict[str, Any]) -> object:
    settings = services.settings
    return await changes.sweep_changes(
        context=_change_context(services),
        types=watched_types(registry, settings.change_feed_types),
        overlap_seconds=settings.change_feed_overlap_seconds,
        lookback_seconds=settings.change_feed_lookback_seconds,
        dedupe_ttl_seconds=settings.change_feed_dedupe_ttl_seconds,
        **payload,
    )


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


JOBS: dict[Job, JobFunction] = {
    Job.EXTEND_SLOT_HORIZONS: _extend_slot_horizons,
    Job.RELEASE_EXPIRED_HOLDS: _release_expired_holds,
    Job.HANDLE_CHANGE: _handle_change,
    Job.SWEEP_CHANGES: _sweep_changes,
    Job.SEND_MESSAGE: _send_message,
    Job.REQUEUE_PENDING_SENDS: _requeue_pending_sends,
}
