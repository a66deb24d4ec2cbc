"""Appointment reminders in the real HAPI and Redis: kept in step with the appointment from the change
feed, sent once by the due-reminder job on a fake clock, never to an opted-out patient."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.clock import FakeClock
from adapters.sandbox.messenger import SandboxMessenger
from app.changes import jobs as changes
from app.changes.model import Change, ChangeKind
from app.changes.registry import registry
from app.config import Settings
from app.consents.resources import Decision
from app.fhir.canonical import PROFILE_REMINDER
from app.fhir.client import FhirClient, Resource
from app.fhir.dates import parse_datetime
from app.messaging import resources as res
from app.messaging.reminders import keep_reminders, reminders_of
from app.messaging.sending import Outcome
from app.ports.jobs import Job
from app.services import Services, build_services
from tests.clinic import Clinic, free_slots, make_patient, make_practitioner
from tests.factories import unique
from tests.messaging.support import CONTENT_SID, KOLKATA, consent, reason_of, send
from workers.registry import JOBS, change_context

pytestmark = pytest.mark.integration
# WhatsApp templates go out by their approved content SID.
SIDS = {f"appointment_reminder_{kind}.{lang}": CONTENT_SID for kind in ("24h", "2h") for lang in ("en", "hi")}


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    built = build_services(
        settings.model_copy(update={"default_timezone": "Asia/Kolkata"}),
        clock=FakeClock(datetime.now(KOLKATA)),
        transcriber=None,
        messenger=SandboxMessenger(),
    )
    yield built
    await built.aclose()


@pytest.fixture(scope="module")
async def branch(api: httpx.AsyncClient, admin: dict[str, str]) -> Clinic:
    org = await api.post(
        "/api/v1/organizations", json={"name": f"Clinic {unique()}", "phone": "+918041230098"}, headers=admin
    )
    loc = await api.post(
        "/api/v1/locations",
        json={"name": f"Branch {unique()}", "organization": org.json()["id"], "timezone": "Asia/Kolkata"},
        headers=admin,
    )
    return Clinic(organization=org.json()["id"], location=loc.json()["id"])


def _clock(services: Services) -> FakeClock:
    clock = services.clock
    assert isinstance(clock, FakeClock)
    return clock


async def _booked(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    branch: Clinic,
    *,
    hours: str = "11:00-12:00",
    **patient: Any,
) -> tuple[dict[str, Any], Resource]:
    """A new patient booked into the first free slot of a new doctor working `hours` (Kolkata)."""
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    doctor = await make_practitioner(api, admin, branch, hours={d: [hours] for d in days})
    slot = (await free_slots(api, staff, doctor))[0]
    person = await make_patient(api, staff, **patient)
    booked = await api.post(
        "/api/v1/appointments", json={"slot": slot["id"], "patient": person["id"]}, headers=staff
    )
    assert booked.status_code == 201, booked.text
    return person, await fhir.read("Appointment", booked.json()["id"])


def _start(appointment: Resource) -> datetime:
    start = parse_datetime(appointment["start"])
    assert start is not None
    return start


async def _feed(services: Services, fhir: FhirClient, appointment_id: str) -> None:
    """What the worker does with the change-feed entry of the appointment's current version."""
    current = await fhir.read("Appointment", appointment_id)
    await changes.handle_change(
        resource_type="Appointment",
        resource_id=appointment_id,
        version=current["meta"]["versionId"],
        kind="updated",
        context=change_context(services),
        dedupe_ttl_seconds=600,
    )


async def _states(fhir: FhirClient, appointment_id: str) -> list[tuple[str, datetime | None]]:
    """(status, due) of the appointment's reminders, earliest due first."""
    found = [
        (r["status"], parse_datetime(r["occurrenceDateTime"]))
        for r in await reminders_of(fhir, appointment_id)
    ]
    return sorted(found, key=lambda s: s[1] or datetime.min.replace(tzinfo=KOLKATA))


async def _run_due_job(services: Services) -> Any:
    return await JOBS[Job.SEND_DUE_REMINDERS](services, {})


