"""The simulator's pure parts: the command table, its configuration, the signature and the printout."""

from __future__ import annotations

import argparse

import pytest
from pydantic import SecretStr
from twilio.request_validator import RequestValidator

from adapters.twilio.signing import webhook_signature
from app.cli.__main__ import COMMANDS, main
from app.cli.whatsapp_sim import (
    NO_REPLY,
    SANDBOX_WHATSAPP,
    SimulatorError,
    Watcher,
    config_from,
    format_reply,
)
from app.config import ApiKey, Role, Settings


def _args(**overrides: object) -> argparse.Namespace:
    values: dict[str, object] = {
        "sender": "098441 11173",
        "api": "http://127.0.0.1:8000",
        "key": None,
        "token": None,
        "public_url": None,
        "name": "Sim",
    }
    values.update(overrides)
    return argparse.Namespace(**values)


def _settings(**overrides: object) -> Settings:
    return Settings(environment="development", **overrides)


def test_the_command_table_lists_the_simulator_and_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert "whatsapp-sim" in COMMANDS
    with pytest.raises(SystemExit) as exit_:
        main(["whatsapp-sim", "--help"])
    assert exit_.value.code == 0
    assert "--from" in capsys.readouterr().out


def test_a_missing_from_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["whatsapp-sim"])
    assert exit_.value.code == 2


def test_development_settings_give_the_dev_token_key_and_public_url() -> None:
    config = config_from(_args(), _settings())
    assert config.patient == "+919844111173"
    assert config.auth_token == "dev-twilio-auth-token"
    assert config.staff_key == "dev-staff-key"
    assert config.public_url == "http://127.0.0.1:8000"
    assert config.clinic == SANDBOX_WHATSAPP


def test_options_win_over_settings() -> None:
    config = config_from(
        _args(key="k", token="t", public_url="https://prm.example"),
        _settings(twilio_whatsapp_from="+918041234567"),
    )
    assert (config.staff_key, config.auth_token, config.public_url, config.clinic) == (
        "k",
        "t",
        "https://prm.example",
        "+918041234567",
    )


def test_hashed_keys_only_need_an_explicit_key() -> None:
    hashed = ApiKey(sha256="0" * 64, role=Role.STAFF, user="reception@x")
    with pytest.raises(SimulatorError, match="pass --key"):
        config_from(_args(), _settings(api_keys=[hashed]))
    plain = ApiKey(key=SecretStr("a-staff-key"), role=Role.STAFF, user="r@x")
    assert config_from(_args(), _settings(api_keys=[hashed, plain])).staff_key == "a-staff-key"


def test_a_sender_that_is_not_a_phone_is_refused() -> None:
    with pytest.raises(SimulatorError, match="--from 'abc'"):
        config_from(_args(sender="abc"), _settings())


def test_the_signature_is_the_one_twilios_validator_accepts() -> None:
    params = {"From": "whatsapp:+919844111173", "Body": "hi", "MessageSid": "SM1"}
    url = "http://127.0.0.1:8000/webhooks/whatsapp/twilio"
    signature = webhook_signature("token", url, params)
    assert RequestValidator("token").validate(url, params, signature)
    assert not RequestValidator("other").validate(url, params, signature)


def test_replies_print_who_sent_them_and_why_they_failed() -> None:
    bot = {"text": "Hello!", "sender": {"kind": "whatsapp-bot"}, "status": "sent"}
    staff = {
        "text": "Dr. Rao is running late",
        "sender": {"kind": "staff", "user": "r@x"},
        "status": "queued",
    }
    template = {
        "text": None,
        "template": "appointment_reminder_24h",
        "sender": {"kind": "system"},
        "status": "failed",
        "reason": "opted-out",
    }
    assert format_reply(bot) == "bot> Hello!"
    assert format_reply(staff) == "staff> Dr. Rao is running late"
    assert format_reply(template) == "bot> [template appointment_reminder_24h]  (failed: opted-out)"


class _Thread:
    """A stand-in for WhatsAppSim.new_replies: hands out queued results in order."""

    def __init__(self, *results: list[dict[str, object]] | SimulatorError) -> None:
        self.results = list(results)

    def new_replies(self) -> list[dict[str, object]]:
        result = self.results.pop(0) if self.results else []
        if isinstance(result, SimulatorError):
            raise result
        return result


def _watcher(thread: _Thread, timeout: float) -> tuple[Watcher, list[str]]:
    printed: list[str] = []
    return Watcher(thread, timeout, printed.append), printed  # type: ignore[arg-type]


def test_the_watcher_prints_replies_as_they_come_and_the_hint_once_when_none_came() -> None:
    reply = {"text": "Hello!", "sender": {"kind": "whatsapp-bot"}}
    watcher, printed = _watcher(_Thread([], [reply]), timeout=60)
    watcher.sent()
    watcher.poll()
    watcher.poll()
    assert printed == ["bot> Hello!"]
    assert watcher.awaiting_since is None

    watcher, printed = _watcher(_Thread(), timeout=0)
    watcher.sent()
    watcher.poll()
    watcher.poll()
    assert printed == [NO_REPLY.format(timeout=0)]


def test_the_watcher_reports_a_problem_once_until_it_changes() -> None:
    down = SimulatorError("cannot reach the API")
    watcher, printed = _watcher(_Thread(down, down, [], down), timeout=60)
    for _ in range(4):
        watcher.poll()
    assert printed == ["(cannot reach the API)", "(cannot reach the API)"]
