"""The one place configuration is read: environment variables prefixed PRM_ (or a .env file)."""

from __future__ import annotations

import hashlib
import hmac
import re
import sys
from datetime import time
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal

from limits import parse as parse_rate_limit
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.ports.messaging import MAX_LIST_CHOICES

# Secrets that ship in .env.example and the local stack start with this prefix; they are refused
# outside development and test so a production deployment cannot run on them by accident.
PLACEHOLDER_SECRET_PREFIXES = ("dev-", "test-", "change-me", "changeme", "placeholder")
# A production API key must carry at least this much (a 32-character random key is ~190 bits).
MIN_PRODUCTION_KEY_CHARS = 32


class Role(StrEnum):
    """What an API key may do."""

    ADMIN = "admin"
    STAFF = "staff"
    INTEGRATION = "integration"


def sha256_hex(secret: str) -> str:
    """The SHA-256 of a key, as configured in `PRM_API_KEYS` (`{"sha256": ...}`)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKey(BaseModel):
    """An API key (plain, or only its SHA-256), the role it grants and the user it acts as."""

    model_config = ConfigDict(hide_input_in_errors=True)

    key: SecretStr | None = None
    sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-fA-F]{64}$", description="hex SHA-256 of the key, instead of `key`"
    )
    role: Role
    user: str = Field(min_length=1, description="Who acts with this key, e.g. 'reception@sunrise'")
    _digest: bytes = PrivateAttr(default=b"")

    @model_validator(mode="after")
    def _one_form(self) -> ApiKey:
        if (self.key is None) == (self.sha256 is None):
            raise ValueError(f"API key of {self.user!r}: give exactly one of 'key' or 'sha256'")
        if self.key is not None and not self.key.get_secret_value():
            raise ValueError(f"API key of {self.user!r} is empty")
        # Precomputed so that authentication hashes only the presented key.
        plain = self.key.get_secret_value() if self.key is not None else None
        self._digest = bytes.fromhex(sha256_hex(plain) if plain is not None else str(self.sha256))
        return self

    def matches(self, presented_digest: bytes) -> bool:
        """Whether a presented key's SHA-256 is this key's (constant time)."""
        return hmac.compare_digest(presented_digest, self._digest)

    @property
    def digest_hex(self) -> str:
        """This key's SHA-256 (hex): a stable id for rate limits, never the key itself."""
        return self._digest.hex()


def _default_dev_keys() -> list[ApiKey]:
    return [
        ApiKey(key=SecretStr("dev-admin-key"), role=Role.ADMIN, user="admin@dev"),
        ApiKey(key=SecretStr("dev-staff-key"), role=Role.STAFF, user="reception@dev"),
        ApiKey(key=SecretStr("dev-integration-key"), role=Role.INTEGRATION, user="ehr@dev"),
    ]


_DEV_KEY_DIGESTS = {sha256_hex(k.key.get_secret_value()) for k in _default_dev_keys() if k.key}


def _is_placeholder(secret: str) -> bool:
    return secret.strip().lower().startswith(PLACEHOLDER_SECRET_PREFIXES)


