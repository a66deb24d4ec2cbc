"""TwilioMediaFetcher against a faked Twilio and CDN (respx): credentials stay with Twilio, the size
cap stops the download, refusals and passing failures are told apart."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from adapters.twilio.media import TwilioMediaFetcher
from app.ports.media import MediaRejected, MediaUnavailable

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "test-twilio-auth-token"
MEDIA_URL = (
    f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM0123456789abcdef0123456789abcdef"
    "/Media/ME0123456789abcdef0123456789abcdef"
)
CDN_URL = "https://mms.twiliocdn.com/AC0123/0a1b2c3d?Expires=1764370000&Signature=abc"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
BASIC = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
MAX_BYTES = 4096


def fetcher() -> TwilioMediaFetcher:
    return TwilioMediaFetcher(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, max_bytes=MAX_BYTES)


def redirect_to_cdn(mock: respx.MockRouter) -> respx.Route:
    """Twilio's answer to a media URL: 307 to a signed CDN address."""
    return mock.get(MEDIA_URL).mock(return_value=httpx.Response(307, headers={"Location": CDN_URL}))


async def chunks(total: int, size: int = 1024) -> AsyncIterator[bytes]:
    """A body streamed in chunks without a Content-Length."""
    for _ in range(total // size):
        yield b"\0" * size


@respx.mock(assert_all_called=True)
async def test_follows_the_redirect_and_sends_credentials_to_twilio_only(
    respx_mock: respx.MockRouter,
) -> None:
    twilio = redirect_to_cdn(respx_mock)
    cdn = respx_mock.get(CDN_URL).mock(
        return_value=httpx.Response(200, content=PNG, headers={"Content-Type": "image/png"})
    )

    media = await fetcher().fetch(MEDIA_URL)

    assert (media.content_type, media.data, media.size) == ("image/png", PNG, len(PNG))
    assert twilio.calls.last.request.headers["Authorization"] == BASIC
    assert "Authorization" not in cdn.calls.last.request.headers


@respx.mock(assert_all_called=True)
async def test_a_content_type_with_parameters_is_reduced_to_the_mime_type(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.get(MEDIA_URL).mock(
        return_value=httpx.Response(
            200, content=b"OggS" + bytes(60), headers={"Content-Type": "audio/ogg; codecs=opus"}
        )
    )

    media = await fetcher().fetch(MEDIA_URL)

    assert media.content_type == "audio/ogg"


@respx.mock
async def test_a_declared_length_over_the_cap_is_refused(respx_mock: respx.MockRouter) -> None:
    redirect_to_cdn(respx_mock)
    respx_mock.get(CDN_URL).mock(
        return_value=httpx.Response(
            200, content=b"\0" * (MAX_BYTES + 1), headers={"Content-Type": "application/pdf"}
        )
    )

    with pytest.raises(MediaRejected) as refused:
        await fetcher().fetch(MEDIA_URL)

    assert refused.value.reason == "too-large"


@respx.mock
async def test_a_streamed_body_is_dropped_at_the_cap(respx_mock: respx.MockRouter) -> None:
    streamed = httpx.Response(200, content=chunks(MAX_BYTES * 4), headers={"Content-Type": "image/jpeg"})
    respx_mock.get(MEDIA_URL).mock(return_value=streamed)

    with pytest.raises(MediaRejected) as refused:
        await fetcher().fetch(MEDIA_URL)

    assert refused.value.reason == "too-large"
    assert "content-length" not in streamed.headers


@respx.mock
async def test_a_type_we_do_not_accept_is_refused(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(MEDIA_URL).mock(
        return_value=httpx.Response(200, content=b"x" * 10, headers={"Content-Type": "video/mp4"})
    )

    with pytest.raises(MediaRejected) as refused:
        await fetcher().fetch(MEDIA_URL)

    assert refused.value.reason == "content-type"


@pytest.mark.parametrize("status", [404, 410])
@respx.mock
async def test_gone_media_is_a_permanent_refusal(respx_mock: respx.MockRouter, status: int) -> None:
    respx_mock.get(MEDIA_URL).mock(return_value=httpx.Response(status))

    with pytest.raises(MediaRejected) as refused:
        await fetcher().fetch(MEDIA_URL)

    assert refused.value.reason == "not-found"


@pytest.mark.parametrize("status", [401, 429, 500, 503])
@respx.mock
async def test_other_failures_are_retried(respx_mock: respx.MockRouter, status: int) -> None:
    respx_mock.get(MEDIA_URL).mock(return_value=httpx.Response(status))

    with pytest.raises(MediaUnavailable):
        await fetcher().fetch(MEDIA_URL)


@respx.mock
async def test_a_timeout_is_retried(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(MEDIA_URL).mock(side_effect=httpx.ReadTimeout("slow CDN"))

    with pytest.raises(MediaUnavailable):
        await fetcher().fetch(MEDIA_URL)


@respx.mock
async def test_a_redirect_loop_is_retried(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(MEDIA_URL).mock(return_value=httpx.Response(302, headers={"Location": MEDIA_URL}))

    with pytest.raises(MediaUnavailable):
        await fetcher().fetch(MEDIA_URL)


@pytest.mark.parametrize(
    "url",
    [
        "http://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        "https://evil.example/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        "https://api.twilio.com.evil.example/Media/ME1",
    ],
)
@respx.mock(assert_all_mocked=True)
async def test_credentials_never_leave_twilio(respx_mock: respx.MockRouter, url: str) -> None:
    with pytest.raises(MediaRejected) as refused:
        await fetcher().fetch(url)

    assert refused.value.reason == "not-twilio"
    assert respx_mock.calls.call_count == 0
