"""Analytics reports over a seeded month: 10,000 appointments and 2,000 tickets (plus leads and messages)
written into HAPI by transactions in a date range of their own (reused when already there), then each
report timed, and the searches behind the appointments report timed alone to show which dominate.

`python -m bench.analytics [--appointments N] [--tickets N] [--batch N]` (PRM_BENCH_FHIR_BASE_URL to reuse
a HAPI). Seeding is fastest into a HAPI of the bench's own started without profile enforcement (bench/README.md
shows how): the resources are the PRM's own builders' shapes, and the bench measures reading them.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.analytics import service as analytics
from app.analytics.service import Period, Report
from app.config import Settings
from app.directory.resources import location_resource, specialty_concept
from app.fhir.builders import Actor, AgentKind, extension, instant, meta_profile
from app.fhir.bundle import Transaction
from app.fhir.canonical import (
    CS_TASK_TYPE,
    EXT_BOOKING_CHANNEL,
    EXT_DELIVERY_STATUS,
    PROFILE_APPOINTMENT,
    TASK_TYPE_OPPORTUNITY,
    TASK_TYPE_TICKET,
)
from app.fhir.client import FhirClient, Resource
from app.logging import configure_logging
from app.messaging import resources as messages
from app.opportunities.resources import Stage, opportunity_resource
from app.patients.resources import patient_resource
from app.services import build_services
from app.tickets.resources import ticket_resource
from bench.support import Timing, measure, report, servers

KOLKATA = ZoneInfo("Asia/Kolkata")
# The bench's own month: nobody else books in March 2029.
FIRST, DAYS = date(2029, 3, 1), 30
PERIOD = Period(first=FIRST, last=FIRST + timedelta(days=DAYS - 1), tz=KOLKATA)
LOCATION, PATIENT, ORGANIZATION = "bench-analytics-location", "bench-analytics-patient", "bench-analytics-org"
PRACTITIONERS = [f"bench-analytics-doctor-{n}" for n in range(8)]
SPECIALTIES = ["cardiology", "orthopedics", "dermatology", "pediatrics", "gynecology", "ent", "endocrinology"]
STATUSES = ["booked"] * 5 + ["fulfilled"] * 8 + ["cancelled"] * 2 + ["noshow", "arrived"]
CHANNELS = ["whatsapp", "whatsapp", "voice", "dashboard", "assistant", "ehr"]
# Transactions of this many entries (--batch), one at a time.
BATCH = 500
RUNS = 20
SYSTEM = Actor(kind=AgentKind.SYSTEM)


def _moment(rng: random.Random) -> datetime:
    day = FIRST + timedelta(days=rng.randrange(DAYS))
    return datetime(
        day.year, day.month, day.day, rng.randrange(8, 20), rng.choice((0, 15, 30, 45)), tzinfo=KOLKATA
    )


def _appointment(rng: random.Random) -> Resource:
    start, doctor = _moment(rng), rng.randrange(len(PRACTITIONERS))
    return {
        "resourceType": "Appointment",
        "meta": meta_profile(PROFILE_APPOINTMENT),
        "extension": [extension(EXT_BOOKING_CHANNEL, valueCode=rng.choice(CHANNELS))],
        "status": rng.choice(STATUSES),
        "specialty": [specialty_concept(SPECIALTIES[doctor % len(SPECIALTIES)])],
        "start": instant(start),
        "end": instant(start + timedelta(minutes=15)),
        "participant": [
            {"actor": {"reference": f"Patient/{PATIENT}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{PRACTITIONERS[doctor]}"}, "status": "accepted"},
            {"actor": {"reference": f"Location/{LOCATION}"}, "status": "accepted"},
        ],
    }


def _ticket(rng: random.Random) -> Resource:
    authored = _moment(rng)
    category = rng.choice(["complaint", "callback", "billing", "appointment", "inquiry"])
    ticket = ticket_resource(
        patient_ref=f"Patient/{PATIENT}",
        category=category,
        description="bench",
        due=authored + timedelta(hours=rng.choice((4, 24))),
        owner=None,
        priority=rng.choice(["routine", "routine", "urgent", "stat"]),
        created=authored,
    )
    if rng.random() < 0.7:
        ticket["status"] = "completed"
        ticket["lastModified"] = instant(authored + timedelta(minutes=rng.randrange(10, 3000)))
    return ticket


def _lead(rng: random.Random) -> Resource:
    lead = opportunity_resource(
        patient_ref=f"Patient/{PATIENT}",
        stage=rng.choice(list(Stage)),
        source=rng.choice(["whatsapp", "voice", "dashboard"]),
        description=None,
    )
    return {**lead, "authoredOn": instant(_moment(rng))}


def _message(rng: random.Random) -> Resource:
    channel = rng.choice(["whatsapp", "whatsapp", "sms", "email"])
    if rng.random() < 0.4:
        return messages.inbound_message(
            provider_id=f"SMbench{rng.getrandbits(64):x}",
            channel=channel,
            thread_id="bench",
            patient_id=PATIENT,
            text="x",
            received=_moment(rng),
        )
    message = messages.outbound_message(
        channel=channel, thread_id="bench", patient_id=PATIENT, text="x", sender=SYSTEM
    )
    delivery = rng.choice(["sent", "delivered", "read", "read", "failed"])
    message["extension"] = [e for e in message["extension"] if e["url"] != EXT_DELIVERY_STATUS]
    message["extension"].append(extension(EXT_DELIVERY_STATUS, valueCode=delivery))
    return {**message, "status": "completed", "sent": instant(_moment(rng))}


async def _directory(fhir: FhirClient) -> None:
    """The bench's organization, location, practitioners and patient (client ids: PUT is idempotent)."""
    await fhir.update({"resourceType": "Organization", "id": ORGANIZATION, "name": "Bench clinic"})
    location = location_resource(
        name="Bench branch", timezone=KOLKATA.key, organization_id=ORGANIZATION, resource_id=LOCATION
    )
    await fhir.update(location)
    for doctor in PRACTITIONERS:
        await fhir.update({"resourceType": "Practitioner", "id": doctor, "name": [{"family": doctor}]})
    await fhir.update(
        {**patient_resource(given="Bench", family="Analytics", phone="+919000000001"), "id": PATIENT}
    )


