"""Analytics on a known data set seeded in the real HAPI: exact figures for every report, local days in the
clinic's time zone, CSV export, and precise 4xx for a bad period.

Every figure test runs twice on a data set of its own: read live, and with the first two days rolled up
into daily MeasureReports (the third day still live), so both paths give the same figures.
The HAPI is shared: appointments are scoped by a location of the test's own, everything else by three days
picked at random decades ahead (no one else writes there)."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.fhir.builders import Actor, AgentKind, extension, instant
from app.fhir.bundle import Transaction
from app.fhir.canonical import EXT_DELIVERY_STATUS
from app.fhir.client import FhirClient, Resource
from app.messaging import resources as messages
from app.opportunities.resources import Stage, opportunity_resource
from app.tickets.resources import ticket_resource
from tests.analytics.support import appointment, at, roll_up
from tests.clinic import make_clinic, make_patient, make_practitioner
from tests.factories import unique

pytestmark = pytest.mark.integration
SYSTEM = Actor(kind=AgentKind.SYSTEM)


def _lead(patient: str, stage: Stage, source: str, authored: datetime) -> Resource:
    lead = opportunity_resource(
        patient_ref=f"Patient/{patient}", stage=stage, source=source, description=None
    )
    return {**lead, "authoredOn": instant(authored)}


def _ticket(
    patient: str,
    category: str,
    priority: str,
    *,
    authored: datetime,
    due: datetime | None,
    resolved: datetime | None,
) -> Resource:
    ticket = ticket_resource(
        patient_ref=f"Patient/{patient}",
        category=category,
        description="x",
        due=due or authored,
        owner=None,
        created=authored,
        priority=priority,
    )
    if due is None:
        ticket.pop("restriction")  # valid FHIR without a due time (written by others)
    if resolved is not None:
        # Not executionPeriod.end: a ticket resolved before its due time would end before it starts.
        ticket["status"] = "completed"
        ticket["lastModified"] = instant(resolved)
    return ticket


def _outbound(patient: str, channel: str, delivery: str, sent: datetime) -> Resource:
    message = messages.outbound_message(
        channel=channel, thread_id=f"{channel}:test", patient_id=patient, text="x", sender=SYSTEM
    )
    message["status"] = "completed"
    message["sent"] = instant(sent)
    message["extension"] = [e for e in message["extension"] if e["url"] != EXT_DELIVERY_STATUS]
    message["extension"].append(extension(EXT_DELIVERY_STATUS, valueCode=delivery))
    return message


def _inbound(patient: str, channel: str, received: datetime) -> Resource:
    return messages.inbound_message(
        provider_id=unique("SM"),
        channel=channel,
        thread_id=f"{channel}:test",
        patient_id=patient,
        text="x",
        received=received,
    )


@pytest.fixture(scope="module", params=["live", "rolled-up"])
async def seeded(
    request: pytest.FixtureRequest,
    app: Any,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
) -> dict[str, Any]:
    """The known data set (its first two days rolled up, for the rolled-up run); its period, location and
    practitioners."""
    clinic = await make_clinic(api, admin)
    cardiologist = await make_practitioner(api, admin, clinic, specialty="cardiology")
    surgeon = await make_practitioner(api, admin, clinic, specialty="orthopedics")
    patient = (await make_patient(api, staff))["id"]
    d0 = date(2031, 1, 1) + timedelta(days=random.randrange(20000))
    d1, d2, d3 = (d0 + timedelta(days=n) for n in (1, 2, 3))
    where = {"patient": patient, "location": clinic.location}
    tx = Transaction()
    for start, status, channel, specialty, doctor in [
        (at(d0, 9), "booked", "whatsapp", "cardiology", cardiologist),
        (at(d0, 10), "fulfilled", "dashboard", "cardiology", cardiologist),
        (at(d0, 11), "noshow", "voice", "orthopedics", surgeon),
        (at(d0, 23, 45), "cancelled", "whatsapp", "orthopedics", surgeon),  # 18:15 UTC: still d0 locally
        (at(d1, 9), "fulfilled", "assistant", "cardiology", cardiologist),
        (at(d1, 10), "arrived", "whatsapp", "cardiology", cardiologist),
        (at(d2, 0, 15), "cancelled", "dashboard", "orthopedics", surgeon),  # 18:45 UTC of d1: d2 locally
        (at(d3, 0, 5), "booked", "dashboard", "orthopedics", surgeon),  # after the period (d2 UTC)
    ]:
        tx.create(
            appointment(
                start=start, status=status, channel=channel, specialty=specialty, doctor=doctor, **where
            )
        )
    for stage, source in [
        (Stage.NEW, "whatsapp"), (Stage.BOOKED, "whatsapp"), (Stage.WON, "whatsapp"), (Stage.LOST, "whatsapp"),
        (Stage.CONTACTED, "voice"), (Stage.WON, "voice"),
    ]:  # fmt: skip
        tx.create(_lead(patient, stage, source, at(d1, 12)))
    tx.create(
        _ticket(patient, "complaint", "urgent", authored=at(d0, 10), due=at(d0, 14), resolved=at(d0, 12))
    )
    tx.create(
        _ticket(patient, "callback", "routine", authored=at(d0, 10), due=at(d0, 11), resolved=at(d0, 13))
    )
    tx.create(_ticket(patient, "callback", "routine", authored=at(d1, 9), due=at(d1, 10), resolved=None))
    tx.create(_ticket(patient, "other", "routine", authored=at(d1, 9), due=None, resolved=at(d1, 17)))
    for delivery in ("read", "delivered", "failed"):
        tx.create(_outbound(patient, "whatsapp", delivery, at(d0, 15)))
    tx.create(_outbound(patient, "sms", "sent", at(d2, 15)))
    tx.create(_inbound(patient, "whatsapp", at(d1, 8)))
    tx.create(_inbound(patient, "whatsapp", at(d2, 8)))
    tx.create(_inbound(patient, "voice", at(d1, 9)))
    call = _outbound(patient, "voice", "sent", at(d2, 9))
    tx.create({**call, "status": "not-done"})
    await fhir.transaction(tx.bundle())
    if request.param == "rolled-up":
        await roll_up(app.state.services, d0, d1, now=at(d3 + timedelta(days=1), 0, 5))
    return {
        "start": d0,
        "end": d2,
        "location": clinic.location,
        "p1": cardiologist["id"],
        "p2": surgeon["id"],
    }


async def test_appointments_per_local_day_with_exact_counts_and_rates(
    api: httpx.AsyncClient, staff: dict[str, str], seeded: dict[str, Any]
) -> None:
    d0, p1, p2 = seeded["start"], seeded["p1"], seeded["p2"]
    response = await api.get(
        "/api/v1/analytics/appointments",
        params={"start": d0.isoformat(), "end": seeded["end"].isoformat(), "location": seeded["location"]},
        headers=staff,
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["total"] == 7
    assert report["by_status"] == {"arrived": 1, "booked": 1, "cancelled": 2, "fulfilled": 2, "noshow": 1}
    assert report["by_channel"] == {"assistant": 1, "dashboard": 2, "voice": 1, "whatsapp": 3}
    assert report["by_department"] == {"cardiology": 4, "orthopedics": 3}
    assert report["by_practitioner"] == dict(sorted({p1: 4, p2: 3}.items()))
    assert report["by_location"] == {seeded["location"]: 7}
    assert report["cancellation_rate"] == round(2 / 7, 4)
    assert report["no_show_rate"] == 0.25
    assert [(d["date"], d["total"]) for d in report["days"]] == [
        (d0.isoformat(), 4), ((d0 + timedelta(days=1)).isoformat(), 2), ((d0 + timedelta(days=2)).isoformat(), 1),
    ]  # fmt: skip
    assert report["days"][2]["by_status"] == {"cancelled": 1}
    assert report["timezone"] == "Asia/Kolkata"

    only_p2 = await api.get(
        "/api/v1/analytics/appointments",
        params={
            "start": f"{d0.isoformat()}T00:00:00+05:30",
            "end": seeded["end"].isoformat(),
            "practitioner": p2,
        },
        headers=staff,
    )
    assert only_p2.json()["by_status"] == {"cancelled": 2, "noshow": 1}
    cardiology = await api.get(
        "/api/v1/analytics/appointments",
        params={
            "start": d0.isoformat(),
            "end": d0.isoformat(),
            "location": seeded["location"],
            "department": "cardiology",
        },
        headers=staff,
    )
    assert cardiology.json()["by_status"] == {"booked": 1, "fulfilled": 1}


async def test_appointments_as_csv(
    api: httpx.AsyncClient, staff: dict[str, str], seeded: dict[str, Any]
) -> None:
    d0 = seeded["start"]
    response = await api.get(
        "/api/v1/analytics/appointments",
        params={"start": d0.isoformat(), "end": seeded["end"].isoformat(), "location": seeded["location"]},
        headers={**staff, "Accept": "text/csv"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        f'filename="appointments-{d0.isoformat()}-{seeded["end"].isoformat()}.csv"'
        in response.headers["content-disposition"]
    )
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["date", "dimension", "value", "count"]
    assert [d0.isoformat(), "status", "booked", "1"] in rows
    assert [d0.isoformat(), "channel", "whatsapp", "2"] in rows
    assert [(d0 + timedelta(days=2)).isoformat(), "department", "orthopedics", "1"] in rows
    assert sum(int(r[3]) for r in rows[1:] if r[1] == "status") == 7


async def test_leads_funnel_and_conversion_by_source(
    api: httpx.AsyncClient, staff: dict[str, str], seeded: dict[str, Any]
) -> None:
    params = {"start": seeded["start"].isoformat(), "end": seeded["end"].isoformat()}
    report = (await api.get("/api/v1/analytics/leads", params=params, headers=staff)).json()

    assert report["total"] == 6
    assert report["by_stage"] == {"booked": 1, "contacted": 1, "lost": 1, "new": 1, "won": 2}
    assert report["funnel"] == [
        {"stage": "new", "reached": 6}, {"stage": "contacted", "reached": 4}, {"stage": "qualified", "reached": 3},
        {"stage": "booked", "reached": 3}, {"stage": "won", "reached": 2},
    ]  # fmt: skip
    assert report["by_source"] == [
        {"source": "voice", "total": 2, "converted": 1, "won": 1, "lost": 0, "conversion_rate": 0.5},
        {"source": "whatsapp", "total": 4, "converted": 2, "won": 1, "lost": 1, "conversion_rate": 0.5},
    ]
    assert report["conversion_rate"] == 0.5
    csv_rows = (
        await api.get("/api/v1/analytics/leads", params=params, headers={**staff, "Accept": "text/csv"})
    ).text
    assert "source,whatsapp,lost,1" in csv_rows.splitlines()


async def test_tickets_volume_sla_and_median_time_to_resolve(
    api: httpx.AsyncClient, staff: dict[str, str], seeded: dict[str, Any]
) -> None:
    params = {"start": seeded["start"].isoformat(), "end": seeded["end"].isoformat()}
    report = (await api.get("/api/v1/analytics/tickets", params=params, headers=staff)).json()

    assert report["total"] == 4
    assert report["by_category"] == {"callback": 2, "complaint": 1, "other": 1}
    assert report["by_priority"] == {"routine": 3, "urgent": 1}
    assert report["by_status"] == {"completed": 3, "requested": 1}
    # The open one is due decades ahead of today: pending, not breached.
    assert report["sla"] == {"with_due": 3, "met": 1, "breached": 1, "pending": 1, "compliance_rate": 0.5}
    assert report["resolved"] == 3
    assert report["median_hours_to_resolve"] == 3.0


async def test_messages_by_channel_and_call_outcomes(
    api: httpx.AsyncClient, staff: dict[str, str], seeded: dict[str, Any]
) -> None:
    params = {"start": seeded["start"].isoformat(), "end": seeded["end"].isoformat()}
    report = (await api.get("/api/v1/analytics/messages", params=params, headers=staff)).json()
    calls = (await api.get("/api/v1/analytics/calls", params=params, headers=staff)).json()

    assert report["by_channel"] == [
        {"channel": "sms", "inbound": 0, "outbound": 1, "delivered": 0, "read": 0, "failed": 0,
         "delivery_rate": 0.0, "read_rate": 0.0},
        {"channel": "whatsapp", "inbound": 2, "outbound": 3, "delivered": 2, "read": 1, "failed": 1,
         "delivery_rate": 0.6667, "read_rate": 0.3333},
    ]  # fmt: skip
    assert report["total"] == 6
    assert calls["total"] == 2
    assert calls["by_direction"] == {"inbound": 1, "outbound": 1}
    assert calls["by_outcome"] == {"completed": 1, "not-done": 1}


async def test_a_bad_period_is_a_precise_422_and_staff_only(
    api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    backwards = await api.get(
        "/api/v1/analytics/tickets", params={"start": "2031-01-02", "end": "2031-01-01"}, headers=staff
    )
    garbage = await api.get(
        "/api/v1/analytics/leads", params={"start": "yesterday", "end": "2031-01-01"}, headers=staff
    )
    naive = await api.get(
        "/api/v1/analytics/appointments",
        params={"start": "2031-01-01T00:00:00", "end": "2031-01-01"},
        headers=staff,
    )
    too_long = await api.get(
        "/api/v1/analytics/calls", params={"start": "2031-01-01", "end": "2033-01-01"}, headers=staff
    )
    missing = await api.get("/api/v1/analytics/messages", params={"start": "2031-01-01"}, headers=staff)

    assert [r.status_code for r in (backwards, garbage, naive, too_long, missing)] == [422] * 5
    assert backwards.json()["fields"] == [{"field": "end", "message": "must not be before start"}]
    assert garbage.json()["fields"][0]["field"] == "start"
    assert naive.json()["fields"][0]["field"] == "start"
    assert too_long.json()["fields"][0]["field"] == "end"
    assert (
        await api.get("/api/v1/analytics/calls", params={"start": "2031-01-01", "end": "2031-01-01"})
    ).status_code == 401
