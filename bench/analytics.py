"""Analytics reports over a seeded month: 10,000 appointments and 2,000 tickets (plus leads and messages)
written into HAPI by transactions in a date range of their own (reused when already there), the month then
rolled up as the nightly job does (the backfill, timed), and each report timed through the daily roll-ups
and, in the same run, live (every resource read) for comparison, after checking both give the same figures.

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
from app.analytics.jobs import roll_up_days
from app.analytics.rollups import read
from app.analytics.rows import APPOINTMENTS, Period
from app.analytics.service import Report
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
from app.services import Services, build_services
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
# The live path reads every row: a few runs say enough.
LIVE_RUNS = 3
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
    redis_url: str,
    *,
    appointments: int,
    tickets: int,
    leads: int,
    communications: int,
    runs: int = RUNS,
    live_runs: int = LIVE_RUNS,
    batch: int = BATCH,
) -> None:
    """Seed (when missing), roll the month up, then time each report through the roll-ups and live."""
    configure_logging(level="WARNING", json=False)
    settings = Settings(
        environment="test", fhir_base_url=fhir_url, redis_url=redis_url, fhir_timeout_seconds=300
    )
    services = build_services(settings)
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
        backfill = await _backfill(services)
        now = datetime.now(UTC)
        reports: dict[str, Callable[[bool], Awaitable[Report]]] = {
            "appointments (location filter)": lambda live: analytics.appointments(
                fhir, period=PERIOD, location_id=LOCATION, live=live
            ),
            "leads": lambda live: analytics.leads(fhir, period=PERIOD, live=live),
            "tickets": lambda live: analytics.tickets(fhir, period=PERIOD, now=now, live=live),
            "messages": lambda live: analytics.messages(fhir, period=PERIOD, live=live),
            "calls": lambda live: analytics.calls(fhir, period=PERIOD, live=live),
        }
        sizes = {}
        for name, make in reports.items():
            rolled, live = await make(False), await make(True)
            if rolled.body != live.body or rolled.rows != live.rows:
                raise SystemExit(f"{name}: the roll-ups and the live read disagree")
            sizes[name] = rolled.body["total"]
        print("every report: the same figures through the roll-ups and live")
        pairs = [
            (
                await measure(f"{name}: {sizes[name]} rows, roll-ups", runs, _runner(make, live=False)),
                await measure(f"{name}: live (baseline)", live_runs, _runner(make, live=True)),
            )
            for name, make in reports.items()
        ]
        search = await measure(
            "appointments: the roll-up search alone (30 MeasureReports)",
            runs,
            lambda _i: read(fhir, APPOINTMENTS, PERIOD),
        )
    finally:
        await services.aclose()
    report(
        f"Analytics over {DAYS} days (roll-ups: {runs} runs, live: {live_runs})", pairs, [search, backfill]
    )


async def _backfill(services: Services) -> Timing:
    """Roll the month up as the nightly job would have (every kind, day by day), timed per roll-up."""
    started = time.perf_counter()
    written = await roll_up_days(
        fhir=services.fhir,
        state=services.state,
        now=PERIOD.end + timedelta(minutes=20),
        timezone=KOLKATA.key,
        first=PERIOD.first.isoformat(),
        last=PERIOD.last.isoformat(),
    )
    took = time.perf_counter() - started
    print(f"rolled up {written} kind-days in {took:.1f} s")
    return Timing(
        f"backfill: one roll-up (of {written}; a day of one kind, read live and written)", [took / written]
    )


def _runner(make: Callable[[bool], Awaitable[Report]], *, live: bool) -> Callable[[int], Awaitable[Report]]:
    """A measured operation that builds one report."""

    async def one(_: int) -> Report:
        return await make(live)

    return one


def main() -> None:
    """Parse the sizes and run against PRM_BENCH_FHIR_BASE_URL or a fresh HAPI."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appointments", type=int, default=10_000)
    parser.add_argument("--tickets", type=int, default=2_000)
    parser.add_argument("--leads", type=int, default=1_000)
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument(
        "--runs", type=int, default=RUNS, help="timed runs of each report through the roll-ups"
    )
    parser.add_argument(
        "--live-runs", type=int, default=LIVE_RUNS, help="timed runs of each report read live"
    )
    parser.add_argument("--batch", type=int, default=BATCH, help="entries per seeding transaction")
    args = parser.parse_args()
    with servers() as (fhir_url, redis_url):
        asyncio.run(
            run(
                fhir_url,
                redis_url,
                appointments=args.appointments,
                tickets=args.tickets,
                leads=args.leads,
                communications=args.messages,
                runs=args.runs,
                live_runs=args.live_runs,
                batch=args.batch,
            )
        )


if __name__ == "__main__":
    main()