async def _seed_kind(
    fhir: FhirClient, name: str, make: Any, wanted: int, have: int, rng: random.Random, batch: int
) -> float:
    """Write `wanted - have` resources in transactions of `batch`, one after the other; seconds taken."""
    started = time.perf_counter()
    missing = max(0, wanted - have)
    batches = [min(batch, missing - i) for i in range(0, missing, batch)]
    for size in batches:
        tx = Transaction()
        for _ in range(size):
            tx.create(make(rng))
        await fhir.transaction(tx.bundle())
    took = time.perf_counter() - started
    if missing:
        print(f"seeded {missing} {name} in {took:.1f} s ({missing / took:.0f}/s)")
    return took


async def seed(
    fhir: FhirClient,
    *,
    appointments: int,
    tickets: int,
    leads: int,
    communications: int,
    batch: int = BATCH,
) -> None:
    """Seed what is missing of each kind (counted in the bench's month; a second run writes nothing)."""
    rng = random.Random(2029)
    await _directory(fhir)
    have_appointments = await fhir.count(
        "Appointment",
        [
            ("location", f"Location/{LOCATION}"),
            ("date", f"ge{instant(PERIOD.start)}"),
            ("date", f"lt{instant(PERIOD.end)}"),
        ],
    )
    by_patient = [("subject", f"Patient/{PATIENT}")]
    have_tasks = await fhir.count("Task", [("code", f"{CS_TASK_TYPE}|{TASK_TYPE_TICKET}"), *by_patient])
    have_leads = await fhir.count("Task", [("code", f"{CS_TASK_TYPE}|{TASK_TYPE_OPPORTUNITY}"), *by_patient])
    have_messages = await fhir.count("Communication", by_patient)
    await _seed_kind(fhir, "appointments", _appointment, appointments, have_appointments, rng, batch)
    await _seed_kind(fhir, "tickets", _ticket, tickets, have_tasks, rng, batch)
    await _seed_kind(fhir, "leads", _lead, leads, have_leads, rng, batch)
    await _seed_kind(fhir, "messages", _message, communications, have_messages, rng, batch)


