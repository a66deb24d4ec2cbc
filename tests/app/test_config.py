"""Settings refuse placeholder secrets outside development."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from app.config import ApiKey, Role, Settings


def test_production_refuses_the_development_keys() -> None:
    with pytest.raises(ValidationError, match="placeholder key for 'admin@dev'"):
        Settings(environment="production")


def test_production_refuses_a_placeholder_llm_key() -> None:
    with pytest.raises(ValidationError, match="PRM_OPENAI_API_KEY is a placeholder"):
        Settings(
            environment="production",
            api_keys=[ApiKey(key=SecretStr("k-7f3a9c21e8"), role=Role.ADMIN, user="ops")],
            openai_api_key=SecretStr("change-me"),
        )


def test_production_accepts_real_keys_and_development_accepts_placeholders() -> None:
    real = Settings(
        environment="production",
        api_keys=[ApiKey(key=SecretStr("k-7f3a9c21e8"), role=Role.ADMIN, user="ops")],
        change_feed_secret=SecretStr("a-real-change-feed-secret-7f3a9c21e8"),
    )

    assert real.api_keys[0].role == Role.ADMIN
    assert Settings(environment="development").api_keys[0].key.get_secret_value() == "dev-admin-key"


def test_keys_are_never_printed() -> None:
    assert "dev-admin-key" not in repr(Settings(environment="development"))