class Settings(BaseSettings):
    """Runtime configuration of the API and the workers."""

    # Validation errors must not quote the input: it holds the secrets.
    model_config = SettingsConfigDict(
        env_prefix="PRM_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    # No default: a deployment that forgets it must not silently run as development (fail closed).
    environment: Literal["development", "test", "production"]
    log_level: str = "INFO"
    log_json: bool = True

    # Public address of this API (FHIR links, webhook signatures). /fhir links use it unless the
    # client's Host names one of fhir_link_hosts (docs/fhir-endpoint.md, "Links").
    public_base_url: str = "http://127.0.0.1:8000"
    fhir_link_hosts: list[str] = Field(default_factory=lambda: ["localhost", "127.0.0.1", "[::1]"])
    # Browser origins (the dashboard) allowed by CORS on /api and /fhir; none by default.
    cors_origins: list[str] = Field(default_factory=list)

    fhir_base_url: str = "http://127.0.0.1:8080/fhir"
    fhir_timeout_seconds: float = Field(default=15.0, gt=0)
    fhir_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    # Load the project's profiles, code systems and search parameters into HAPI at start-up.
    load_conformance_on_startup: bool = True

    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_timeout_seconds: float = Field(default=2.0, gt=0)
    queue_name: str = "prm"

    # Unset: the built-in development keys in development, no keys at all elsewhere.
    api_keys: list[ApiKey] = Field(default_factory=list)

    # Request bodies: API JSON/form bodies, /fhir bodies (transactions). The audio upload gets
    # max_audio_bytes plus multipart overhead. Larger bodies are answered 413 before auth or parsing.
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    max_fhir_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    # Rate limits ("<count>/<second|minute|hour>", the `limits` library's notation) kept in Redis:
    # wrong API keys per client address (then every request from it is refused until the window
    # passes), and requests per API key.
    auth_failure_limit: str = "20/minute"
    rate_limit_per_key: str = "600/minute"

    # Assistant: an OpenAI-compatible model when a key is set, else the offline rule-based extractor.
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_timeout_seconds: float = Field(default=20.0, gt=0)
    # When the model refuses, answers malformed output, times out or is rate limited:
    # True falls back to the offline extractor, False answers 502 naming the failure.
    llm_fallback_to_offline: bool = True
    plan_ttl_seconds: int = Field(default=15 * 60, gt=0)
    # A staff user's assistant session (the last plan's patient, doctor, appointment for "her",
    # "same doctor", "that appointment") is forgotten after this long without an instruction.
    assistant_session_ttl_seconds: int = Field(default=30 * 60, gt=0)
    # What reaches a remote model: "redact" replaces phone numbers and known patient names with
    # placeholders (restored after extraction); "offline" reads any instruction holding such PHI with
    # the offline extractor, so no PHI leaves the PRM at all.
    llm_phi: Literal["redact", "offline"] = "redact"
    max_instruction_chars: int = Field(default=2000, gt=0)

    # Speech: "openai" (needs openai_api_key), "pocketsphinx" (offline, pip extra "speech") or "none".
    transcription_engine: Literal["openai", "pocketsphinx", "none"] = "pocketsphinx"
    openai_transcription_model: str = "whisper-1"
    max_audio_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_audio_seconds: float = Field(default=120.0, gt=0)

    # The clinic's defaults where a Location carries no time zone, and for phone numbers.
    default_timezone: str = "Asia/Kolkata"
    default_phone_region: str = "IN"

    # -- patients (docs/patients.md) ------------------------------------------------------------------
    # MRNs are "<prefix>-000123"; the prefix names the clinic organisation, so MRNs are unique per organisation.
    mrn_prefix: str = Field(default="PRM", pattern=r"^[A-Z][A-Z0-9]{1,7}$")
    # Uploaded patient documents (PDF, JPEG, PNG) larger than this are refused with 413.
    max_document_bytes: int = Field(default=10 * 1024 * 1024, gt=0)

    # -- outbound messages (adapters/twilio, adapters/smtp, adapters/sandbox) ------------------------
    # "sandbox" records messages and sends nothing (the local stack); "twilio" sends WhatsApp and SMS.
    messaging_provider: Literal["sandbox", "twilio"] = "sandbox"
    messaging_timeout_seconds: float = Field(default=10.0, gt=0)
    twilio_account_sid: str | None = None
    # Also verifies Twilio's webhook signatures; development gets the placeholder of DESIGN.md 6.2.
    twilio_auth_token: SecretStr | None = None
    twilio_whatsapp_from: str | None = None  # E.164, without "whatsapp:"
    twilio_sms_from: str | None = None  # E.164; unset: SMS is refused with provider twilio
    # Inbound media (WhatsApp images, PDFs, voice notes) larger than this are refused, not stored;
    # WhatsApp's own cap for audio and video is 16 MB.
    max_media_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
    # Email goes through this relay when smtp_host is set, else to the sandbox.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    email_from: str | None = None  # "Sunrise Clinic <noreply@sunrise.example>"

    # -- sending rules, checked by the send job at send time (app/messaging/rules.py) ---------------
    # Routine messages due in quiet hours (clinic time zone: default_timezone) wait for their end;
    # urgent ones go at once. Equal start and end: no quiet hours.
    quiet_hours_start: time = time(21, 0)
    quiet_hours_end: time = time(8, 0)
    # WhatsApp's customer-service window: free text only this long after the patient's last message.
    session_window_hours: int = Field(default=24, gt=0)
    # Approved Twilio Content templates, `{"<template>.<language>": "HX..."}` (JSON); they override the
    # template files' content_sid. Outside the window a WhatsApp template without one is not sent.
    twilio_content_sids: dict[str, str] = Field(default_factory=dict)
    # The bot's lists (slots, appointments) as WhatsApp list messages inside the session window: the
    # twilio/list-picker Content per row count, `{"1": "HX...", ..., "10": "HX..."}` (JSON), as printed by
    # `python -m app.cli twilio-content`. A count without one goes out as numbered text.
    twilio_list_picker_sids: dict[int, str] = Field(default_factory=dict)

    # -- campaigns (docs/campaigns.md) -------------------------------------------------------------
    # Messages a campaign hands to one sender per second (Twilio: 1 MPS per long code, more for WhatsApp
    # senders and short codes); a run is prepared in batches paced to this rate.
    campaign_messages_per_second: float = Field(default=1.0, gt=0, le=1000)
    campaign_batch_size: int = Field(default=20, gt=0, le=500)

    # -- CRM (docs/crm.md) ----------------------------------------------------------------------------
    # Ticket SLA overrides in minutes, merged over app/tickets/sla.py DEFAULT_SLA_MINUTES; keys are
    # "<category>/<priority>", "<priority>", "<category>" or "default" (JSON: {"complaint/urgent": 240}).
    ticket_sla_minutes: dict[str, int] = Field(default_factory=dict)
    # A booked opportunity whose appointment was cancelled and not rebooked within this many days is lost.
    opportunity_rebook_days: int = Field(default=14, gt=0)
    # -- the WhatsApp bot (app/bot) ----------------------------------------------------------------------
    # Off: inbound WhatsApp messages only reach the staff inbox (STOP/START are answered either way).
    bot_enabled: bool = True
    # A dialogue left this long restarts politely with the menu (bookings are in FHIR, never lost).
    bot_dialogue_ttl_seconds: int = Field(default=7200, gt=0)
    # How many days ahead the bot looks for free slots in one list.
    bot_search_days: int = Field(default=7, gt=0, le=60)

    @model_validator(mode="before")
    @classmethod
    def _environment_is_explicit(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("environment") in (None, ""):
            raise ValueError(
                "PRM_ENVIRONMENT is not set: set it to development (local run), test or production"
            )
        return data

    @model_validator(mode="after")
    def _check_secrets(self) -> Settings:
        for limit in (self.auth_failure_limit, self.rate_limit_per_key):
            _check_rate_limit(limit)
        if self.environment == "development" and not self.api_keys:
            self.api_keys = _default_dev_keys()
        if self.environment == "development" and not self.change_feed_secret.get_secret_value():
            self.change_feed_secret = SecretStr("dev-change-feed-secret")
        if self.environment == "development" and self.twilio_auth_token is None:
            self.twilio_auth_token = SecretStr("dev-twilio-auth-token")
        if self.environment == "development" and not self.voice_webhook_secret.get_secret_value():
            self.voice_webhook_secret = SecretStr("dev-voice-webhook-secret")
        if self.environment == "production":
            _refuse_weak_secrets(self)
        _check_messaging(self)
        return self

    # -- change feed (docs/change-feed.md) ----------------------------------------------------------
    # Where HAPI's rest-hook Subscriptions deliver: this API's internal receiver, as HAPI reaches it.
    change_feed_endpoint: str = "http://127.0.0.1:8000/internal/changes"
    # HAPI sends `Authorization: Bearer <secret>` with every delivery; the receiver refuses anything else.
    # Unset: a development placeholder in development; elsewhere the receiver refuses every delivery
    # and no Subscription is made (the sweep still catches every change).
    change_feed_secret: SecretStr = SecretStr("")
    # Types followed besides those with registered handlers.
    change_feed_types: list[str] = Field(default_factory=lambda: ["Appointment"])
    # Create or repair the Subscriptions when the API starts (like the conformance loader).
    change_feed_subscribe_on_startup: bool = True
    # The catch-up sweep of `_history` (its cadence is in workers/schedule.py): overlap behind its
    # cursor, look-back without a cursor.
    change_feed_overlap_seconds: int = Field(default=120, ge=0)
    change_feed_lookback_seconds: int = Field(default=24 * 3600, gt=0)
    # How long a handled type/id/version is remembered (longer than the look-back, so a sweep after a
    # restart does not hand handlers what they already had).
    change_feed_dedupe_ttl_seconds: int = Field(default=3 * 24 * 3600, gt=0)

    # -- voice agent (docs/webhooks/voice.md) --------------------------------------------------------
    # The native webhook's HMAC secret, and the one it replaces while the platform rotates (both
    # accepted). Unset: a development placeholder in development; elsewhere every event is refused.
    voice_webhook_secret: SecretStr = SecretStr("")
    voice_webhook_previous_secret: SecretStr | None = None
    # How far a signed timestamp may be from the clock (replays older than this are refused).
    voice_webhook_tolerance_seconds: int = Field(default=300, gt=0)
    # Platform adapters: Vapi's X-Vapi-Secret, Retell's API key (it signs with it), ElevenLabs' HMAC
    # secret. Unset: that platform's endpoint refuses every delivery.
    vapi_webhook_secret: SecretStr | None = None
    # How Vapi proves a delivery: "secret" (the server URL secret as X-Vapi-Secret) or "hmac" (a Vapi
    # HMAC credential with that secret as its key: X-Signature over "<X-Timestamp>.<body>").
    vapi_webhook_auth: Literal["secret", "hmac"] = "secret"
    retell_api_key: SecretStr | None = None
    elevenlabs_webhook_secret: SecretStr | None = None
    # A call books by itself only when the platform is at least this sure (and the slot is free and
    # the doctor unambiguous); otherwise staff get a callback ticket.
    voice_booking_min_confidence: float = Field(default=0.8, ge=0, le=1)
    # Download call recordings into HAPI (Binary); off: the DocumentReference keeps the platform's URL.
    voice_fetch_recordings: bool = False


def _check_rate_limit(limit: str) -> None:
    try:
        parse_rate_limit(limit)
    except ValueError:
        raise ValueError(f"rate limit {limit!r} is not like '20/minute'") from None


def _check_messaging(settings: Settings) -> None:
    """A configured provider has what it needs to send, so a deployment fails at start, not per message."""
    required: dict[str, object] = {}
    if settings.messaging_provider == "twilio":
        required |= {
            "twilio_account_sid": settings.twilio_account_sid,
            "twilio_auth_token": settings.twilio_auth_token and settings.twilio_auth_token.get_secret_value(),
            "twilio_whatsapp_from": settings.twilio_whatsapp_from,
        }
    if settings.smtp_host:
        required["email_from"] = settings.email_from
    for key, sid in settings.twilio_content_sids.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*\.[a-z]{2}", key) or not re.fullmatch(r"HX[0-9a-f]{32}", sid):
            raise ValueError(f"PRM_TWILIO_CONTENT_SIDS: {key!r} is not '<template>.<language>': 'HX<32 hex>'")
    for rows, sid in settings.twilio_list_picker_sids.items():
        if not 1 <= rows <= MAX_LIST_CHOICES or not re.fullmatch(r"HX[0-9a-f]{32}", sid):
            raise ValueError(f"PRM_TWILIO_LIST_PICKER_SIDS: {rows!r} is not '<1-10 rows>': 'HX<32 hex>'")
    for name, value in required.items():
        if not value:
            needs = "PRM_SMTP_HOST" if name == "email_from" else "PRM_MESSAGING_PROVIDER=twilio"
            raise ValueError(f"PRM_{name.upper()} is not set: {needs} needs it")


def _refuse_weak_secrets(settings: Settings) -> None:
    """Production runs on neither the shipped placeholders nor short keys."""
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr) and _is_placeholder(value.get_secret_value()):
            raise ValueError(f"PRM_{name.upper()} is a placeholder; set a real secret in production")
    for api_key in settings.api_keys:
        where = f"PRM_API_KEYS holds a {{}} for {api_key.user!r}; set real keys in production"
        if api_key.digest_hex in _DEV_KEY_DIGESTS:
            raise ValueError(where.format("built-in development key"))
        if api_key.key is None:
            continue
        plain = api_key.key.get_secret_value()
        if _is_placeholder(plain):
            raise ValueError(where.format("placeholder key"))
        if len(plain) < MIN_PRODUCTION_KEY_CHARS:
            raise ValueError(where.format(f"key shorter than {MIN_PRODUCTION_KEY_CHARS} characters"))


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def _hash_key_cli(argv: list[str]) -> int:
    """`python -m app.config hash-key < key`: print the SHA-256 to put in PRM_API_KEYS."""
    if argv != ["hash-key"]:
        sys.stderr.write("usage: printf %s KEY | python -m app.config hash-key\n")
        return 2
    key = sys.stdin.read().strip()
    if not key:
        sys.stderr.write("no key on standard input\n")
        return 2
    sys.stdout.write(sha256_hex(key) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(_hash_key_cli(sys.argv[1:]))
