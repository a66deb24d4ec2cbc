"""Settings fail closed: an explicit environment, development keys only in development, strong secrets in production."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest
from pydantic import SecretStr, ValidationError

from app.config import ApiKey, Role, Settings, sha256_hex
from tests.support.servers import ROOT

STRONG_KEY = "k7f3a9c21e8b54d6a0f1e2d3c4b5a69788"  # 34 characters


def strong(**overrides: object) -> list[ApiKey]:
    values: dict[str, object] = {"key": SecretStr(STRONG_KEY), "role": Role.ADMIN, "user": "ops"}
    values.update(overrides)
    return [ApiKey(**values)]  # type: ignore[arg-type]


def test_a_missing_environment_is_a_startup_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRM_ENVIRONMENT", raising=False)

    with pytest.raises(ValidationError, match="PRM_ENVIRONMENT is not set"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_the_environment_is_read_from_prm_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRM_ENVIRONMENT", "test")

    assert Settings(_env_file=None).environment == "test"  # type: ignore[call-arg]


def test_built_in_keys_exist_only_in_development() -> None:
    assert [k.user for k in Settings(environment="development").api_keys] == [
        "admin@dev",
        "reception@dev",
        "ehr@dev",
    ]
    assert Settings(environment="test").api_keys == []
    assert Settings(environment="production").api_keys == []


@pytest.mark.parametrize(
    ("api_key", "problem"),
    [
        (ApiKey(key=SecretStr("dev-admin-key"), role=Role.ADMIN, user="ops"), "built-in development key"),
        (ApiKey(sha256=sha256_hex("dev-staff-key"), role=Role.STAFF, user="ops"), "built-in development key"),
        (ApiKey(key=SecretStr("change-me-" + "x" * 40), role=Role.ADMIN, user="ops"), "placeholder key"),
        (ApiKey(key=SecretStr("test-admin-key-" + "x" * 40), role=Role.ADMIN, user="ops"), "placeholder key"),
        (ApiKey(key=SecretStr("k" * 31), role=Role.ADMIN, user="ops"), "key shorter than 32 characters"),
    ],
)
def test_production_refuses_weak_keys(api_key: ApiKey, problem: str) -> None:
    with pytest.raises(ValidationError, match=f"PRM_API_KEYS holds a {problem} for 'ops'") as caught:
        Settings(environment="production", api_keys=[api_key])

    assert api_key.key is None or api_key.key.get_secret_value() not in str(caught.value)


def test_production_refuses_a_placeholder_llm_key() -> None:
    with pytest.raises(ValidationError, match="PRM_OPENAI_API_KEY is a placeholder"):
        Settings(environment="production", api_keys=strong(), openai_api_key=SecretStr("change-me"))


def test_production_accepts_long_keys_and_key_hashes() -> None:
    digest = hashlib.sha256(b"another-long-random-key-0123456789abcdef").hexdigest()
    settings = Settings(
        environment="production",
        api_keys=[*strong(), ApiKey(sha256=digest.upper(), role=Role.STAFF, user="desk")],
    )

    assert settings.api_keys[0].matches(hashlib.sha256(STRONG_KEY.encode()).digest())
    assert settings.api_keys[1].matches(bytes.fromhex(digest))
    assert not settings.api_keys[1].matches(hashlib.sha256(STRONG_KEY.encode()).digest())


def test_a_key_is_either_plain_or_hashed() -> None:
    with pytest.raises(ValidationError, match="give exactly one of 'key' or 'sha256'"):
        ApiKey(role=Role.ADMIN, user="ops")
    with pytest.raises(ValidationError, match="give exactly one of 'key' or 'sha256'"):
        ApiKey(key=SecretStr(STRONG_KEY), sha256="a" * 64, role=Role.ADMIN, user="ops")
    with pytest.raises(ValidationError, match="sha256"):
        ApiKey(sha256="not-hex", role=Role.ADMIN, user="ops")


def test_validation_errors_never_quote_the_keys() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(
            environment="production", api_keys=[{"key": "sekrit-" + "z" * 10, "role": "admin", "user": "o"}]
        )

    assert "sekrit" not in str(caught.value)


def test_a_malformed_rate_limit_is_refused() -> None:
    with pytest.raises(ValidationError, match="rate limit 'lots' is not like '20/minute'"):
        Settings(environment="test", auth_failure_limit="lots")


def test_keys_are_never_printed() -> None:
    assert "dev-admin-key" not in repr(Settings(environment="development"))


def test_the_hash_key_command_prints_the_sha256_of_stdin() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app.config", "hash-key"],
        input=STRONG_KEY,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )

    assert done.stdout == hashlib.sha256(STRONG_KEY.encode()).hexdigest() + "\n"
