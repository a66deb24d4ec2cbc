"""Daily roll-ups in the real HAPI: what the nightly job stores (a profiled MeasureReport per kind and day),
that reports read it, and that a late change to a closed day (a no-show marked the next day, a reschedule)
reaches the report through the change feed and the recompute job. Days picked at random decades ahead."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis import Redis

from adapters.clock import FakeClock
from app.analytics.changes import appointment_changed
from app.analytics.rows import APPOINTMENTS
from app.changes.model import Change, ChangeKind
from app.config import Settings
from app.fhir.canonical import PROFILE_DAILY_ROLLUP, analytics_measure_url
from app.fhir.client import FhirClient, Resource
from app.ports.jobs import Job
from app.services import Services
from tests.analytics.support import appointment, at, roll_up
from tests.clinic import make_clinic, make_patient, make_practitioner
from workers.queue import rq_job_id
from workers.registry import JOBS, change_context

pytestmark = pytest.mark.integration


@pytest.fixture
def services(app: FastAPI, api: httpx.AsyncClient) -> Services:
    found: Services = app.state.services
    return found


@pytest.fixture
async def day_seeded(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], fhir: FhirClient
) -> dict[str, Any]:
    """Three appointments at a location of the test's own on a random far-future day d0."""
    clinic = await make_clinic(api, admin)
    doctor = await make_practitioner(api, admin, clinic, specialty="cardiology")
    patient = (await make_patient(api, staff))["id"]
    d0 = date(2031, 1, 1) + timedelta(days=random.randrange(20000))
    created = [
        await fhir.create(
            appointment(
                start=at(d0, hour),
                status=status,
                channel="whatsapp",
                specialty="cardiology",
                patient=patient,
                doctor=doctor,
                location=clinic.location,
            )
        )
        for hour, status in ((9, "booked"), (10, "booked"), (11, "fulfilled"))
    ]
    return {"d0": d0, "location": clinic.location, "appointments": created}


async def report_of(api: httpx.AsyncClient, staff: dict[str, str], seeded: dict[str, Any], last: date) -> Any:
    params = {"start": seeded["d0"].isoformat(), "end": last.isoformat(), "location": seeded["location"]}
    response = await api.get("/api/v1/analytics/appointments", params=params, headers=staff)
    assert response.status_code == 200, response.text
    return response.json()


async def feed(services: Services, stored: Resource, *, now: Any) -> None:
    """What the change feed does with this version of the appointment, at `now`."""
    version = stored["meta"]["versionId"]
    change = Change("Appointment", stored["id"], version, ChangeKind.UPDATED, resource=stored)
    context = dataclasses.replace(change_context(services), now=now)
    await appointment_changed(change, context=context)


def queued(settings: Settings, job_id: str) -> bool:
    return bool(Redis.from_url(settings.redis_url).exists(f"rq:job:{rq_job_id(job_id)}"))


async def test_the_nightly_roll_up_stores_a_profiled_measure_report_and_reports_read_it(
    api: httpx.AsyncClient,
    staff: dict[str, str],
    fhir: FhirClient,
    services: Services,
    day_seeded: dict[str, Any],
) -> None:
    d0 = day_seeded["d0"]
    # Not over yet: nothing rolled up (a day is rolled up once it is closed).
    at_noon = dataclasses.replace(services, clock=FakeClock(at(d0, 12)))
    assert await JOBS[Job.ROLL_UP_ANALYTICS](at_noon, {"first": d0.isoformat(), "last": d0.isoformat()}) == 0

    await roll_up(services, d0, d0, now=at(d0 + timedelta(days=1), 0, 20))

    stored = await fhir.read("MeasureReport", f"prm-rollup-appointments-{d0.isoformat()}")
    assert stored["meta"]["profile"] == [PROFILE_DAILY_ROLLUP]
    assert (stored["status"], stored["type"]) == ("complete", "summary")
    assert stored["measure"] == analytics_measure_url("appointments")
    assert stored["period"] == {
        "start": f"{d0.isoformat()}T00:00:00+05:30",
        "end": f"{(d0 + timedelta(days=1)).isoformat()}T00:00:00+05:30",
    }
    assert [c["text"] for c in stored["group"][0]["stratifier"][0]["code"]] == list(APPOINTMENTS.dimensions)
    mine = [
        s for s in stored["group"][0]["stratifier"][0]["stratum"]
        if json.loads(s["value"]["text"])[4] == day_seeded["location"]
    ]  # fmt: skip
    assert sorted(s["population"][0]["count"] for s in mine) == [1, 2]
    # Every roll-up write has its Provenance.
    provenance = await fhir.search("Provenance", {"target": f"MeasureReport/{stored['id']}"})
    assert provenance

    # The report reads the roll-up, not the appointments: a change HAPI has but the feed has not yet
    # delivered is not in it (it is, once the feed runs: the next test).
    first = day_seeded["appointments"][0]
    await fhir.update({**first, "status": "cancelled"})
    report = await report_of(api, staff, day_seeded, d0)
    assert report["by_status"] == {"booked": 2, "fulfilled": 1}


