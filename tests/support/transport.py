"""An httpx transport that counts what goes through it: HAPI round trips per PRM operation."""

from __future__ import annotations

import httpx


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts the requests (and keeps their method and path), then sends them."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests = 0
        self.sent: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Count, then send."""
        self.requests += 1
        self.sent.append(f"{request.method} {request.url.path}")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the real transport."""
        await self.inner.aclose()
