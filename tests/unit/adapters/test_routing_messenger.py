"""ChannelMessenger and the messenger build_services makes from settings (Twilio, SMTP, sandbox)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr, ValidationError

from adapters.routing_messenger import ChannelMessenger
from adapters.sandbox.messenger import SandboxMessenger
from adapters.smtp.messenger import SmtpMessenger
from adapters.twilio.messenger import TwilioMessenger
from app.config import Settings
from app.ports.messaging import (
    Choice,
    ChoiceList,
    MessageChannel,
    MessageRejected,
    Recipient,
    TemplateMessage,
)
from app.services import build_messenger

WHATSAPP = Recipient(MessageChannel.WHATSAPP, "+919844111173")
SMS = Recipient(MessageChannel.SMS, "+919844111173")
EMAIL = Recipient(MessageChannel.EMAIL, "ananya@mail.example")
TWILIO = {
    "messaging_provider": "twilio",
    "twilio_account_sid": "AC0123456789abcdef0123456789abcdef",
    "twilio_auth_token": "a-real-looking-twilio-auth-token",
    "twilio_whatsapp_from": "+14155238886",
    "twilio_sms_from": "+15005550006",
}
SMTP = {"smtp_host": "127.0.0.1", "smtp_port": 2525, "email_from": "noreply@clinic.example"}


def settings(environment: str = "test", **values: Any) -> Settings:
    """Settings from these values only (no .env file)."""
    return Settings(_env_file=None, environment=environment, **values)  # type: ignore[call-arg]


@pytest.fixture
def network() -> Iterator[respx.MockRouter]:
    # No routes: any HTTP request fails the test.
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router


async def test_each_channel_goes_to_its_own_adapter() -> None:
    chat, text, mail = SandboxMessenger(), SandboxMessenger(), SandboxMessenger()
    messenger = ChannelMessenger(
        {MessageChannel.WHATSAPP: chat, MessageChannel.SMS: text, MessageChannel.EMAIL: mail}
    )

    await messenger.send_text(WHATSAPP, "hello", reference="c1")
    await messenger.send_template(SMS, TemplateMessage("reminder"), reference="c2")
    await messenger.send_interactive(
        EMAIL,
        "pick",
        [Choice("a", "A")],
        reference="c3",
    )
    await messenger.send_text(EMAIL, "mail", reference="c4", subject="Subject")

    assert [m.reference for m in chat.sent] == ["c1"]
    assert [m.reference for m in text.sent] == ["c2"]
    assert [(m.reference, m.subject) for m in mail.sent] == [("c3", None), ("c4", "Subject")]


async def test_a_channel_without_an_adapter_is_refused() -> None:
    messenger = ChannelMessenger({MessageChannel.WHATSAPP: SandboxMessenger()})

    with pytest.raises(MessageRejected, match=r"^no messenger is configured for email$"):
        await messenger.send_text(EMAIL, "mail", reference="c1")


async def test_the_sandbox_provider_sends_nothing_over_the_network(network: respx.MockRouter) -> None:
    messenger = build_messenger(settings())

    assert isinstance(messenger, SandboxMessenger)
    for recipient in (WHATSAPP, SMS, EMAIL):
        await messenger.send_text(recipient, "hello", reference=f"c-{recipient.channel}")
    assert [m.to.channel for m in messenger.sent] == [
        MessageChannel.WHATSAPP,
        MessageChannel.SMS,
        MessageChannel.EMAIL,
    ]
    assert network.calls.call_count == 0


async def test_twilio_takes_whatsapp_and_sms_and_smtp_takes_email() -> None:
    messenger = build_messenger(settings(**TWILIO, **SMTP))

    assert isinstance(messenger, ChannelMessenger)
    routes = messenger.routes
    assert isinstance(routes[MessageChannel.WHATSAPP], TwilioMessenger)
    assert routes[MessageChannel.SMS] is routes[MessageChannel.WHATSAPP]
    assert isinstance(routes[MessageChannel.EMAIL], SmtpMessenger)
    await messenger.aclose()


async def test_whatsapp_through_the_built_messenger_reaches_twilio(network: respx.MockRouter) -> None:
    url = f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO['twilio_account_sid']}/Messages.json"
    route = network.post(url).mock(return_value=httpx.Response(201, json={"sid": "SM1", "status": "queued"}))
    messenger = build_messenger(settings(**TWILIO))

    result = await messenger.send_text(WHATSAPP, "hello", reference="c1")

    assert result.provider_id == "SM1"
    assert route.call_count == 1
    assert isinstance(messenger, ChannelMessenger)
    assert isinstance(messenger.routes[MessageChannel.EMAIL], SandboxMessenger)  # no SMTP configured
    await messenger.aclose()


@pytest.mark.parametrize("missing", ["twilio_account_sid", "twilio_auth_token", "twilio_whatsapp_from"])
def test_the_twilio_provider_without_its_settings_does_not_start(missing: str) -> None:
    values = {key: value for key, value in TWILIO.items() if key != missing}

    with pytest.raises(
        ValidationError, match=f"PRM_{missing.upper()} is not set: PRM_MESSAGING_PROVIDER=twilio needs it"
    ):
        settings("production", **values)


def test_smtp_without_a_sender_does_not_start() -> None:
    with pytest.raises(ValidationError, match="PRM_EMAIL_FROM is not set: PRM_SMTP_HOST needs it"):
        settings(smtp_host="smtp.clinic.example")


def test_production_refuses_the_development_twilio_token() -> None:
    with pytest.raises(ValidationError, match="PRM_TWILIO_AUTH_TOKEN is a placeholder"):
        settings("production", **{**TWILIO, "twilio_auth_token": "dev-twilio-auth-token"})


def test_development_gets_the_placeholder_token_and_production_none() -> None:
    development = settings("development")
    assert development.twilio_auth_token == SecretStr("dev-twilio-auth-token")
    assert (development.messaging_provider, settings("production").twilio_auth_token) == ("sandbox", None)


LIST = ChoiceList(
    body="Which time?", button="Choose", choices=(Choice("slot-1", "2 December, 10:30 AM", "Dr. Rao"),)
)
PICKERS = {"1": "HX" + "1" * 32, "10": "HX" + "a" * 32}


async def test_a_list_goes_to_the_channels_adapter_and_the_sandbox_records_it() -> None:
    chat, mail = SandboxMessenger(), SandboxMessenger()
    messenger = ChannelMessenger({MessageChannel.WHATSAPP: chat, MessageChannel.EMAIL: mail})

    await messenger.send_list(WHATSAPP, "Which time?\n1. 2 December 2026, 10:30 AM", LIST, reference="c1")

    [sent] = chat.sent
    assert (sent.reference, sent.body, sent.options) == (
        "c1",
        "Which time?\n1. 2 December 2026, 10:30 AM",
        LIST,
    )
    assert mail.sent == []


async def test_the_built_twilio_messenger_sends_lists_with_the_configured_list_pickers(
    network: respx.MockRouter,
) -> None:
    url = f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO['twilio_account_sid']}/Messages.json"
    route = network.post(url).mock(return_value=httpx.Response(201, json={"sid": "SM1", "status": "queued"}))
    messenger = build_messenger(settings(**TWILIO, twilio_list_picker_sids=PICKERS))

    await messenger.send_list(WHATSAPP, "Which time?\n1. ...", LIST, reference="c1")

    assert f"ContentSid={PICKERS['1']}" in route.calls.last.request.content.decode()
    assert isinstance(messenger, ChannelMessenger)
    await messenger.aclose()


@pytest.mark.parametrize(
    "pickers", [{"11": "HX" + "1" * 32}, {"0": "HX" + "1" * 32}, {"2": "MG" + "1" * 32}, {"2": "HX12"}]
)
def test_list_picker_sids_that_cannot_be_are_refused_at_start(pickers: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match=r"PRM_TWILIO_LIST_PICKER_SIDS: .* is not .<1-10 rows>."):
        settings(**TWILIO, twilio_list_picker_sids=pickers)