async def _reminder_messages(fhir: FhirClient, patient_id: str) -> list[Resource]:
    found = await fhir.search("Communication", {"subject": f"Patient/{patient_id}", "_sort": "_lastUpdated"})
    named = [(m, res.message_of(m).template) for m in found]
    return [m for m, t in named if t and t.name.startswith("appointment_reminder")]


async def test_a_booking_gets_its_two_reminders_once_however_often_the_change_comes(
    services: Services,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    branch: Clinic,
) -> None:
    patient, appointment = await _booked(api, admin, staff, fhir, branch)
    start = _start(appointment)
    _clock(services).advance(seconds=(start - timedelta(days=3) - services.clock.now()).total_seconds())

    await _feed(services, fhir, appointment["id"])
    replay = Change(
        "Appointment", appointment["id"], appointment["meta"]["versionId"], ChangeKind.UPDATED, None
    )
    await keep_reminders(replay, context=change_context(services))  # the feed's de-duplication bypassed

    reminders = await reminders_of(fhir, appointment["id"])
    assert await _states(fhir, appointment["id"]) == [
        ("active", start - timedelta(hours=24)),
        ("active", start - timedelta(hours=2)),
    ]
    for reminder in reminders:
        assert reminder["meta"]["profile"] == [PROFILE_REMINDER]
        assert reminder["about"] == [{"reference": f"Appointment/{appointment['id']}"}]
        assert reminder["subject"] == {"reference": f"Patient/{patient['id']}"}


async def test_less_than_a_day_ahead_gets_only_the_2_hour_reminder_and_under_2_hours_none(
    services: Services,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    branch: Clinic,
) -> None:
    _, soon = await _booked(api, admin, staff, fhir, branch)
    _, sooner = await _booked(api, admin, staff, fhir, branch)
    clock = _clock(services)

    clock.advance(seconds=(_start(soon) - timedelta(hours=20) - clock.now()).total_seconds())
    await _feed(services, fhir, soon["id"])
    clock.advance(seconds=(_start(sooner) - timedelta(minutes=90) - clock.now()).total_seconds())
    await _feed(services, fhir, sooner["id"])

    assert await _states(fhir, soon["id"]) == [("active", _start(soon) - timedelta(hours=2))]
    assert await _states(fhir, sooner["id"]) == []


async def test_reschedule_revokes_the_old_reminders_and_the_new_appointment_gets_its_own_then_cancel_revokes(
    services: Services,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    branch: Clinic,
) -> None:
    _, appointment = await _booked(api, admin, staff, fhir, branch)
    doctor_ref = next(
        p["actor"]["reference"]
        for p in appointment["participant"]
        if "Practitioner/" in p["actor"]["reference"]
    )
    clock = _clock(services)
    clock.advance(seconds=(_start(appointment) - timedelta(days=3) - clock.now()).total_seconds())
    await _feed(services, fhir, appointment["id"])
    slots = await free_slots(api, staff, {"id": doctor_ref.removeprefix("Practitioner/")})
    later = next(s for s in slots if parse_datetime(s["start"]) > _start(appointment))  # type: ignore[operator]

    moved = await api.post(
        f"/api/v1/appointments/{appointment['id']}/reschedule", json={"slot": later["id"]}, headers=staff
    )
    assert moved.status_code == 200, moved.text
    new_id = moved.json()["id"]
    await _feed(services, fhir, appointment["id"])
    await _feed(services, fhir, new_id)

    assert [s for s, _ in await _states(fhir, appointment["id"])] == ["revoked", "revoked"]
    new_start = _start(await fhir.read("Appointment", new_id))
    assert await _states(fhir, new_id) == [
        ("active", new_start - timedelta(hours=24)),
        ("active", new_start - timedelta(hours=2)),
    ]

    cancelled = await api.post(f"/api/v1/appointments/{new_id}/cancel", json={}, headers=staff)
    assert cancelled.status_code == 200, cancelled.text
    await _feed(services, fhir, new_id)
    assert [s for s, _ in await _states(fhir, new_id)] == ["revoked", "revoked"]


