"""Booking through the PRM API vs the same FHIR transaction sent straight to HAPI, free-slot search
for one specialty over 14 days, and HAPI round trips per booking; one run, side by side."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from pydantic import SecretStr

from app.config import ApiKey, Role, Settings
from app.fhir.builders import Actor, AgentKind, provenance
from app.fhir.bundle import Transaction
from app.fhir.client import FhirClient, version_of
from app.main import create_app
from app.scheduling.resources import appointment_resource
from app.vocabulary import Channel
from bench.support import CountingTransport, Timing, measure, measure_side_by_side, report, servers

RUNS = 100
KEY = "bench-staff-key"
HEADERS = {"Authorization": f"Bearer {KEY}"}
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


async def setup_clinic(api: httpx.AsyncClient, *, patients: int) -> tuple[dict[str, object], list[str]]:
    """A clinic with one doctor (dermatology, open 08:00-20:00 every day) and `patients` patients."""
    org = (await api.post("/api/v1/organizations", json={"name": "Bench clinic"}, headers=HEADERS)).json()
    loc = (
        await api.post(
            "/api/v1/locations", json={"name": "Bench branch", "organization": org["id"]}, headers=HEADERS
        )
    ).json()
    doctor = (
        await api.post(
            "/api/v1/practitioners",
            json={
                "name": f"Bench {uuid.uuid4().hex[:6]}",
                "specialty": "dermatology",
                "organization": org["id"],
                "location": loc["id"],
                "hours": {d: ["08:00-20:00"] for d in WEEK},
            },
            headers=HEADERS,
        )
    ).json()
    registered = []
    for _ in range(patients):
        phone = f"+9196{uuid.uuid4().int % 10**8:08d}"
        response = await api.post(
            "/api/v1/patients", json={"name": "Bench Patient", "phone": phone}, headers=HEADERS
        )
        registered.append(response.json()["id"])
    return doctor, registered


def api_settings(fhir_url: str, redis_url: str) -> Settings:
    """Settings of the benchmarked API: the bench's admin key, no rate limit, no change-feed subscription."""
    return Settings(
        environment="test",
        fhir_base_url=fhir_url,
        redis_url=redis_url,
        load_conformance_on_startup=False,
        log_level="WARNING",
        # A benchmark measures the API, not the per-key rate limit it would hit within a second.
        rate_limit_per_key="1000000/minute",
        # No rest-hook Subscription to a receiver that is not running (public_base_url names :8000).
        change_feed_subscribe_on_startup=False,
        api_keys=[ApiKey(key=SecretStr(KEY), role=Role.ADMIN, user="bench")],
    )


async def run(fhir_url: str, redis_url: str) -> None:
    """Measure and print."""
    settings = api_settings(fhir_url, redis_url)
    counting = CountingTransport()
    gateway = FhirClient(fhir_url, transport=counting)
    app = create_app(settings, fhir=gateway)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as api:
            doctor, patients = await setup_clinic(api, patients=2 * RUNS)
            now = datetime.now(UTC)
            slots = (
                await api.get(
                    "/api/v1/slots",
                    params={
                        "practitioner": str(doctor["id"]),
                        "start": now.isoformat(),
                        "end": (now + timedelta(days=14)).isoformat(),
                        "limit": 200,
                    },
                    headers=HEADERS,
                )
            ).json()
            api_slots, raw_slots = [s["id"] for s in slots[0::2]], [s["id"] for s in slots[1::2]]
            role = (await app.state.services.directory.get()).by_role(str(doctor["practitioner_role"]))
            raw = FhirClient(fhir_url)
            actor = Actor(kind=AgentKind.STAFF, user="bench")

            async def through_api(i: int) -> None:
                response = await api.post(
                    "/api/v1/appointments",
                    json={"slot": api_slots[i], "patient": patients[i]},
                    headers=HEADERS,
                )
                assert response.status_code == 201, response.text

            async def straight_to_hapi(i: int) -> None:
                slot = await raw.read("Slot", raw_slots[i])
                tx = Transaction()
                tx.update({**slot, "status": "busy"}, if_match=version_of(slot))
                ref = tx.create(
                    appointment_resource(
                        slot=slot,
                        role=role,
                        patient_id=patients[RUNS + i],
                        status="booked",
                        channel=Channel.DASHBOARD,
                        reason=None,
                    )
                )
                tx.create(provenance(targets=[ref], actors=[actor], activity="appointment.book"))
                await raw.transaction(tx.bundle())

            before = counting.requests
            booked, baseline = await measure_side_by_side(
                RUNS,
                ("book (POST /api/v1/appointments)", through_api),
                ("book (read Slot + transaction, straight to HAPI)", straight_to_hapi),
            )
            round_trips = (counting.requests - before) / RUNS

            async def search(_: int) -> None:
                response = await api.get(
                    "/api/v1/slots",
                    params={
                        "specialty": "dermatology",
                        "start": now.isoformat(),
                        "end": (now + timedelta(days=14)).isoformat(),
                    },
                    headers=HEADERS,
                )
                assert response.status_code == 200

            searching: Timing = await measure(
                "free slots, one specialty, 14 days (GET /api/v1/slots)", RUNS, search
            )
            report(f"Booking, {RUNS} sequential bookings each", [(booked, baseline)], [searching])
            print(f"\nHAPI round trips per API booking: {round_trips:.1f} (the direct path uses 2)")
            await raw.aclose()
        await gateway.aclose()


def main() -> None:
    """Entry point."""
    with servers() as (fhir_url, redis_url):
        asyncio.run(run(fhir_url, redis_url))


if __name__ == "__main__":
    main()
