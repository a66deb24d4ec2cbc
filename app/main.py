"""The composition root: builds clients and adapters, mounts routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from redis.asyncio import Redis

from adapters.llm.fallback import FallbackExtractor
from adapters.llm.offline import OfflineExtractor
from adapters.llm.openai_extractor import OpenAIExtractor
from adapters.speech.openai_transcriber import OpenAITranscriber
from adapters.speech.pocketsphinx_transcriber import PocketsphinxTranscriber
from app.admin.router import router as admin_router
from app.assistant.router import router as assistant_router
from app.assistant.service import Assistant
from app.assistant.store import PlanStore
from app.config import Settings, get_settings
from app.conformance import load_conformance
from app.directory.index import DirectoryCache
from app.directory.router import router as directory_router
from app.errors import install_error_handlers
from app.fhir.client import FhirClient
from app.fhir.errors import FhirUnavailable
from app.fhir_proxy.router import router as fhir_router
from app.health.router import router as health_router
from app.logging import configure_logging, log_requests
from app.patients.router import router as patients_router
from app.ports import IntentExtractor, JobQueue, Transcriber, TranscriptionUnavailable
from app.scheduling.router import router as scheduling_router
from workers.bootstrap import build_queue

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
CORS_EXPOSED_HEADERS = ["ETag", "Location", "Content-Location", "Last-Modified", "X-Request-ID"]


def build_extractor(settings: Settings) -> IntentExtractor:
    """The offline extractor, or an OpenAI-compatible model (falling back to offline) when configured."""
    offline = OfflineExtractor()
    if settings.openai_api_key is None:
        return offline
    llm = OpenAIExtractor(
        api_key=settings.openai_api_key.get_secret_value(),
        model=settings.openai_model,
        base_url=settings.openai_base_url,
        timeout_seconds=settings.openai_timeout_seconds,
    )
    return FallbackExtractor(llm, offline) if settings.llm_fallback_to_offline else llm


def build_transcriber(settings: Settings) -> Transcriber | None:
    """The configured speech engine, or None (interpret-audio then answers 501)."""
    if settings.transcription_engine == "openai":
        if settings.openai_api_key is None:
            log.warning("speech.engine.unavailable", engine="openai", reason="no PRM_OPENAI_API_KEY")
            return None
        return OpenAITranscriber(
            api_key=settings.openai_api_key.get_secret_value(),
            model=settings.openai_transcription_model,
            base_url=settings.openai_base_url,
            max_audio_seconds=settings.max_audio_seconds,
        )
    if settings.transcription_engine == "pocketsphinx":
        try:
            return PocketsphinxTranscriber(max_audio_seconds=settings.max_audio_seconds)
        except TranscriptionUnavailable:
            log.warning("speech.engine.unavailable", engine="pocketsphinx", reason="not installed")
    return None


async def _load_conformance(fhir: FhirClient, *, include_examples: bool) -> None:
    """Load the profiles into HAPI; if HAPI is not up yet the API still starts (and /ready says so)."""
    try:
        await load_conformance(fhir, include_examples=include_examples)
    except FhirUnavailable:
        log.warning("conformance.load.deferred", reason="fhir_unavailable")


def create_app(settings: Settings | None = None, *, queue: JobQueue | None = None) -> FastAPI:
    """Build the API; `settings` and `queue` default to the environment's."""
    settings = settings or get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        fhir = FhirClient(
            settings.fhir_base_url,
            timeout_seconds=settings.fhir_timeout_seconds,
            connect_timeout_seconds=settings.fhir_connect_timeout_seconds,
        )
        redis = Redis.from_url(
            settings.redis_url,
            socket_timeout=settings.redis_timeout_seconds,
            socket_connect_timeout=settings.redis_timeout_seconds,
        )
        app.state.settings = settings
        app.state.fhir = fhir
        app.state.redis = redis
        app.state.queue = queue or build_queue(settings)
        app.state.directory = DirectoryCache(fhir, default_timezone=settings.default_timezone)
        extractor, transcriber = build_extractor(settings), build_transcriber(settings)
        app.state.assistant = Assistant(
            fhir=fhir,
            directory=app.state.directory,
            extractor=extractor,
            transcriber=transcriber,
            plans=PlanStore(redis),
            settings=settings,
        )
        if settings.load_conformance_on_startup:
            # The examples are test data: production servers get the conformance resources only.
            await _load_conformance(fhir, include_examples=settings.environment != "production")
        log.info("app.started", environment=settings.environment)
        try:
            yield
        finally:
            for vendor in (extractor, transcriber):
                closer = getattr(vendor, "aclose", None)
                if closer is not None:
                    await closer()
            await fhir.aclose()
            await redis.aclose()

    app = FastAPI(
        title="PRM API",
        version="0.1.0",
        description=(
            "FHIR-native Patient Relationship Management. Every fact lives in HAPI FHIR; this API "
            "orchestrates it. Authenticate with `Authorization: Bearer <api key>`."
        ),
        lifespan=lifespan,
    )
    app.middleware("http")(log_requests)
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
    app.include_router(health_router)
    app.include_router(patients_router)
    app.include_router(directory_router)
    app.include_router(scheduling_router)
    app.include_router(assistant_router)
    app.include_router(admin_router)
    app.include_router(fhir_router)
    return app
