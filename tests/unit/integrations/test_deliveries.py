"""HAPI's delivery record (hapi-config DeliveryStatus, Subscription/<id>/$prm-delivery-status) read from
its Parameters, tolerating the parts HAPI leaves out."""

from __future__ import annotations

from datetime import UTC, datetime

from app.integrations.resources import Deliveries, deliveries_of


def test_a_full_record_is_read() -> None:
    parameters = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "since", "valueInstant": "2026-11-29T06:00:00.000+00:00"},
            {"name": "deliveries", "valueInteger": 3},
            {"name": "failures", "valueInteger": 2},
            {"name": "lastDelivery", "valueInstant": "2026-11-29T06:10:00.000+00:00"},
            {"name": "lastFailure", "valueInstant": "2026-11-29T06:20:00.000+00:00"},
            {"name": "lastError", "valueString": "InternalErrorException (HTTP 500)"},
        ],
    }
    assert deliveries_of(parameters) == Deliveries(
        since=datetime(2026, 11, 29, 6, 0, tzinfo=UTC),
        deliveries=3,
        failures=2,
        last_delivery=datetime(2026, 11, 29, 6, 10, tzinfo=UTC),
        last_failure=datetime(2026, 11, 29, 6, 20, tzinfo=UTC),
        last_error="InternalErrorException (HTTP 500)",
    )


def test_a_subscription_never_delivered_reads_as_nothing_yet() -> None:
    parameters = {
        "resourceType": "Parameters",
        "parameter": [{"name": "since", "valueInstant": "2026-11-29T06:00:00Z"}],
    }
    assert deliveries_of(parameters) == Deliveries(since=datetime(2026, 11, 29, 6, 0, tzinfo=UTC))
    assert deliveries_of({"resourceType": "Parameters"}) == Deliveries()
