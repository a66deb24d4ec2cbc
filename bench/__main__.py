"""`python -m bench`: every benchmark, one after the other, against one HAPI and Redis."""

from __future__ import annotations

import asyncio

from bench import assistant, booking, change_feed, fhir_gateway, messaging
from bench.support import servers


def main() -> None:
    """Run all benchmarks."""
    with servers() as (fhir_url, redis_url):
        asyncio.run(fhir_gateway.run(fhir_url))
        asyncio.run(booking.run(fhir_url, redis_url))
        asyncio.run(assistant.run(fhir_url, redis_url))
        asyncio.run(change_feed.run(fhir_url, redis_url))
        asyncio.run(messaging.run(fhir_url, redis_url))


if __name__ == "__main__":
    main()
