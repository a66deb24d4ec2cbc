"""twilio-content creates the ten list-picker Contents (Twilio's Content API faked: respx) and prints the
setting that names them; a refusal or missing credentials exit 1 with the reason."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import respx

from adapters.twilio.content import CONTENT_URL
from app.cli.__main__ import main
from app.config import get_settings

SIDS = {n: f"HX{n:032x}" for n in range(1, 11)}


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PRM_ENVIRONMENT", "test")
    monkeypatch.setenv("PRM_TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef")
    monkeypatch.setenv("PRM_TWILIO_AUTH_TOKEN", "a-real-looking-twilio-auth-token")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_contents_are_created_and_the_setting_printed(
    credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(httpx.Response(201, json={"sid": SIDS[n]}) for n in range(1, 11))
    with respx.mock(assert_all_mocked=True) as twilio:
        route = twilio.post(CONTENT_URL).mock(side_effect=lambda request: next(answers))

        assert main(["twilio-content"]) == 0

    assert route.call_count == 10
    line = capsys.readouterr().out.strip().splitlines()[-1]  # after the log lines
    assert line.startswith("PRM_TWILIO_LIST_PICKER_SIDS='") and line.endswith("'")
    assert json.loads(line.split("=", 1)[1].strip("'")) == {str(n): sid for n, sid in SIDS.items()}


def test_a_refusal_exits_1_naming_twilios_code(credentials: None, capsys: pytest.CaptureFixture[str]) -> None:
    with respx.mock(assert_all_mocked=True) as twilio:
        twilio.post(CONTENT_URL).respond(401, json={"code": 20003, "message": "Authenticate"})

        assert main(["twilio-content"]) == 1

    assert (
        "not created: Twilio refused the list-picker Content (HTTP 401, code 20003)"
        in capsys.readouterr().out
    )


def test_without_credentials_nothing_is_sent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PRM_ENVIRONMENT", "test")
    monkeypatch.delenv("PRM_TWILIO_ACCOUNT_SID", raising=False)
    get_settings.cache_clear()
    try:
        with respx.mock(assert_all_mocked=True) as twilio:
            assert main(["twilio-content"]) == 1
            assert twilio.calls.call_count == 0
    finally:
        get_settings.cache_clear()

    assert "PRM_TWILIO_ACCOUNT_SID and PRM_TWILIO_AUTH_TOKEN are needed" in capsys.readouterr().out
