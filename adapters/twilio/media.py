"""TwilioMediaFetcher: downloads an inbound message's media (MediaUrlN) with the account's credentials.

Twilio answers the media URL with a redirect to its CDN. httpx sends the Basic credentials only to
the origin they were given for: a redirect to another origin is rebuilt without the Authorization
header (httpx `_redirect_headers`), so the CDN never sees the auth token (a unit test proves it).
Credentials go only to Twilio's own HTTPS hosts; the body is streamed and dropped at the size cap.
Media URLs name the account and message, not the patient; they are still not logged.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import structlog

from app.ports.media import (
    FetchedMedia,
    MediaRejected,
    MediaUnavailable,
    accepted_type,
    check_size,
)

log = structlog.get_logger(__name__)

DEFAULT_TIMEOUT_SECONDS = 30.0
TWILIO_DOMAIN = "twilio.com"
# Answers that say the media is gone for good; any other 4xx/5xx may pass (or needs an operator:
# wrong credentials) and is retried until the job lands in the failed-job registry.
GONE_STATUSES = frozenset({404, 410})


class TwilioMediaFetcher:
    """MediaFetcher (app.ports.media) for Twilio's MediaUrlN."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        max_bytes: int,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._auth = httpx.BasicAuth(account_sid, auth_token)
        self._max_bytes = max_bytes
        self._owns_client = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=httpx.Timeout(timeout_seconds))

    async def fetch(self, url: str) -> FetchedMedia:
        """Download `url` (following Twilio's redirect); MediaUnavailable or MediaRejected on failure."""
        _check_url(url)
        try:
            async with self._http.stream("GET", url, auth=self._auth, follow_redirects=True) as response:
                return await self._read(response)
        except httpx.RequestError as exc:  # timeouts, connection errors, redirect loops
            log.warning("media.twilio.unavailable", error=type(exc).__name__)
            raise MediaUnavailable(f"Twilio media could not be fetched ({type(exc).__name__})") from None

    async def aclose(self) -> None:
        """Close the HTTP client, if it was made here."""
        if self._owns_client:
            await self._http.aclose()

    async def _read(self, response: httpx.Response) -> FetchedMedia:
        if response.status_code in GONE_STATUSES:
            raise MediaRejected("not-found", f"Twilio answered {response.status_code}")
        if response.status_code != httpx.codes.OK:
            log.warning("media.twilio.refused", status=response.status_code)
            raise MediaUnavailable(f"Twilio answered {response.status_code}")
        content_type = accepted_type(response.headers.get("content-type", ""))
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit():
            check_size(int(declared), self._max_bytes)
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            check_size(len(body), self._max_bytes)  # stops reading at the cap, whatever was declared
        return FetchedMedia(content_type=content_type, data=bytes(body))


def _check_url(url: str) -> None:
    """Credentials are only ever sent to Twilio over HTTPS."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not (host == TWILIO_DOMAIN or host.endswith("." + TWILIO_DOMAIN)):
        raise MediaRejected("not-twilio", "media URLs must be https://*.twilio.com")
