"""One rest-hook Subscription per watched type, created or repaired idempotently (start-up and CLI).

HAPI 8.8 (observed): criteria must be `<Type>?` (a bare type is refused, HAPI-0014). With payload
`application/fhir+json` it PUTs `<endpoint>/<Type>/<id>` with the resource, `If-Match: W/"<version>"`
and our `channel.header`; with HAPI's send-delete extension it also sends `DELETE <endpoint>/<Type>/<id>`
(no body, no version). It retries a failed delivery for about a minute, then drops it: the sweep
catches up.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import structlog

from app.changes.model import Resource, check_type
from app.fhir.canonical import CS_AGENT_TYPE
from app.fhir.client import FHIR_JSON, FhirClient
from app.fhir.errors import FhirNotFound

log = structlog.get_logger(__name__)

ID_PREFIX = "prm-change-feed-"
# Recognises the PRM's own subscriptions (an EHR's never carry it): written by the PRM system agent.
TAG = {"system": CS_AGENT_TYPE, "code": "system", "display": "PRM change feed"}
# HAPI's extension on Subscription.channel: also notify deletes (R4 criteria alone never match a delete).
EXT_SEND_DELETES = "http://hapifhir.io/fhir/StructureDefinition/subscription-send-delete-messages"
ACTIVATION_POLL_SECONDS = 0.5


@dataclass
class SubscriptionReport:
    """What `ensure_subscriptions` did, as Subscription ids."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def subscription_id(resource_type: str, endpoint: str) -> str:
    """A fixed id per type and endpoint: the same deployment always writes the same resource."""
    digest = hashlib.sha256(endpoint.encode()).hexdigest()[:10]
    return f"{ID_PREFIX}{check_type(resource_type).lower()}-{digest}"


def desired_subscription(resource_type: str, *, endpoint: str, secret: str) -> Resource:
    """The Subscription that feeds changes of `resource_type` to `endpoint`."""
    return {
        "resourceType": "Subscription",
        "id": subscription_id(resource_type, endpoint),
        "meta": {"tag": [TAG]},
        "status": "requested",
        "reason": f"PRM change feed: {resource_type}",
        "criteria": f"{resource_type}?",
        "channel": {
            "extension": [{"url": EXT_SEND_DELETES, "valueBoolean": True}],
            "type": "rest-hook",
            "endpoint": endpoint,
            "payload": FHIR_JSON,
            "header": [f"Authorization: Bearer {secret}"],
        },
    }


def _same(stored: Resource, desired: Resource) -> bool:
    """True if HAPI holds what we want and it is (being made) active."""
    return (
        stored.get("status") in ("requested", "active")
        and stored.get("criteria") == desired["criteria"]
        and stored.get("channel") == desired["channel"]
        and any(t.get("system") == TAG["system"] and t.get("code") == TAG["code"] for t in stored.get("meta", {}).get("tag", []))
    )  # fmt: skip


async def ensure_subscriptions(
    fhir: FhirClient,
    types: Iterable[str],
    *,
    endpoint: str,
    secret: str,
    wait_seconds: float = 0.0,
) -> SubscriptionReport:
    """Create or repair one Subscription per type for `endpoint`; remove ours for types no longer watched."""
    report = SubscriptionReport()
    wanted = {
        subscription_id(t, endpoint): desired_subscription(t, endpoint=endpoint, secret=secret) for t in types
    }
    for sub_id, desired in wanted.items():
        try:
            stored: Resource | None = await fhir.read("Subscription", sub_id)
        except FhirNotFound:
            stored = None
        if stored is not None and _same(stored, desired):
            report.unchanged.append(sub_id)
            continue
        await fhir.update(desired)
        (report.updated if stored is not None else report.created).append(sub_id)
    for stale in await _ours(fhir, endpoint):
        if stale["id"] not in wanted:
            await fhir.delete("Subscription", stale["id"])
            report.removed.append(stale["id"])
    if wait_seconds > 0:
        await wait_until_active(fhir, list(wanted), timeout_seconds=wait_seconds)
    log.info(
        "changes.subscriptions.ensured",
        created=len(report.created), updated=len(report.updated),
        unchanged=len(report.unchanged), removed=len(report.removed),
    )  # fmt: skip
    return report


async def remove_subscriptions(fhir: FhirClient, endpoint: str) -> list[str]:
    """Delete the PRM's Subscriptions that deliver to `endpoint`; their ids."""
    removed = []
    for stale in await _ours(fhir, endpoint):
        await fhir.delete("Subscription", stale["id"])
        removed.append(str(stale["id"]))
    return removed


async def wait_until_active(fhir: FhirClient, ids: list[str], *, timeout_seconds: float) -> None:
    """Poll until HAPI has switched every Subscription to `active` (it does so asynchronously)."""
    deadline = time.monotonic() + timeout_seconds
    pending = list(ids)
    while pending:
        pending = [i for i in pending if (await fhir.read("Subscription", i)).get("status") != "active"]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"Subscriptions not active after {timeout_seconds}s: {', '.join(pending)}")
        await asyncio.sleep(ACTIVATION_POLL_SECONDS)


async def _ours(fhir: FhirClient, endpoint: str) -> list[Resource]:
    found = await fhir.search("Subscription", {"_tag": f"{TAG['system']}|{TAG['code']}"})
    return [
        s for s in found
        if str(s.get("id", "")).startswith(ID_PREFIX) and s.get("channel", {}).get("endpoint") == endpoint
    ]  # fmt: skip
