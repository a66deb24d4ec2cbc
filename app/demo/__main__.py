"""`python -m app.demo`: load the FHIR profiles and the demo clinic into the configured HAPI."""

from __future__ import annotations

import asyncio

from app.config import get_settings
from app.conformance.loader import load_conformance
from app.demo.seed import load_demo
from app.logging import configure_logging
from app.services import build_services


async def main() -> None:
    """Load conformance resources, then the demo clinic; print what changed."""
    settings = get_settings()
    configure_logging(level="WARNING", json=False)
    # Loading the whole clinic sends large transactions: give HAPI time.
    services = build_services(settings.model_copy(update={"fhir_timeout_seconds": 120.0}))
    try:
        conformance = await load_conformance(services.fhir)
        demo = await load_demo(
            services.fhir,
            services.directory,
            services.state,
            now=services.clock.now(),
            mrn_prefix=services.settings.mrn_prefix,
        )
    finally:
        await services.aclose()
    print(f"conformance: {conformance.summary()}")  # noqa: T201 - a CLI's output
    print(  # noqa: T201
        f"demo clinic: {demo.created} directory resources created, "
        f"{demo.patients_registered} patients registered, {demo.slots_created} slots created"
    )


if __name__ == "__main__":
    asyncio.run(main())
