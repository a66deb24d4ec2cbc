"""The one place configuration is read: environment variables prefixed PRM_ (or a .env file)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Secrets that ship in .env.example and the local stack start with this prefix; they are refused
# outside development and test so a production deployment cannot run on them by accident.
PLACEHOLDER_SECRET_PREFIXES = ("dev-", "change-me", "changeme")


class Role(StrEnum):
    """What an API key may do."""

    ADMIN = "admin"
    STAFF = "staff"
    INTEGRATION = "integration"


class ApiKey(BaseModel):
    """An API key, the role it grants and the user it acts as (recorded in Provenance)."""

    key: SecretStr
    role: Role
    user: str = Field(min_length=1, description="Who acts with this key, e.g. 'reception@sunrise'")


def _default_dev_keys() -> list[ApiKey]:
    return [
        ApiKey(key=SecretStr("dev-admin-key"), role=Role.ADMIN, user="admin@dev"),
        ApiKey(key=SecretStr("dev-staff-key"), role=Role.STAFF, user="reception@dev"),
        ApiKey(key=SecretStr("dev-integration-key"), role=Role.INTEGRATION, user="ehr@dev"),
    ]


class Settings(BaseSettings):
    """Runtime configuration of the API and the workers."""

    model_config = SettingsConfigDict(env_prefix="PRM_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
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

    api_keys: list[ApiKey] = Field(default_factory=_default_dev_keys)

    # Assistant: an OpenAI-compatible model when a key is set, else the offline rule-based extractor.
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_timeout_seconds: float = Field(default=20.0, gt=0)
    # When the model refuses, answers malformed output, times out or is rate limited:
    # True falls back to the offline extractor, False answers 502 naming the failure.
    llm_fallback_to_offline: bool = True
    plan_ttl_seconds: int = Field(default=15 * 60, gt=0)
    max_instruction_chars: int = Field(default=2000, gt=0)

    # Speech: "openai" (needs openai_api_key), "pocketsphinx" (offline, pip extra "speech") or "none".
    transcription_engine: Literal["openai", "pocketsphinx", "none"] = "pocketsphinx"
    openai_transcription_model: str = "whisper-1"
    max_audio_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_audio_seconds: float = Field(default=120.0, gt=0)

    # The clinic's defaults where a Location carries no time zone, and for phone numbers.
    default_timezone: str = "Asia/Kolkata"
    default_phone_region: str = "IN"

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.environment in ("development", "test"):
            return self
        if self.openai_api_key and self.openai_api_key.get_secret_value().lower().startswith(
            PLACEHOLDER_SECRET_PREFIXES
        ):
            raise ValueError(
                f"PRM_OPENAI_API_KEY is a placeholder; set a real key when PRM_ENVIRONMENT={self.environment}"
            )
        for api_key in self.api_keys:
            if api_key.key.get_secret_value().lower().startswith(PLACEHOLDER_SECRET_PREFIXES):
                raise ValueError(
                    f"PRM_API_KEYS holds a placeholder key for {api_key.user!r}; "
                    f"set real keys when PRM_ENVIRONMENT={self.environment}"
                )
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
