"""HAPI's answer to a request the `/fhir` proxy forwarded: status, headers and the raw body bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import httpx

from app.fhir.errors import FhirUnavailable


class Upstream:
    """A streaming HAPI response; bytes come as sent (compressed if HAPI compressed them)."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._chunks = response.aiter_raw()
        self.status_code = response.status_code
        self.headers: Mapping[str, str] = response.headers

    async def read_up_to(self, limit: int) -> tuple[bytes, bool]:
        """The first bytes of the body (a little over `limit` at most) and whether that is all of it."""
        read: list[bytes] = []
        size = 0
        try:
            async for chunk in self._chunks:
                read.append(chunk)
                size += len(chunk)
                if size > limit:
                    return b"".join(read), False
        except httpx.HTTPError as exc:
            raise FhirUnavailable(f"FHIR server response broken off: {type(exc).__name__}") from exc
        return b"".join(read), True

    async def rest(self) -> AsyncIterator[bytes]:
        """The body bytes not read yet."""
        async for chunk in self._chunks:
            yield chunk

    async def aclose(self) -> None:
        """Release the connection."""
        await self._response.aclose()
