"""`python -m app.changes subscribe|unsubscribe`: create/repair or remove this deployment's Subscriptions."""

from __future__ import annotations

import argparse
import asyncio

from app.changes.registry import load_handlers, registry, watched_types
from app.changes.subscriptions import ensure_subscriptions, remove_subscriptions
from app.config import get_settings
from app.fhir.client import FhirClient


async def _main(command: str) -> str:
    settings = get_settings()
    if command == "subscribe" and not settings.change_feed_secret.get_secret_value():
        return "PRM_CHANGE_FEED_SECRET is not set: no Subscription made"
    load_handlers()
    fhir = FhirClient(settings.fhir_base_url, timeout_seconds=settings.fhir_timeout_seconds)
    try:
        if command == "subscribe":
            report = await ensure_subscriptions(
                fhir,
                watched_types(registry, settings.change_feed_types),
                endpoint=settings.change_feed_endpoint,
                secret=settings.change_feed_secret.get_secret_value(),
                wait_seconds=60,
            )
            return (
                f"created {report.created}, updated {report.updated}, "
                f"unchanged {report.unchanged}, removed {report.removed}"
            )
        return f"removed {await remove_subscriptions(fhir, settings.change_feed_endpoint)}"
    finally:
        await fhir.aclose()


def main() -> None:
    """Parse the command and run it."""
    parser = argparse.ArgumentParser(prog="python -m app.changes", description=__doc__)
    parser.add_argument("command", choices=["subscribe", "unsubscribe"])
    print(asyncio.run(_main(parser.parse_args().command)))  # noqa: T201


if __name__ == "__main__":
    main()
