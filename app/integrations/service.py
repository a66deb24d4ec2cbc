"""Registered EHR endpoints: register, list, pause, resume, remove, health; and the /fhir proxy's check
that a Subscription an integration key writes delivers to a registered, active endpoint."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import structlog

from app.errors import Conflict, Invalid, NotFound
from app.fhir.builders import Actor, provenance
from app.fhir.bundle import Transaction
from app.fhir.canonical import PROFILE_EHR_ENDPOINT
from app.fhir.client import FhirClient, Resource
from app.fhir.errors import FhirInvalid, FhirNotFound
from app.fhir.records import commit
from app.integrations.resources import (
    DELIVERY_STATUS,
    Deliveries,
    Payload,
    deliveries_of,
    endpoint_resource,
    subscription_resource,
)

log = structlog.get_logger(__name__)

# An HTTP header name (RFC 9110 token) and a value without control characters.
_HEADER = re.compile(r"([!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}):[ \t]*([^\x00-\x1f\x7f]{1,2048})")
_CRITERIA = re.compile(r"([A-Z][A-Za-z]{1,63})(\?[^\s#]*)?")
# Never delivered to anyone: their contents are secrets or the PRM's own bookkeeping.
UNSUBSCRIBABLE = frozenset({"Subscription", "Endpoint", "Provenance", "AuditEvent"})
# HAPI activates a new Subscription asynchronously from the copy it read at creation: an activation
# that lands after a pause or a delete writes the Subscription back (seen in CI: deleted, then stored
# again as "active" some 300 ms after its creation). Pause and removal wait for the activation,
# re-reading this often, this many times; removal then deletes again what came back.
RECHECK_SECONDS = 1.0
RECHECK_ROUNDS = 8


@dataclass(frozen=True)
class Registration:
    """An Endpoint and the Subscriptions delivering to its address."""

    endpoint: Resource
    subscriptions: list[Resource]


def check_url(url: str, *, production: bool) -> str:
    """The receiver URL, or Invalid('url'): http(s), a host, no credentials; https in production."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("url", "must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise Invalid("url", "must not carry credentials; send them in the header")
    if production and parts.scheme != "https":
        raise Invalid("url", "must use https in production")
    return url


def check_header(header: str) -> str:
    """'Name: value' normalised, or Invalid('header')."""
    match = _HEADER.fullmatch(header.strip())
    if match is None:
        raise Invalid("header", "must be 'Name: value' (one HTTP header, no line breaks)")
    return f"{match.group(1)}: {match.group(2).strip()}"


def check_criteria(criteria: Sequence[str]) -> list[str]:
    """FHIR search criteria `Type?params` (a bare type gets its '?'), or Invalid naming the entry."""
    if not criteria:
        raise Invalid("criteria", "at least one criteria is required, e.g. 'Appointment?status=booked'")
    checked = []
    for index, text in enumerate(criteria):
        match = _CRITERIA.fullmatch(text.strip())
        if match is None:
            raise Invalid(f"criteria[{index}]", "must be a FHIR search such as 'Appointment?status=booked'")
        if match.group(1) in UNSUBSCRIBABLE:
            raise Invalid(f"criteria[{index}]", f"{match.group(1)} changes are not delivered")
        checked.append(match.group(1) + (match.group(2) or "?"))
    if len(set(checked)) != len(checked):
        raise Invalid("criteria", "lists the same criteria twice")
    return checked


async def _endpoints(fhir: FhirClient) -> list[Resource]:
    found = await fhir.search("Endpoint", {"_profile": PROFILE_EHR_ENDPOINT, "status": "active,suspended"})
    return sorted(found, key=lambda e: str(e.get("name", "")))


async def _subscriptions(fhir: FhirClient, url: str) -> list[Resource]:
    found = await fhir.search("Subscription", {"url": url})
    return sorted(found, key=lambda s: str(s["id"]))


async def register(
    fhir: FhirClient,
    *,
    name: str,
    url: str,
    header: str,
    criteria: Sequence[str],
    payload: Payload,
    production: bool,
    actors: Sequence[Actor],
) -> Registration:
    """Record the endpoint and create its Subscriptions, all in one transaction (409 if the URL is taken)."""
    url = check_url(url, production=production)
    header = check_header(header)
    wanted = check_criteria(criteria)
    if any(e.get("address") == url for e in await _endpoints(fhir)):
        raise Conflict("An endpoint with this url is already registered")
    endpoint_id = f"ehr-{uuid.uuid4().hex[:16]}"
    tx = Transaction()
    ref = tx.update(endpoint_resource(endpoint_id=endpoint_id, name=name, url=url, payload=payload))
    for index, text in enumerate(wanted):
        tx.update(
            subscription_resource(
                endpoint_id=endpoint_id, index=index, criteria=text, url=url, header=header, payload=payload
            )
        )
    tx.create(provenance(targets=[ref], actors=list(actors), activity="integration.endpoint.register"))
    try:
        written = await commit(fhir, tx, on_conflict=Conflict("The endpoint changed meanwhile; retry"))
    except FhirInvalid as exc:
        raise Invalid("criteria", f"the FHIR server refused a criteria: {exc}") from None
    log.info(
        "integrations.endpoint.registered", endpoint=f"Endpoint/{endpoint_id}", subscriptions=len(wanted)
    )
    return Registration(written[0], [r for r in written if r.get("resourceType") == "Subscription"])


