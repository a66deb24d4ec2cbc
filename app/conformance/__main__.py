"""`python -m app.conformance [--no-examples]`: load fhir_profiles/ into the configured HAPI server."""

from __future__ import annotations

import argparse
import asyncio
import sys

from app.config import get_settings
from app.conformance.loader import ConformanceError, load_conformance
from app.fhir.errors import FhirError
from app.logging import configure_logging
from app.services import build_services


async def _load(include_examples: bool) -> int:
    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    services = build_services(settings)
    try:
        report = await load_conformance(services.fhir, include_examples=include_examples)
    except (ConformanceError, FhirError) as exc:
        sys.stderr.write(f"conformance load into {settings.fhir_base_url} failed: {exc}\n")
        return 1
    finally:
        await services.aclose()
    sys.stdout.write(f"conformance loaded into {settings.fhir_base_url}: {report.summary()}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, load, and return the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m app.conformance", description=__doc__)
    parser.add_argument(
        "--no-examples",
        action="store_true",
        help="load profiles, terminology and search parameters only, not fhir_profiles/examples",
    )
    args = parser.parse_args(argv)
    return asyncio.run(_load(include_examples=not args.no_examples))


if __name__ == "__main__":
    sys.exit(main())
