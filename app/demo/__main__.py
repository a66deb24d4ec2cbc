"""`python -m app.demo`: load the FHIR profiles and the demo clinic into the configured HAPI."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from app.config import get_settings
from app.conformance.loader import load_conformance
from app.demo.seed import load_demo
from app.directory.index import DirectoryCache
from app.fhir.client import FhirClient
from app.logging import configure_logging


async def main() -> None:
    """Load conformance resources, then the demo clinic; print what changed."""
    settings = get_settings()
    configure_logging(level="WARNING", json=False)
    fhir = FhirClient(settings.fhir_base_url, timeout_seconds=120)
    try:
        conformance = await load_conformance(fhir)
        cache = DirectoryCache(fhir, default_timezone=settings.default_timezone)
        demo = await load_demo(fhir, cache, now=datetime.now(UTC))
    finally:
        await fhir.aclose()
    print(f"conformance: {conformance.summary()}")  # noqa: T201 - a CLI's output
    print(  # noqa: T201
        f"demo clinic: {demo.created} directory resources created, "
        f"{demo.patients_registered} patients registered, {demo.slots_created} slots created"
    )


if __name__ == "__main__":
    asyncio.run(main())
