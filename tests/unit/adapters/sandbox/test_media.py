"""SandboxMediaFetcher: serves what was registered, with the same policy as a real download."""

from __future__ import annotations

import pytest

from adapters.sandbox.media import SandboxMediaFetcher
from app.ports.media import MediaRejected, MediaUnavailable

URL = "https://api.twilio.com/sandbox/ME1"


async def test_serves_a_registered_item() -> None:
    sandbox = SandboxMediaFetcher()
    sandbox.add(URL, b"%PDF-1.4 test", "application/pdf")

    media = await sandbox.fetch(URL)

    assert (media.content_type, media.data, media.size) == ("application/pdf", b"%PDF-1.4 test", 13)
    assert sandbox.fetched == [URL]


@pytest.mark.parametrize(
    ("data", "content_type", "reason"),
    [(b"x" * 11, "image/png", "too-large"), (b"x", "application/zip", "content-type")],
)
async def test_applies_the_size_cap_and_the_accepted_types(
    data: bytes, content_type: str, reason: str
) -> None:
    sandbox = SandboxMediaFetcher(max_bytes=10)
    sandbox.add(URL, data, content_type)

    with pytest.raises(MediaRejected) as refused:
        await sandbox.fetch(URL)

    assert refused.value.reason == reason


async def test_unknown_media_is_gone_and_fail_next_fails_once() -> None:
    sandbox = SandboxMediaFetcher()
    with pytest.raises(MediaRejected) as refused:
        await sandbox.fetch(URL)
    assert refused.value.reason == "not-found"

    sandbox.add(URL, b"\xff\xd8\xff", "image/jpeg")
    sandbox.fail_next = MediaUnavailable("down")
    with pytest.raises(MediaUnavailable):
        await sandbox.fetch(URL)
    assert (await sandbox.fetch(URL)).data == b"\xff\xd8\xff"
