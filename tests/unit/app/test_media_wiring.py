"""The media fetcher build_services makes from settings: Twilio's with provider twilio, else the sandbox."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from adapters.sandbox.media import SandboxMediaFetcher
from adapters.twilio.media import TwilioMediaFetcher
from app.config import Settings
from app.ports.media import MediaRejected
from app.services import build_media_fetcher

TWILIO = {
    "messaging_provider": "twilio",
    "twilio_account_sid": "AC0123456789abcdef0123456789abcdef",
    "twilio_auth_token": "a-real-looking-twilio-auth-token",
    "twilio_whatsapp_from": "+14155238886",
}
MEDIA_URL = "https://api.twilio.com/2010-04-01/Accounts/AC0123/Messages/MM1/Media/ME1"


def settings(**values: Any) -> Settings:
    """Settings from these values only (no .env file)."""
    return Settings(_env_file=None, environment="test", **values)  # type: ignore[call-arg]


def test_the_sandbox_provider_gets_the_in_memory_fetcher_with_the_size_cap() -> None:
    fetcher = build_media_fetcher(settings(max_media_bytes=1234))

    assert isinstance(fetcher, SandboxMediaFetcher)
    assert fetcher.max_bytes == 1234


def test_the_default_size_cap_is_whatsapps_16_mb() -> None:
    assert settings().max_media_bytes == 16 * 1024 * 1024


@respx.mock(assert_all_called=True)
async def test_the_twilio_provider_downloads_with_the_account_and_the_cap(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.get(MEDIA_URL).mock(
        return_value=httpx.Response(200, content=b"\xff\xd8\xff" * 10, headers={"Content-Type": "image/jpeg"})
    )
    fetcher = build_media_fetcher(settings(**TWILIO, max_media_bytes=10))
    assert isinstance(fetcher, TwilioMediaFetcher)

    with pytest.raises(MediaRejected) as refused:  # 30 bytes over a 10-byte cap
        await fetcher.fetch(MEDIA_URL)
    await fetcher.aclose()

    assert refused.value.reason == "too-large"
    assert route.calls.last.request.headers["Authorization"].startswith("Basic ")
