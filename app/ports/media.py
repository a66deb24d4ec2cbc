"""Inbound media (WhatsApp images, PDFs, voice notes): the MediaFetcher port, its DTO and the policy
every fetcher applies (which content types are accepted, how large a file may be)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# What a patient may send us. Images and PDFs are what patients send (reports, prescriptions,
# insurance cards); audio covers WhatsApp voice notes (OGG/Opus) and forwarded recordings. Video is
# refused: it is rarely clinical, large, and nothing here can read it.
ALLOWED_CONTENT_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "application/pdf",
        "audio/ogg",
        "audio/opus",
        "audio/mpeg",
        "audio/amr",
        "audio/mp4",
        "audio/aac",
    }
)


class MediaUnavailable(Exception):
    """A passing failure (provider down, timeout, rate limited): the job retries later."""


class MediaRejected(Exception):
    """A permanent refusal (gone, too large, a type we do not accept): retrying cannot help.

    `reason` is a short code (`not-found`, `too-large`, `content-type`) safe to log and to store.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class FetchedMedia:
    """The bytes of one media item and their MIME type (without parameters, lower case)."""

    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        """Length in bytes."""
        return len(self.data)


def media_type(content_type: str) -> str:
    """The bare MIME type: `audio/ogg; codecs=opus` -> `audio/ogg`."""
    return content_type.split(";", 1)[0].strip().lower()


def accepted_type(content_type: str) -> str:
    """The bare MIME type if we accept it; raises MediaRejected otherwise."""
    bare = media_type(content_type)
    if bare not in ALLOWED_CONTENT_TYPES:
        raise MediaRejected("content-type", f"{bare or 'no content type'} is not accepted")
    return bare


def check_size(size: int, max_bytes: int) -> None:
    """Raise MediaRejected when `size` is over the cap."""
    if size > max_bytes:
        raise MediaRejected("too-large", f"more than {max_bytes} bytes")


class MediaFetcher(Protocol):
    """Downloads one media item the provider holds for an inbound message."""

    async def fetch(self, url: str) -> FetchedMedia:
        """The item at `url`; raises MediaUnavailable (retry) or MediaRejected (permanent)."""
        ...