async def test_a_no_show_marked_after_the_day_reaches_the_report_through_the_change_feed(
    api: httpx.AsyncClient,
    staff: dict[str, str],
    fhir: FhirClient,
    services: Services,
    settings: Settings,
    day_seeded: dict[str, Any],
) -> None:
    d0 = day_seeded["d0"]
    next_morning = at(d0 + timedelta(days=1), 9)
    await roll_up(services, d0, d0, now=at(d0 + timedelta(days=1), 0, 20))
    assert (await report_of(api, staff, day_seeded, d0))["by_status"] == {"booked": 2, "fulfilled": 1}

    marked = await fhir.update({**day_seeded["appointments"][0], "status": "noshow"})
    await feed(services, marked, now=next_morning)
    await feed(services, marked, now=next_morning)  # a replayed change: the same marker, no second job

    # At once: the day's roll-up is pending, so the report counts that day live.
    rollup_id = f"prm-rollup-appointments-{d0.isoformat()}"
    assert (await fhir.read("MeasureReport", rollup_id))["status"] == "pending"
    after = await report_of(api, staff, day_seeded, d0)
    assert after["by_status"] == {"booked": 1, "fulfilled": 1, "noshow": 1}
    assert after["no_show_rate"] == 0.5
    job_id = f"rollup-appointments-{d0.isoformat()}-Appointment-{marked['id']}-{marked['meta']['versionId']}"
    assert queued(settings, job_id)

    # The queued job rolls the day up again: complete, with the no-show, and the report agrees.
    at_morning = dataclasses.replace(services, clock=FakeClock(next_morning))
    payload = {"kind": "appointments", "day": d0.isoformat()}
    assert await JOBS[Job.ROLL_UP_ANALYTICS_DAY](at_morning, payload) is True
    assert (await fhir.read("MeasureReport", rollup_id))["status"] == "complete"
    assert (await report_of(api, staff, day_seeded, d0))["by_status"] == after["by_status"]
    # An unknown kind in a payload is refused, not a crash.
    assert await JOBS[Job.ROLL_UP_ANALYTICS_DAY](at_morning, {"kind": "nope", "day": d0.isoformat()}) is False


async def test_a_reschedule_out_of_a_closed_day_re_rolls_both_days(
    api: httpx.AsyncClient,
    staff: dict[str, str],
    fhir: FhirClient,
    services: Services,
    day_seeded: dict[str, Any],
) -> None:
    d0 = day_seeded["d0"]
    d1 = d0 + timedelta(days=1)
    after_both = at(d1 + timedelta(days=1), 0, 20)
    await roll_up(services, d0, d1, now=after_both)

    moved = day_seeded["appointments"][1]
    start, end = at(d1, 10), at(d1, 10, 15)
    moved = await fhir.update({**moved, "start": start.isoformat(), "end": end.isoformat()})
    await feed(services, moved, now=after_both)  # the feed reads the version before: d0 is touched too

    for day in (d0, d1):
        assert (await fhir.read("MeasureReport", f"prm-rollup-appointments-{day.isoformat()}"))[
            "status"
        ] == "pending"
    report = await report_of(api, staff, day_seeded, d1)
    assert [(d["date"], d["total"]) for d in report["days"]] == [(d0.isoformat(), 2), (d1.isoformat(), 1)]

    # Had the recompute jobs given up, the next nightly run picks the pending days up with yesterday's.
    nightly = dataclasses.replace(services, clock=FakeClock(at(d1 + timedelta(days=2), 0, 20)))
    written = await JOBS[Job.ROLL_UP_ANALYTICS](nightly, {})
    assert isinstance(written, int)
    assert written >= 4 + 2
    for day in (d0, d1):
        assert (await fhir.read("MeasureReport", f"prm-rollup-appointments-{day.isoformat()}"))[
            "status"
        ] == "complete"
    assert (await report_of(api, staff, day_seeded, d1))["days"] == report["days"]
