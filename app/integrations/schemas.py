"""API shapes of registered EHR endpoints (the header value is write-only: answers mask it)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.fhir.client import Resource
from app.integrations.resources import Deliveries, Payload, masked_header, payload_of
from app.integrations.service import Registration


class EndpointIn(BaseModel):
    """A receiver for rest-hook deliveries: one Subscription per criteria, each delivery with `header`."""

    name: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=2048, description="https in production")
    header: str = Field(
        min_length=3,
        max_length=2100,
        description="'Name: value' sent with every delivery (a secret, never shown)",
    )
    criteria: list[str] = Field(
        min_length=1, max_length=50, examples=[["Appointment?status=booked", "Patient?"]]
    )
    payload: Payload = Payload.FULL_RESOURCE


class SubscriptionHealth(BaseModel):
    """One Subscription as HAPI reports it."""

    id: str
    criteria: str
    status: str = Field(description="HAPI's status: requested, active, error or off")
    error: str | None = Field(description="HAPI's last error text for the Subscription")

    @classmethod
    def of(cls, subscription: Resource) -> SubscriptionHealth:
        """From a Subscription resource (its header is not read)."""
        return cls(
            id=str(subscription["id"]),
            criteria=str(subscription.get("criteria", "")),
            status=str(subscription.get("status", "")),
            error=subscription.get("error"),
        )


class EndpointOut(BaseModel):
    """A registered endpoint; `header` shows the header name only."""

    id: str
    name: str
    url: str
    header: str | None
    criteria: list[str]
    payload: Payload
    status: Literal["active", "paused"]
    subscriptions: list[SubscriptionHealth]

    @classmethod
    def of(cls, registration: Registration) -> EndpointOut:
        """From the Endpoint and its Subscriptions."""
        endpoint, subscriptions = registration.endpoint, registration.subscriptions
        return cls(
            id=str(endpoint["id"]),
            name=str(endpoint.get("name", "")),
            url=str(endpoint.get("address", "")),
            header=masked_header(subscriptions),
            criteria=[str(s.get("criteria", "")) for s in subscriptions],
            payload=payload_of(endpoint),
            status="active" if endpoint.get("status") == "active" else "paused",
            subscriptions=[SubscriptionHealth.of(s) for s in subscriptions],
        )


class SubscriptionDeliveries(SubscriptionHealth):
    """One Subscription with HAPI's record of its rest-hook deliveries (kept in HAPI's memory since
    `recorded_since`, its start: a restart forgets them)."""

    recorded_since: datetime | None = Field(description="Since when HAPI counts (its start)")
    deliveries: int = Field(description="Deliveries the receiver accepted")
    failures: int = Field(description="Failed attempts (HAPI retries each notification a few times)")
    last_delivery: datetime | None = Field(description="When the receiver last accepted a delivery")
    last_failure: datetime | None = Field(description="When an attempt last failed")
    last_delivery_error: str | None = Field(
        description="The last failure: exception type and HTTP status (the receiver's answer is not kept)"
    )

    @classmethod
    def with_deliveries(cls, subscription: Resource, deliveries: Deliveries) -> SubscriptionDeliveries:
        """From a Subscription and its deliveries."""
        return cls(
            **SubscriptionHealth.of(subscription).model_dump(),
            recorded_since=deliveries.since,
            deliveries=deliveries.deliveries,
            failures=deliveries.failures,
            last_delivery=deliveries.last_delivery,
            last_failure=deliveries.last_failure,
            last_delivery_error=deliveries.last_error,
        )


class EndpointHealth(BaseModel):
    """Delivery health: every Subscription active and without error is 'healthy'."""

    id: str
    healthy: bool
    status: Literal["active", "paused"]
    subscriptions: list[SubscriptionDeliveries]
    last_delivery: datetime | None = Field(description="The latest delivery any Subscription made")
    last_failure: datetime | None = Field(description="The latest failed delivery attempt")
    last_error: str | None = Field(
        description="HAPI's error text on a Subscription, else the latest failed delivery's error"
    )
