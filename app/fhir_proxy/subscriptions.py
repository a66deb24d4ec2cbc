"""Subscriptions written through `/fhir` deliver only to endpoints an admin registered (DESIGN.md inv. 9)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from app.fhir.client import FhirClient
from app.integrations.service import is_registered

# The PRM's own Subscriptions (change feed, registered endpoints) carry these ids; nobody else writes them.
RESERVED_ID_PREFIX = "prm-"
NOT_REGISTERED = (
    "Subscription.channel.endpoint is not a registered endpoint; an admin registers it with "
    "POST /api/v1/integrations/endpoints"
)


async def refusal(
    fhir: FhirClient, body: bytes, headers: Mapping[str, str], segments: Sequence[str]
) -> tuple[int, str] | None:
    """None when the Subscription may be written, else (4xx status, why)."""
    if "json" not in headers.get("content-type", ""):
        return 415, "Send Subscriptions as JSON (Content-Type: application/fhir+json)"
    if headers.get("content-encoding", "identity").strip().lower() != "identity":
        return 415, "Send Subscriptions uncompressed"
    if len(segments) > 1 and segments[1].startswith(RESERVED_ID_PREFIX):
        return 403, f"Subscription ids starting {RESERVED_ID_PREFIX!r} are the PRM's own"
    try:
        subscription = json.loads(body)
    except ValueError:
        return 400, "The request body is not valid JSON"
    if not isinstance(subscription, dict) or subscription.get("resourceType") != "Subscription":
        return 400, "The request body is not a Subscription"
    channel = subscription.get("channel")
    channel = channel if isinstance(channel, dict) else {}
    if channel.get("type") != "rest-hook":
        return 403, "Only rest-hook Subscriptions are offered (Subscription.channel.type)"
    endpoint = channel.get("endpoint")
    if not isinstance(endpoint, str) or not await is_registered(fhir, endpoint):
        return 403, NOT_REGISTERED
    return None
