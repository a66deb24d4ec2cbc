"""FHIR shapes of a registered EHR endpoint: an `Endpoint` (prm-ehr-endpoint) and its rest-hook Subscriptions.

The Endpoint holds name, address, status and payload kind; the delivery header (a secret) lives only
in the Subscriptions' channel.header, which nobody reads through /fhir. A Subscription belongs to an
endpoint when its channel.endpoint is the Endpoint's address (HAPI's `url` search parameter).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from app.fhir.builders import meta_profile
from app.fhir.canonical import CS_AGENT_TYPE, PROFILE_EHR_ENDPOINT
from app.fhir.client import FHIR_JSON, Resource
from app.fhir.dates import parse_datetime

CONNECTION_TYPE = {
    "system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type",
    "code": "hl7-fhir-rest",
}
PAYLOAD_TYPE = {"system": "http://terminology.hl7.org/CodeSystem/endpoint-payload-type", "code": "any"}
# HAPI's extension on Subscription.channel: deletes are notified too (R4 criteria never match them).
EXT_SEND_DELETES = "http://hapifhir.io/fhir/StructureDefinition/subscription-send-delete-messages"
SUBSCRIPTION_PREFIX = "prm-ehr-"
# Written by the PRM system agent, like the change feed's own Subscriptions.
TAG = {"system": CS_AGENT_TYPE, "code": "system", "display": "PRM registered EHR endpoint"}
MASK = "********"
# HAPI's operation (hapi-config DeliveryStatus.java) reporting a Subscription's rest-hook deliveries.
DELIVERY_STATUS = "$prm-delivery-status"


class Payload(StrEnum):
    """What a delivery carries: the resource (application/fhir+json), or nothing (a notification)."""

    FULL_RESOURCE = "full-resource"
    ID_ONLY = "id-only"


def endpoint_resource(
    *, endpoint_id: str, name: str, url: str, payload: Payload, active: bool = True
) -> Resource:
    """The Endpoint recording one registration."""
    resource: Resource = {
        "resourceType": "Endpoint",
        "id": endpoint_id,
        "meta": meta_profile(PROFILE_EHR_ENDPOINT),
        "status": "active" if active else "suspended",
        "connectionType": CONNECTION_TYPE,
        "name": name,
        "payloadType": [{"coding": [PAYLOAD_TYPE]}],
        "address": url,
    }
    if payload is Payload.FULL_RESOURCE:
        resource["payloadMimeType"] = [FHIR_JSON]
    return resource


def subscription_resource(
    *,
    endpoint_id: str,
    index: int,
    criteria: str,
    url: str,
    header: str,
    payload: Payload,
    active: bool = True,
) -> Resource:
    """The rest-hook Subscription delivering one criteria of an endpoint."""
    channel: dict[str, Any] = {
        "extension": [{"url": EXT_SEND_DELETES, "valueBoolean": True}],
        "type": "rest-hook",
        "endpoint": url,
        "header": [header],
    }
    if payload is Payload.FULL_RESOURCE:
        channel["payload"] = FHIR_JSON
    return {
        "resourceType": "Subscription",
        "id": f"{SUBSCRIPTION_PREFIX}{endpoint_id}-{index}",
        "meta": {"tag": [TAG]},
        "status": "requested" if active else "off",
        "reason": f"PRM registered endpoint Endpoint/{endpoint_id}",
        "criteria": criteria,
        "channel": channel,
    }


def payload_of(endpoint: Resource) -> Payload:
    """The endpoint's payload kind."""
    return Payload.FULL_RESOURCE if endpoint.get("payloadMimeType") else Payload.ID_ONLY


def masked_header(subscriptions: list[Resource]) -> str | None:
    """'Name: ********' from the first Subscription's header; the value is never shown."""
    for subscription in subscriptions:
        for header in subscription.get("channel", {}).get("header", []):
            return f"{str(header).split(':', 1)[0].strip()}: {MASK}"
    return None


@dataclass(frozen=True)
class Deliveries:
    """A Subscription's rest-hook deliveries as HAPI recorded them (in its memory, since `since`: HAPI's start)."""

    since: datetime | None = None
    deliveries: int = 0
    failures: int = 0
    last_delivery: datetime | None = None
    last_failure: datetime | None = None
    last_error: str | None = None  # the failure's exception type and HTTP status, never a message


def deliveries_of(parameters: Resource) -> Deliveries:
    """From the operation's Parameters (missing parts read as none)."""
    values = {
        str(p.get("name")): next((v for k, v in p.items() if k.startswith("value")), None)
        for p in parameters.get("parameter", [])
    }
    return Deliveries(
        since=parse_datetime(values.get("since")),
        deliveries=int(values.get("deliveries") or 0),
        failures=int(values.get("failures") or 0),
        last_delivery=parse_datetime(values.get("lastDelivery")),
        last_failure=parse_datetime(values.get("lastFailure")),
        last_error=str(values["lastError"]) if values.get("lastError") else None,
    )
