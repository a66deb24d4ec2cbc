"""FHIR shapes of a registered EHR endpoint: an `Endpoint` (prm-ehr-endpoint) and its rest-hook Subscriptions.

The Endpoint holds name, address, status and payload kind; the delivery header (a secret) lives only
in the Subscriptions' channel.header, which nobody reads through /fhir. A Subscription belongs to an
endpoint when its channel.endpoint is the Endpoint's address (HAPI's `url` search parameter).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from app.fhir.builders import meta_profile
from app.fhir.canonical import CS_AGENT_TYPE, PROFILE_EHR_ENDPOINT
from app.fhir.client import FHIR_JSON, Resource

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
