"""Start-up of the change feed in the API: handlers loaded, Subscriptions ensured (HAPI may be late)."""

from __future__ import annotations

import structlog

from app.changes.registry import load_handlers, registry, watched_types
from app.changes.subscriptions import ensure_subscriptions
from app.config import Settings
from app.fhir.client import FhirClient
from app.fhir.errors import FhirError

log = structlog.get_logger(__name__)


async def start_change_feed(fhir: FhirClient, settings: Settings) -> None:
    """Load handlers; create or repair the Subscriptions unless disabled. HAPI down is not fatal:
    the sweep catches up and the next start (or `python -m app.changes subscribe`) repairs them."""
    load_handlers()
    if not settings.change_feed_subscribe_on_startup:
        return
    if not settings.change_feed_secret.get_secret_value():
        log.warning("changes.subscriptions.skipped", reason="PRM_CHANGE_FEED_SECRET is not set")
        return
    try:
        await ensure_subscriptions(
            fhir,
            watched_types(registry, settings.change_feed_types),
            endpoint=settings.change_feed_endpoint,
            secret=settings.change_feed_secret.get_secret_value(),
        )
    except FhirError as exc:
        log.warning("changes.subscriptions.deferred", error_type=type(exc).__name__)