async def test_a_start_changed_in_hapi_moves_the_pending_reminders(
    services: Services,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    branch: Clinic,
) -> None:
    _, appointment = await _booked(api, admin, staff, fhir, branch)
    clock = _clock(services)
    clock.advance(seconds=(_start(appointment) - timedelta(days=3) - clock.now()).total_seconds())
    await _feed(services, fhir, appointment["id"])
    start = _start(appointment) + timedelta(days=1)
    end = parse_datetime(appointment["end"]) + timedelta(days=1)  # type: ignore[operator]
    # An EHR moves the appointment by a day, straight into HAPI.
    await fhir.update({**appointment, "start": start.isoformat(), "end": end.isoformat()})

    await _feed(services, fhir, appointment["id"])

    assert await _states(fhir, appointment["id"]) == [
        ("active", start - timedelta(hours=24)),
        ("active", start - timedelta(hours=2)),
    ]


async def test_the_due_job_sends_each_reminder_once_and_completes_it(
    services: Services,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    branch: Clinic,
) -> None:
    patient, appointment = await _booked(api, admin, staff, fhir, branch, preferred_language="hi")
    start, clock = _start(appointment), _clock(services)
    clock.advance(seconds=(start - timedelta(days=3) - clock.now()).total_seconds())
    await consent(fhir, patient["id"], "whatsapp", Decision.OPT_IN, clock.now())
    await _feed(services, fhir, appointment["id"])

    clock.advance(seconds=(start - timedelta(hours=24, minutes=-1) - clock.now()).total_seconds())
    # An unrelated edit between the due time and the job's run leaves the due reminder alone.
    await fhir.update({**appointment, "comment": "Bring the earlier reports"})
    await _feed(services, fhir, appointment["id"])
    await _run_due_job(services)
    await _run_due_job(services)  # a second run (or a second worker) sends nothing more
    # A worker that died between preparing the message and completing the reminder: the rerun prepares
    # the same message (its key), not a second one.
    [done] = [r for r in await reminders_of(fhir, appointment["id"]) if r["status"] == "completed"]
    await fhir.update({**done, "status": "active"})
    await _run_due_job(services)

    [message] = await _reminder_messages(fhir, patient["id"])
    read = res.message_of(message)
    assert read.template is not None and (read.template.name, read.template.language) == (
        "appointment_reminder_24h",
        "hi",
    )
    [day_before] = [
        r for r in await reminders_of(fhir, appointment["id"]) if r["identifier"][0]["value"].endswith("/24h")
    ]
    assert day_before["status"] == "completed"
    assert message["about"] == [
        {"reference": f"Appointment/{appointment['id']}"},
        {"reference": f"CommunicationRequest/{day_before['id']}"},
    ]
    sandbox = SandboxMessenger()
    assert (
        await send(fhir, services.queue, sandbox, message, now=clock.now(), content_sids=SIDS) is Outcome.SENT
    )
    assert (
        await send(fhir, services.queue, sandbox, message, now=clock.now(), content_sids=SIDS)
        is Outcome.DONE_ALREADY
    )
    [sent] = sandbox.sent
    assert sent.to.address == patient["phone"]
    assert sent.template is not None and sent.template.template_id == CONTENT_SID
    assert [s for s, _ in await _states(fhir, appointment["id"])] == ["completed", "active"]


async def test_an_opted_out_patient_gets_no_reminder_and_the_reminder_is_done(
    services: Services,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    branch: Clinic,
) -> None:
    patient, appointment = await _booked(api, admin, staff, fhir, branch)
    start, clock = _start(appointment), _clock(services)
    clock.advance(seconds=(start - timedelta(days=3) - clock.now()).total_seconds())
    await consent(fhir, patient["id"], "whatsapp", Decision.OPT_IN, clock.now())
    await _feed(services, fhir, appointment["id"])
    clock.advance(seconds=(start - timedelta(hours=24) - clock.now()).total_seconds())
    await _run_due_job(services)
    [message] = await _reminder_messages(fhir, patient["id"])
    # The patient opts out between the reminder's preparation and its send.
    await consent(fhir, patient["id"], "whatsapp", Decision.OPT_OUT, clock.now())

    sandbox = SandboxMessenger()
    assert (
        await send(fhir, services.queue, sandbox, message, now=clock.advance(minutes=1), content_sids=SIDS)
        is Outcome.REFUSED
    )
    assert (await reason_of(fhir, message))[:2] == ("not-done", "opted-out")
    assert sandbox.sent == []
    clock.advance(seconds=(start - timedelta(hours=2) - clock.now()).total_seconds())
    await _run_due_job(services)  # already opted out: the message is refused at once, none is recorded

    assert [s for s, _ in await _states(fhir, appointment["id"])] == ["completed", "completed"]
    assert len(await _reminder_messages(fhir, patient["id"])) == 1