async def list_registrations(fhir: FhirClient) -> list[Registration]:
    """Every registered endpoint (active or paused) with its Subscriptions."""
    return [Registration(e, await _subscriptions(fhir, str(e["address"]))) for e in await _endpoints(fhir)]


async def get_registration(fhir: FhirClient, endpoint_id: str) -> Registration:
    """One registered endpoint, or NotFound."""
    try:
        endpoint = await fhir.read("Endpoint", endpoint_id)
    except FhirNotFound:
        raise NotFound("Endpoint", endpoint_id) from None
    if (
        PROFILE_EHR_ENDPOINT not in endpoint.get("meta", {}).get("profile", [])
        or endpoint.get("status") == "off"
    ):
        raise NotFound("Endpoint", endpoint_id)
    return Registration(endpoint, await _subscriptions(fhir, str(endpoint["address"])))


async def deliveries(fhir: FhirClient, subscription_ids: Sequence[str]) -> dict[str, Deliveries]:
    """HAPI's record of each Subscription's rest-hook deliveries (R4 Subscriptions keep none themselves)."""
    found = await asyncio.gather(*(_deliveries(fhir, sid) for sid in subscription_ids))
    return dict(zip(subscription_ids, found, strict=True))


async def _deliveries(fhir: FhirClient, subscription_id: str) -> Deliveries:
    try:
        return deliveries_of(
            await fhir.operation(f"Subscription/{subscription_id}/{DELIVERY_STATUS}", method="GET")
        )
    except FhirInvalid:
        # A FHIR server without the PRM's operation (not hapi-config's build): nothing recorded.
        log.warning(
            "integrations.delivery_status.unsupported", subscription=f"Subscription/{subscription_id}"
        )
        return Deliveries()


async def set_active(
    fhir: FhirClient, endpoint_id: str, *, active: bool, actors: Sequence[Actor]
) -> Registration:
    """Pause (Subscriptions off) or resume (requested: HAPI activates them again) deliveries."""
    found = await get_registration(fhir, endpoint_id)
    subscriptions = found.subscriptions
    if not active:
        subscriptions = await _activated(fhir, str(found.endpoint["address"]), subscriptions)
    tx = Transaction()
    ref = tx.update({**found.endpoint, "status": "active" if active else "suspended"})
    for subscription in subscriptions:
        tx.update({**subscription, "status": "requested" if active else "off"})
    activity = "integration.endpoint." + ("resume" if active else "pause")
    tx.create(provenance(targets=[ref], actors=list(actors), activity=activity, operation="UPDATE"))
    await commit(fhir, tx, on_conflict=Conflict("The endpoint changed meanwhile; retry"))
    log.info(activity.replace("integration.", "integrations."), endpoint=f"Endpoint/{endpoint_id}")
    return await get_registration(fhir, endpoint_id)


async def remove(fhir: FhirClient, endpoint_id: str, *, actors: Sequence[Actor]) -> None:
    """Stop deliveries for good: the Subscriptions are deleted, the Endpoint kept as 'off' for the record."""
    found = await get_registration(fhir, endpoint_id)
    tx = Transaction()
    ref = tx.update({**found.endpoint, "status": "off"})
    tx.create(
        provenance(
            targets=[ref], actors=list(actors), activity="integration.endpoint.remove", operation="UPDATE"
        )
    )
    await commit(fhir, tx, on_conflict=Conflict("The endpoint changed meanwhile; retry"))
    url = str(found.endpoint["address"])
    left = await _activated(fhir, url, found.subscriptions)
    for _ in range(RECHECK_ROUNDS):
        if not left:
            break
        for subscription in left:
            await fhir.delete("Subscription", str(subscription["id"]))
        await asyncio.sleep(RECHECK_SECONDS)
        left = await _subscriptions(fhir, url)
    if left:
        log.warning(
            "integrations.endpoint.subscriptions_left", endpoint=f"Endpoint/{endpoint_id}", count=len(left)
        )
    log.info("integrations.endpoint.removed", endpoint=f"Endpoint/{endpoint_id}")


async def _activated(fhir: FhirClient, url: str, subscriptions: list[Resource]) -> list[Resource]:
    """The endpoint's Subscriptions once HAPI has activated the `requested` ones (a write before that is
    undone by the activation), or as they are after RECHECK_ROUNDS re-reads (one HAPI never activates)."""
    for _ in range(RECHECK_ROUNDS):
        if not any(s.get("status") == "requested" for s in subscriptions):
            break
        await asyncio.sleep(RECHECK_SECONDS)
        subscriptions = await _subscriptions(fhir, url)
    return subscriptions


async def is_registered(fhir: FhirClient, url: str) -> bool:
    """True when `url` is the address of an active registered endpoint (the /fhir Subscription rule)."""
    return any(e.get("address") == url and e.get("status") == "active" for e in await _endpoints(fhir))
