"""SandboxMediaFetcher: serves media registered in memory (the local stack, tests); no network."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.ports.media import FetchedMedia, MediaRejected, accepted_type, check_size

DEFAULT_MAX_BYTES = 16 * 1024 * 1024


@dataclass
class SandboxMediaFetcher:
    """`add(url, data, content_type)` registers an item; unknown URLs are gone (MediaRejected).

    It applies the same content-type and size policy as the Twilio fetcher; `fail_next` makes the
    next fetch raise (to test retries).
    """

    max_bytes: int = DEFAULT_MAX_BYTES
    items: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)
    fail_next: Exception | None = None

    def add(self, url: str, data: bytes, content_type: str) -> str:
        """Register `data` at `url`; returns the url."""
        self.items[url] = (content_type, data)
        return url

    async def fetch(self, url: str) -> FetchedMedia:
        """The registered item, checked like a real download."""
        self.fetched.append(url)
        if self.fail_next is not None:
            failure, self.fail_next = self.fail_next, None
            raise failure
        if url not in self.items:
            raise MediaRejected("not-found", "no such media in the sandbox")
        content_type, data = self.items[url]
        check_size(len(data), self.max_bytes)
        return FetchedMedia(content_type=accepted_type(content_type), data=data)
