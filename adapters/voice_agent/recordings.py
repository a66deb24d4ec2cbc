"""HttpRecordingFetcher: downloads a call recording from the voice platform's URL (no credentials:
platforms hand out signed, expiring links). HTTPS only, streamed and dropped at the size cap; the URL
is never logged (it may name the call)."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import structlog

from app.ports.media import FetchedMedia, MediaRejected, MediaUnavailable, accepted_type, check_size

log = structlog.get_logger(__name__)

DEFAULT_TIMEOUT_SECONDS = 30.0
GONE_STATUSES = frozenset({403, 404, 410})  # an expired signed link answers 403


class HttpRecordingFetcher:
    """MediaFetcher (app.ports.media) for recording URLs."""

    def __init__(self, *, max_bytes: int, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self._max_bytes = max_bytes
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(timeout_seconds))

    async def fetch(self, url: str) -> FetchedMedia:
        """The recording's bytes; MediaRejected (gone, refused type, too large) or MediaUnavailable."""
        if urlsplit(url).scheme != "https":
            raise MediaRejected("not-https", "recordings are downloaded over HTTPS only")
        try:
            async with self._http.stream("GET", url, follow_redirects=True) as response:
                if response.status_code in GONE_STATUSES:
                    raise MediaRejected("not-found", f"the platform answered {response.status_code}")
                if response.status_code != httpx.codes.OK:
                    raise MediaUnavailable(f"the platform answered {response.status_code}")
                content_type = accepted_type(response.headers.get("content-type", ""))
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    check_size(len(body), self._max_bytes)
                return FetchedMedia(content_type=content_type, data=bytes(body))
        except httpx.RequestError as exc:
            log.warning("voice.recording.unavailable", error=type(exc).__name__)
            raise MediaUnavailable(f"the recording could not be fetched ({type(exc).__name__})") from None

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()
