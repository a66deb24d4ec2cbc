"""The composition root: `build_services(settings, **overrides)` names the concrete adapters once, for
the API, the workers, the command-line tools and the benchmarks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import EllipsisType
from typing import TypeVar

import structlog
from fastapi import APIRouter

from adapters.clock import SystemClock
from adapters.llm.fallback import FallbackExtractor
from adapters.llm.offline import OfflineExtractor
from adapters.llm.redact import PhiStaysLocal
from adapters.redis_events import RedisEventBus
from adapters.redis_ratelimit import RedisRateLimiter
from adapters.redis_state import RedisStateStore
from adapters.routing_messenger import ChannelMessenger
from adapters.sandbox.media import SandboxMediaFetcher
from adapters.sandbox.messenger import SandboxMessenger
from adapters.smtp.messenger import SmtpMessenger
from adapters.speech.pocketsphinx_transcriber import PocketsphinxTranscriber
from adapters.twilio import webhooks as twilio_webhooks
from adapters.twilio.media import TwilioMediaFetcher
from adapters.twilio.messenger import TwilioMessenger
from adapters.voice_agent import webhooks as voice_webhooks
from adapters.voice_agent.recordings import HttpRecordingFetcher
from app.assistant.memory import Sessions
from app.assistant.service import Assistant
from app.assistant.store import PlanStore
from app.config import Settings
from app.directory.index import DirectoryCache
from app.fhir.client import FhirClient
from app.ports.clock import Clock
from app.ports.events import EventBus
from app.ports.jobs import JobQueue
from app.ports.media import MediaFetcher
from app.ports.messaging import MessageChannel, Messenger
from app.ports.nlu import IntentExtractor
from app.ports.ratelimit import RateLimiter
from app.ports.speech import Transcriber, TranscriptionUnavailable
from app.ports.state import StateStore
from workers.queue import RqJobQueue

log = structlog.get_logger(__name__)

Closer = Callable[[], Awaitable[None]]
T = TypeVar("T")


@dataclass
class Services:
    """Everything a request, a job or a command runs on; `aclose()` releases what was built here."""

    settings: Settings
    clock: Clock
    fhir: FhirClient
    state: StateStore
    queue: JobQueue
    directory: DirectoryCache
    extractor: IntentExtractor
    transcriber: Transcriber | None
    messenger: Messenger
    rate_limiter: RateLimiter
    assistant: Assistant
    media: MediaFetcher
    events: EventBus
    closers: list[Closer] = field(default_factory=list, repr=False)
    # Downloads call recordings (PRM_VOICE_FETCH_RECORDINGS); None: recordings stay at their URL.
    recordings: MediaFetcher | None = None

    async def aclose(self) -> None:
        """Close the clients built for these services (overrides passed in are the caller's to close)."""
        for close in reversed(self.closers):
            await close()
        self.closers.clear()


def build_extractor(settings: Settings) -> IntentExtractor:
    """The offline extractor, or an OpenAI-compatible model (falling back to offline) when configured."""
    offline = OfflineExtractor()
    if settings.openai_api_key is None:
        return offline
    # Imported only when configured: the OpenAI SDK takes a second to import, for every process.
    from adapters.llm.openai_extractor import OpenAIExtractor

    llm = OpenAIExtractor(
        api_key=settings.openai_api_key.get_secret_value(),
        model=settings.openai_model,
        base_url=settings.openai_base_url,
        timeout_seconds=settings.openai_timeout_seconds,
    )
    remote: IntentExtractor = FallbackExtractor(llm, offline) if settings.llm_fallback_to_offline else llm
    return PhiStaysLocal(remote, offline) if settings.llm_phi == "offline" else remote


def build_transcriber(settings: Settings) -> Transcriber | None:
    """The configured speech engine, or None (interpret-audio then answers 501)."""
    if settings.transcription_engine == "openai":
        if settings.openai_api_key is None:
            log.warning("speech.engine.unavailable", engine="openai", reason="no PRM_OPENAI_API_KEY")
            return None
        from adapters.speech.openai_transcriber import OpenAITranscriber

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


def build_messenger(settings: Settings) -> Messenger:
    """The sandbox alone (nothing leaves), or Twilio for WhatsApp/SMS and SMTP for email as configured."""
    sandbox = SandboxMessenger()
    routes: dict[MessageChannel, Messenger] = dict.fromkeys(MessageChannel, sandbox)
    if settings.messaging_provider == "twilio":
        # Settings validation guarantees the account, token and WhatsApp sender.
        assert settings.twilio_account_sid and settings.twilio_auth_token
        twilio = TwilioMessenger(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            whatsapp_from=settings.twilio_whatsapp_from,
            sms_from=settings.twilio_sms_from,
            public_base_url=settings.public_base_url,
            list_picker_sids=settings.twilio_list_picker_sids,
            timeout_seconds=settings.messaging_timeout_seconds,
        )
        routes[MessageChannel.WHATSAPP] = routes[MessageChannel.SMS] = twilio
    if settings.smtp_host:
        assert settings.email_from
        routes[MessageChannel.EMAIL] = SmtpMessenger(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.email_from,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls,
            timeout_seconds=settings.messaging_timeout_seconds,
        )
    if all(messenger is sandbox for messenger in routes.values()):
        return sandbox  # the local stack and the tests read what it recorded (`.sent`)
    return ChannelMessenger(routes)


def build_media_fetcher(settings: Settings) -> MediaFetcher:
    """Twilio's media downloads with provider twilio; else the in-memory sandbox."""
    if settings.messaging_provider == "twilio":
        assert settings.twilio_account_sid and settings.twilio_auth_token
        return TwilioMediaFetcher(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            max_bytes=settings.max_media_bytes,
        )
    return SandboxMediaFetcher(max_bytes=settings.max_media_bytes)


def webhook_routers() -> list[APIRouter]:
    """The vendors' webhook routers (verify, parse, de-duplicate, enqueue), for app.main to mount."""
    return [twilio_webhooks.router, voice_webhooks.router]


def build_queue(settings: Settings) -> RqJobQueue:
    """The job queue adapter (rq on Redis) for these settings."""
    return RqJobQueue(
        settings.redis_url, queue_name=settings.queue_name, timeout_seconds=settings.redis_timeout_seconds
    )


def _closer_of(thing: object) -> Closer | None:
    close = getattr(thing, "aclose", None)
    return close if callable(close) else None


def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    fhir: FhirClient | None = None,
    state: StateStore | None = None,
    queue: JobQueue | None = None,
    extractor: IntentExtractor | None = None,
    transcriber: Transcriber | EllipsisType | None = ...,
    messenger: Messenger | None = None,
    rate_limiter: RateLimiter | None = None,
    media: MediaFetcher | None = None,
    events: EventBus | None = None,
    recordings: MediaFetcher | None = None,
) -> Services:
    """Build every service from settings; keyword overrides replace one part (tests, benches)."""
    closers: list[Closer] = []

    def owned(built: T) -> T:
        if (close := _closer_of(built)) is not None:
            closers.append(close)
        return built

    clock = clock or SystemClock()
    fhir = fhir or owned(
        FhirClient(
            settings.fhir_base_url,
            timeout_seconds=settings.fhir_timeout_seconds,
            connect_timeout_seconds=settings.fhir_connect_timeout_seconds,
        )
    )
    state = state or owned(
        RedisStateStore.from_url(settings.redis_url, timeout_seconds=settings.redis_timeout_seconds)
    )
    queue = queue or build_queue(settings)
    directory = DirectoryCache(fhir, default_timezone=settings.default_timezone)
    extractor = extractor or owned(build_extractor(settings))
    speech = owned(build_transcriber(settings)) if isinstance(transcriber, EllipsisType) else transcriber
    assistant = Assistant(
        fhir=fhir,
        directory=directory,
        extractor=extractor,
        transcriber=speech,
        plans=PlanStore(state),
        sessions=Sessions(state, ttl_seconds=settings.assistant_session_ttl_seconds),
        state=state,
        queue=queue,
        settings=settings,
        clock=clock,
    )
    return Services(
        settings=settings,
        clock=clock,
        fhir=fhir,
        state=state,
        queue=queue,
        directory=directory,
        extractor=extractor,
        transcriber=speech,
        messenger=messenger or owned(build_messenger(settings)),
        rate_limiter=rate_limiter
        or RedisRateLimiter(
            settings.redis_url,
            timeout_seconds=settings.redis_timeout_seconds,
            auth_failure_limit=settings.auth_failure_limit,
            per_key_limit=settings.rate_limit_per_key,
        ),
        assistant=assistant,
        media=media or owned(build_media_fetcher(settings)),
        events=events
        or owned(RedisEventBus.from_url(settings.redis_url, timeout_seconds=settings.redis_timeout_seconds)),
        closers=closers,
        recordings=recordings
        or (
            owned(HttpRecordingFetcher(max_bytes=settings.max_media_bytes))
            if settings.voice_fetch_recordings
            else None
        ),
    )
