"""SLA escalation with a moved clock: an overdue ticket goes up one priority once per breach, the inbox
stream hears of it, and the overdue list shows it; a reopened ticket gets a new due time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from app.fhir.builders import Actor, AgentKind
from app.fhir.client import FhirClient
from app.ports.events import Event, EventType
from app.ports.jobs import Job
from app.services import Services
from app.tickets import service as tickets
from app.tickets.jobs import escalate_overdue_tickets
from tests.clinic import make_patient
from workers.registry import JOBS

pytestmark = pytest.mark.integration
STAFF = Actor(kind=AgentKind.STAFF, user="reception@test")


@pytest.fixture
def services(app: FastAPI, api: httpx.AsyncClient) -> Services:
    found: Services = app.state.services
    return found


async def test_an_overdue_ticket_is_escalated_once_and_the_inbox_hears_of_it(
    services: Services, api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    patient = (await make_patient(api, staff))["id"]
    opened = datetime.now(UTC)
    ticket = await tickets.create_ticket(
        fhir,
        patient_id=patient,
        category="callback",
        description="Call back",
        actors=[STAFF],
        now=opened,
        sla={},
    )
    on_time = await tickets.create_ticket(
        fhir,
        patient_id=patient,
        category="billing",
        description="Invoice",
        actors=[STAFF],
        now=opened,
        sla={},
    )
    # callback/routine is due in 24 hours, billing/routine in 48: a day and a minute later only one is late.
    later = opened + timedelta(hours=24, minutes=1)
    assert (
        await escalate_overdue_tickets(
            fhir=services.fhir, events=services.events, now=opened, patient_id=patient
        )
        == 0
    )

    async with services.events.subscribe() as stream:
        escalated = await escalate_overdue_tickets(
            fhir=services.fhir, events=services.events, now=later, patient_id=patient
        )
        event = await asyncio.wait_for(anext(aiter(stream)), timeout=10)

    assert escalated == 1
    assert event == Event(
        EventType.TICKET_ESCALATED, {"ticket": ticket["id"], "priority": "urgent", "patient": patient}
    )
    stored = await fhir.read("Task", ticket["id"])
    assert stored["priority"] == "urgent"
    assert (await fhir.read("Task", on_time["id"]))["priority"] == "routine"

    # The same breach is not escalated again, however often the job runs.
    version = stored["meta"]["versionId"]
    again = await escalate_overdue_tickets(
        fhir=services.fhir, events=services.events, now=later + timedelta(hours=5), patient_id=patient
    )
    assert again == 0
    assert (await fhir.read("Task", ticket["id"]))["meta"]["versionId"] == version

    # The overdue list (at the moved time) shows it, marked escalated.
    overdue, _ = await tickets.list_tickets(
        fhir, where=tickets.TicketFilter(patient_id=patient, overdue=True), now=later, page=1, count=10
    )
    assert [t["id"] for t in overdue] == [ticket["id"]]

    # Reopened after resolution, the ticket has a new due time: a new breach escalates again (urgent -> asap).
    await tickets.change_ticket(
        fhir,
        ticket_id=ticket["id"],
        changes=tickets.TicketChanges(status=tickets.TicketStatus.RESOLVED, resolution="done"),
        actor=STAFF,
        now=later,
    )
    await tickets.change_ticket(
        fhir,
        ticket_id=ticket["id"],
        changes=tickets.TicketChanges(status=tickets.TicketStatus.OPEN),
        actor=STAFF,
        now=later,
    )
    # urgent tickets are due within the hour.
    again = await escalate_overdue_tickets(
        fhir=services.fhir, events=services.events, now=later + timedelta(minutes=61), patient_id=patient
    )
    assert again == 1
    assert (await fhir.read("Task", ticket["id"]))["priority"] == "asap"


async def test_the_worker_runs_the_escalation_job(services: Services) -> None:
    # Scoped to a patient that does not exist: the registered job runs and escalates nothing.
    assert await JOBS[Job.ESCALATE_OVERDUE_TICKETS](services, {"patient_id": "no-such-patient"}) == 0
