"""The write path, before and after, in one run: the direct booking (read the Slot, then the Slot +
Appointment + Provenance transaction) alternated between a baseline HAPI (main's jar) and this
branch's HAPI; then the API booking beside that direct path on each, with HAPI round trips counted.

    PRM_BENCH_BASELINE_FHIR_BASE_URL=http://127.0.0.1:8304/fhir \\
    PRM_BENCH_FHIR_BASE_URL=http://127.0.0.1:8303/fhir .venv/bin/python -m bench.write_path [RUNS]
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from app.directory.index import RoleEntry
from app.fhir.builders import Actor, AgentKind, instant, provenance
from app.fhir.bundle import Transaction
from app.fhir.client import FhirClient, version_of
from app.main import create_app
from app.scheduling.resources import appointment_resource
from app.vocabulary import Channel
from bench.booking import HEADERS, api_settings, setup_clinic
from bench.support import CountingTransport, Timing, load_profiles, machine, servers

# Bookings per side thrown away first: HAPI's JIT and caches warm up on both alike.
WARM_UP = 30
ACTOR = Actor(kind=AgentKind.STAFF, user="bench")


@dataclass
class Clinic:
    """One HAPI holding a bench doctor, free slots and patients; its API runs in-process."""

    label: str
    api: httpx.AsyncClient
    raw: FhirClient
    counting: CountingTransport
    role: RoleEntry
    slots: list[str]
    patients: list[str]
    used: int = 0
    registered: int = 0
    samples: dict[str, list[float]] = field(default_factory=dict)
    round_trips: list[int] = field(default_factory=list)

    def take(self, *, new_patient: bool) -> tuple[str, str]:
        """The next unused slot, and a patient: a new one (the API checks the patient's other bookings),
        or the first again (HAPI does not)."""
        self.used += 1
        if new_patient:
            self.registered += 1
        return self.slots[self.used - 1], self.patients[max(self.registered - 1, 0)]

    def keep(self, name: str, seconds: float, *, measured: bool) -> None:
        """Record one sample (warm-up ones are dropped)."""
        if measured:
            self.samples.setdefault(name, []).append(seconds)

    def timing(self, name: str) -> Timing:
        """The samples of `name` as a Timing."""
        return Timing(f"{name} ({self.label})", self.samples[name])


async def _clinic(
    stack: AsyncExitStack, label: str, url: str, redis_url: str, *, bookings: int, patients: int
) -> Clinic:
    settings = api_settings(url, redis_url)
    counting = CountingTransport()
    gateway = FhirClient(url, transport=counting)
    stack.push_async_callback(gateway.aclose)
    app = create_app(settings, fhir=gateway)
    await stack.enter_async_context(app.router.lifespan_context(app))
    api = await stack.enter_async_context(
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
    )
    raw = FhirClient(url)
    stack.push_async_callback(raw.aclose)
    doctor, registered = await setup_clinic(api, patients=patients)
    role = (await app.state.services.directory.get()).by_role(str(doctor["practitioner_role"]))
    assert role is not None and role.schedule_id is not None
    free = await raw.search(
        "Slot",
        [
            ("schedule", f"Schedule/{role.schedule_id}"),
            ("status", "free"),
            ("start", f"ge{instant(datetime.now(UTC) + timedelta(hours=1))}"),
            ("_sort", "start"),
        ],
        limit=bookings,
    )
    if len(free) < bookings:
        raise SystemExit(f"{label}: {len(free)} free slots, {bookings} needed")
    return Clinic(label, api, raw, counting, role, [s["id"] for s in free], registered)


async def direct(clinic: Clinic, *, measured: bool) -> None:
    """Read the Slot, then the booking transaction, straight to HAPI (the baseline of bench/booking.py)."""
    slot_id, patient_id = clinic.take(new_patient=False)
    started = time.perf_counter()
    slot = await clinic.raw.read("Slot", slot_id)
    read = time.perf_counter()
    tx = Transaction()
    tx.update({**slot, "status": "busy"}, if_match=version_of(slot))
    ref = tx.create(
        appointment_resource(
            slot=slot,
            role=clinic.role,
            patient_id=patient_id,
            status="booked",
            channel=Channel.DASHBOARD,
            reason=None,
        )
    )
    tx.create(provenance(targets=[ref], actors=[ACTOR], activity="appointment.book"))
    await clinic.raw.transaction(tx.bundle())
    done = time.perf_counter()
    clinic.keep("read Slot", read - started, measured=measured)
    clinic.keep("transaction", done - read, measured=measured)
    clinic.keep("direct booking", done - started, measured=measured)


async def through_api(clinic: Clinic, *, measured: bool) -> None:
    """POST /api/v1/appointments, counting the HAPI requests it makes."""
    slot_id, patient_id = clinic.take(new_patient=True)
    before = clinic.counting.requests
    started = time.perf_counter()
    response = await clinic.api.post(
        "/api/v1/appointments", json={"slot": slot_id, "patient": patient_id}, headers=HEADERS
    )
    clinic.keep("API booking", time.perf_counter() - started, measured=measured)
    assert response.status_code == 201, response.text
    if measured:
        clinic.round_trips.append(clinic.counting.requests - before)


async def alternate(runs: int, steps: list[Callable[[bool], Awaitable[None]]]) -> None:
    """Run each step in turn, WARM_UP unmeasured rounds then `runs` measured ones."""
    for i in range(WARM_UP + runs):
        for step in steps:
            await step(i >= WARM_UP)


def _row(name: str, after: Timing, before: Timing) -> str:
    return (
        f"| {name} | {before.p50_ms:.1f} / {before.p99_ms:.1f} | {after.p50_ms:.1f} / {after.p99_ms:.1f} "
        f"| {after.p50_ms / before.p50_ms:.2f}x / {after.p99_ms / before.p99_ms:.2f}x |"
    )


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


async def run(baseline_url: str, url: str, redis_url: str, runs: int) -> None:
    """Measure and print."""
    await load_profiles(baseline_url)
    rounds = WARM_UP + runs
    async with AsyncExitStack() as stack:
        before = await _clinic(
            stack, "baseline", baseline_url, redis_url, bookings=3 * rounds, patients=rounds
        )
        after = await _clinic(stack, "this branch", url, redis_url, bookings=3 * rounds, patients=rounds)
        print(f"\nload average (1/5/15 min) before: {_load()}  ({machine()})")
        started = time.perf_counter()
        await alternate(
            runs,
            [lambda m: direct(before, measured=m), lambda m: direct(after, measured=m)],
        )
        print(f"\n## Direct booking, baseline HAPI vs this branch's HAPI ({runs} each, alternating)\n")
        print("| step | baseline p50 / p99 ms | this branch p50 / p99 ms | after / before (p50 / p99) |")
        print("|---|---|---|---|")
        for name in ("read Slot", "transaction", "direct booking"):
            print(_row(name, after.timing(name), before.timing(name)))
        for clinic in (before, after):
            clinic.samples.clear()
        await alternate(
            runs,
            [
                lambda m: through_api(after, measured=m),
                lambda m: direct(after, measured=m),
                lambda m: through_api(before, measured=m),
                lambda m: direct(before, measured=m),
            ],
        )
        print(f"\n## API booking vs direct booking on each HAPI ({runs} each, alternating)\n")
        print(
            "| HAPI | API p50 / p99 ms | direct p50 / p99 ms | API / direct (p50) | HAPI round trips per API booking |"
        )
        print("|---|---|---|---|---|")
        for clinic in (before, after):
            api, raw = clinic.timing("API booking"), clinic.timing("direct booking")
            trips = sum(clinic.round_trips) / len(clinic.round_trips)
            print(
                f"| {clinic.label} | {api.p50_ms:.1f} / {api.p99_ms:.1f} | {raw.p50_ms:.1f} / {raw.p99_ms:.1f} "
                f"| {api.p50_ms / raw.p50_ms:.2f}x | {trips:.1f} |"
            )
        print(
            f"\nload average (1/5/15 min) after: {_load()}; {time.perf_counter() - started:.0f} s measuring"
        )


def main() -> None:
    """Entry point: both HAPIs must be running (the baseline one is never started here)."""
    baseline = os.environ.get("PRM_BENCH_BASELINE_FHIR_BASE_URL")
    if not baseline or not os.environ.get("PRM_BENCH_FHIR_BASE_URL"):
        raise SystemExit("set PRM_BENCH_BASELINE_FHIR_BASE_URL and PRM_BENCH_FHIR_BASE_URL")
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with servers() as (fhir_url, redis_url):
        asyncio.run(run(baseline, fhir_url, redis_url, runs))


if __name__ == "__main__":
    main()