async def run(
    fhir_url: str,
    *,
    appointments: int,
    tickets: int,
    leads: int,
    communications: int,
    runs: int = RUNS,
    batch: int = BATCH,
) -> None:
    """Seed (when missing), then time each report and the appointments report's search alone."""
    configure_logging(level="WARNING", json=False)
    services = build_services(Settings(environment="test", fhir_base_url=fhir_url, fhir_timeout_seconds=300))
    fhir = services.fhir
    try:
        await seed(
            fhir,
            appointments=appointments,
            tickets=tickets,
            leads=leads,
            communications=communications,
            batch=batch,
        )
        now = datetime.now(UTC)
        reports: dict[str, Callable[[], Awaitable[Report]]] = {
            "appointments (location filter)": lambda: analytics.appointments(
                fhir, period=PERIOD, location_id=LOCATION
            ),
            "leads": lambda: analytics.leads(fhir, period=PERIOD),
            "tickets": lambda: analytics.tickets(fhir, period=PERIOD, now=now),
            "messages": lambda: analytics.messages(fhir, period=PERIOD),
            "calls": lambda: analytics.calls(fhir, period=PERIOD),
        }
        sizes = {name: (await make()).body["total"] for name, make in reports.items()}
        timings = [
            await measure(f"{name}: {sizes[name]} rows", runs, _runner(make))
            for name, make in reports.items()
        ]
        searches = await _searches(fhir, runs)
    finally:
        await services.aclose()
    report(f"Analytics over {DAYS} days ({runs} runs each)", [], [*timings, *searches])


def _runner(make: Callable[[], Awaitable[Report]]) -> Callable[[int], Awaitable[Report]]:
    """A measured operation that builds one report."""

    async def one(_: int) -> Report:
        return await make()

    return one


async def _searches(fhir: FhirClient, runs: int) -> list[Timing]:
    """The appointments report's search alone: one sequential search, with and without `_elements`."""
    base = [
        ("location", f"Location/{LOCATION}"),
        ("date", f"ge{instant(PERIOD.start)}"),
        ("date", f"lt{instant(PERIOD.end)}"),
    ]
    elements = ("_elements", "status,start,specialty,participant,extension")
    count = await measure("appointments: _summary=count", runs, lambda _i: fhir.count("Appointment", base))
    lean = await measure(
        "appointments: one search, _elements, _count=500",
        min(5, runs),
        lambda _i: fhir.search("Appointment", [*base, elements, ("_count", "500")]),
    )
    full = await measure(
        "appointments: one search, whole resources, _count=500",
        min(5, runs),
        lambda _i: fhir.search("Appointment", [*base, ("_count", "500")]),
    )
    return [count, lean, full]


def main() -> None:
    """Parse the sizes and run against PRM_BENCH_FHIR_BASE_URL or a fresh HAPI."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appointments", type=int, default=10_000)
    parser.add_argument("--tickets", type=int, default=2_000)
    parser.add_argument("--leads", type=int, default=1_000)
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=RUNS, help="timed runs of each report")
    parser.add_argument("--batch", type=int, default=BATCH, help="entries per seeding transaction")
    args = parser.parse_args()
    with servers() as (fhir_url, _redis_url):
        asyncio.run(
            run(
                fhir_url,
                appointments=args.appointments,
                tickets=args.tickets,
                leads=args.leads,
                communications=args.messages,
                runs=args.runs,
                batch=args.batch,
            )
        )


if __name__ == "__main__":
    main()