async def test_a_reminder_due_after_the_start_is_revoked_not_sent(
    services: Services,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    branch: Clinic,
) -> None:
    patient, appointment = await _booked(api, admin, staff, fhir, branch)
    start, clock = _start(appointment), _clock(services)
    clock.advance(seconds=(start - timedelta(days=3) - clock.now()).total_seconds())
    await consent(fhir, patient["id"], "whatsapp", Decision.OPT_IN, clock.now())
    await _feed(services, fhir, appointment["id"])

    clock.advance(
        seconds=(start + timedelta(minutes=5) - clock.now()).total_seconds()
    )  # the workers were down
    await _run_due_job(services)

    assert [s for s, _ in await _states(fhir, appointment["id"])] == ["revoked", "revoked"]
    assert await _reminder_messages(fhir, patient["id"]) == []


async def test_a_2_hour_reminder_due_in_quiet_hours_is_deferred_not_dropped(
    services: Services,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    branch: Clinic,
) -> None:
    patient, appointment = await _booked(api, admin, staff, fhir, branch, hours="08:30-09:00")
    start, clock = _start(appointment), _clock(services)
    clock.advance(seconds=(start - timedelta(hours=3) - clock.now()).total_seconds())
    await consent(fhir, patient["id"], "whatsapp", Decision.OPT_IN, clock.now())
    await _feed(services, fhir, appointment["id"])
    clock.advance(seconds=(start - timedelta(hours=2) - clock.now()).total_seconds())
    assert clock.now().astimezone(KOLKATA).strftime("%H:%M") == "06:30"

    await _run_due_job(services)
    [message] = await _reminder_messages(fhir, patient["id"])
    sandbox = SandboxMessenger()
    assert (
        await send(fhir, services.queue, sandbox, message, now=clock.now(), content_sids=SIDS)
        is Outcome.DEFERRED
    )
    assert res.message_of(await fhir.read("Communication", message["id"])).status == "on-hold"
    assert sandbox.sent == []
    assert [s for s, _ in await _states(fhir, appointment["id"])] == ["completed"]


async def test_a_no_show_gets_one_follow_up_and_its_reminders_revoked(
    services: Services,
    api: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    fhir: FhirClient,
    branch: Clinic,
) -> None:
    patient, appointment = await _booked(api, admin, staff, fhir, branch)
    clock = _clock(services)
    clock.advance(seconds=(_start(appointment) - timedelta(days=3) - clock.now()).total_seconds())
    await consent(fhir, patient["id"], "whatsapp", Decision.OPT_IN, clock.now())
    await _feed(services, fhir, appointment["id"])
    await fhir.update({**appointment, "status": "noshow"})  # the front desk's EHR marks the no-show

    await _feed(services, fhir, appointment["id"])
    current = await fhir.read("Appointment", appointment["id"])
    replay = Change("Appointment", current["id"], current["meta"]["versionId"], ChangeKind.UPDATED, None)
    await registry.dispatch(replay, context=change_context(services))  # every handler, again

    found = await fhir.search("Communication", {"subject": f"Patient/{patient['id']}"})
    follow_ups = [m for m in found if (t := res.message_of(m).template) and t.name == "no_show_follow_up"]
    assert len(follow_ups) == 1
    assert [s for s, _ in await _states(fhir, appointment["id"])] == ["revoked", "revoked"]
