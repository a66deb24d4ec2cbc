"""HTTP composition: middleware, error handlers and routers; the lifespan builds the services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.admin.router import router as admin_router
from app.analytics.router import router as analytics_router
from app.assistant.router import router as assistant_router
from app.calls.router import router as voice_tools_router
from app.campaigns.router import router as campaigns_router
from app.changes.router import router as changes_router
from app.changes.startup import start_change_feed
from app.config import Settings, get_settings
from app.conformance import load_conformance
from app.consents.router import router as consents_router
from app.directory.router import router as directory_router
from app.documents.router import router as documents_router
from app.engagement.router import router as engagement_router
from app.errors import install_error_handlers
from app.fhir.client import FhirClient
from app.fhir.errors import FhirUnavailable
from app.fhir_proxy.router import router as fhir_router
from app.health.router import router as health_router
from app.inbox.router import router as inbox_router
from app.intake.router import router as intake_router
from app.integrations.router import router as integrations_router
from app.journeys.router import router as journeys_router
from app.limits import BodySizeLimit, rate_limited_response
from app.logging import RequestLog, configure_logging
from app.messaging.router import router as messaging_router
from app.openapi import document_common_errors
from app.opportunities.router import router as opportunities_router
from app.outreach.router import router as outreach_router
from app.patients.router import router as patients_router
from app.ports.ratelimit import RateLimited
from app.scheduling.router import practitioners_router
from app.scheduling.router import router as scheduling_router
from app.segments.router import router as segments_router
from app.services import build_services, webhook_routers
from app.tickets.router import router as tickets_router
from app.timeline.router import router as timeline_router

log = structlog.get_logger(__name__)

CORS_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "Content-Encoding",
    "Accept",
    "If-Match",
    "If-None-Exist",
    "If-None-Match",
    "If-Modified-Since",
    "Prefer",
    "X-Request-ID",
]
# A dashboard on another origin reads paging (X-Has-More, X-Next-Cursor, X-Total-Count) and back-off
# (Retry-After) from headers; the browser hides any header not listed here.
CORS_EXPOSED_HEADERS = [
    "ETag",
    "Location",
    "Content-Location",
    "Last-Modified",
    "X-Request-ID",
    "Link",
    "X-Has-More",
    "X-Next-Cursor",
    "X-Total-Count",
    "Retry-After",
]


async def _load_conformance(fhir: FhirClient, *, include_examples: bool) -> None:
    """Load the profiles into HAPI; if HAPI is not up yet the API still starts (and /ready says so)."""
    try:
        await load_conformance(fhir, include_examples=include_examples)
    except FhirUnavailable:
        log.warning("conformance.load.deferred", reason="fhir_unavailable")


def create_app(settings: Settings | None = None, **overrides: Any) -> FastAPI:
    """Build the API; `settings` default to the environment's, `overrides` replace parts of the
    services (see app.services.build_services: queue=, clock=, state= ...)."""
    settings = settings or get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings, **overrides)
        app.state.services = services
        if settings.load_conformance_on_startup:
            # The examples are test data: production servers get the conformance resources only.
            await _load_conformance(services.fhir, include_examples=settings.environment != "production")
        await start_change_feed(services.fhir, settings)
        log.info("app.started", environment=settings.environment)
        try:
            yield
        finally:
            await services.aclose()

    app = FastAPI(
        title="PRM API",
        version="0.1.0",
        description=(
            "FHIR-native Patient Relationship Management. Every fact lives in HAPI FHIR; this API "
            "orchestrates it. Authenticate with `Authorization: Bearer <api key>`."
        ),
        lifespan=lifespan,
    )
    # Pure ASGI middleware, outermost last: RequestLog sees every answer, the 413s included.
    app.add_middleware(
        BodySizeLimit,
        api_bytes=settings.max_body_bytes,
        fhir_bytes=settings.max_fhir_body_bytes,
        audio_bytes=settings.max_audio_bytes,
        document_bytes=settings.max_document_bytes,
    )
    app.add_middleware(RequestLog)
    if settings.cors_origins:
        # Added last, so outermost: preflights are answered without a key, and errors carry CORS headers.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=600,
        )
    install_error_handlers(app)
    app.add_exception_handler(RateLimited, rate_limited_response)
    app.add_exception_handler(RateLimited, rate_limited_response)
    app.include_router(health_router)
    app.include_router(patients_router)
    app.include_router(documents_router)
    app.include_router(intake_router)
    app.include_router(consents_router)
    app.include_router(directory_router)
    app.include_router(practitioners_router)
    # Before scheduling: /appointments/at-risk is not an appointment id.
    app.include_router(outreach_router)
    app.include_router(segments_router)
    app.include_router(campaigns_router)
    app.include_router(engagement_router)
    app.include_router(scheduling_router)
    app.include_router(assistant_router)
    app.include_router(voice_tools_router)
    app.include_router(messaging_router)
    app.include_router(inbox_router)
    app.include_router(tickets_router)
    app.include_router(opportunities_router)
    app.include_router(journeys_router)
    app.include_router(analytics_router)
    app.include_router(timeline_router)
    app.include_router(admin_router)
    app.include_router(integrations_router)
    app.include_router(fhir_router)
    app.include_router(changes_router)
    for webhooks in webhook_routers():
        app.include_router(webhooks)
    document_common_errors(app)
    return app
