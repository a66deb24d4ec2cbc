"""The periodic job of journeys: run the stage actions due by now (messages through the messaging pipeline,
tickets, intake questionnaires through the WhatsApp bot's START_INTAKE job), each once whatever happens to
the run, then move the journeys on.

Due times live in HAPI (the current stage Task's `restriction.period.end`), so a lost Redis loses nothing. A message
carries the key `journey/<careplan>/<stage>/<n>` and a ticket the identifier `<careplan>/<stage>/<n>`: a
run that dies before it records an action as done runs it again without sending or creating twice.
Consent, quiet hours and the WhatsApp window are the send job's, at send time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from app.errors import Invalid, OptedOut
from app.fhir.builders import instant
from app.fhir.canonical import PROFILE_JOURNEY_STAGE, SID_JOURNEY_ACTION
from app.fhir.client import FhirClient, bundle_resources
from app.journeys import model, service
from app.journeys.model import ActionKind, DueAction, Journey, Template
from app.messaging.notifications import appointment_variables, read_or_none
from app.messaging.service import prepare_template_message
from app.ports.jobs import Job, JobQueue
from app.ports.state import StateStore
from app.tickets.service import create_ticket

log = structlog.get_logger(__name__)


@dataclass
class RunReport:
    """What one run did: actions by outcome, as `CarePlan/<id>/<stage>/<n>`."""

    messages: list[str] = field(default_factory=list)
    tickets: list[str] = field(default_factory=list)
    intakes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


async def run_journey_actions(
    *,
    fhir: FhirClient,
    state: StateStore,
    queue: JobQueue,
    now: datetime,
    default_timezone: str,
    sla: Mapping[str, int],
) -> RunReport:
    """Run every journey action due by `now` and record it done (idempotent); `sla` is the tickets' SLA
    table overrides."""
    bundles = await fhir.search_bundles(
        "Task",
        [
            ("_profile", PROFILE_JOURNEY_STAGE),
            ("status", "in-progress"),
            ("due", f"le{instant(now)}"),
            ("_revinclude", "CarePlan:activity-reference"),
        ],
    )
    due = list(dict.fromkeys(str(r["id"]) for b in bundles for r in bundle_resources(b, mode="include")))
    report = RunReport()
    for journey_id in due:
        journey = await service.get_journey(fhir, journey_id=journey_id)
        template = await service.template_of_journey(fhir, journey)
        # A finished stage can make the next one's actions due at once: bounded by the number of stages.
        for _ in range(len(journey.stages) + 1):
            actions = model.due_actions(journey, template, now)
            if not actions:
                break
            for action in actions:
                await _run(fhir, state, queue, journey, template, action, now, default_timezone, sla, report)
            journey = await service.write_journey(
                fhir,
                str(journey.id),
                _marker(actions),
                now=now,
                actors=[service.SYSTEM],
                activity="journey.actions",
            )
    if due:
        log.info(
            "job.journeys.done",
            messages=len(report.messages),
            tickets=len(report.tickets),
            intakes=len(report.intakes),
            skipped=len(report.skipped),
        )
    return report


def _marker(actions: list[DueAction]) -> Callable[[Journey, Template], Journey]:
    """A change recording `actions` as done."""

    def mark(journey: Journey, _: Template) -> Journey:
        for action in actions:
            journey = model.mark_done(journey, action.stage, action.index)
        return journey

    return mark


async def _run(
    fhir: FhirClient,
    state: StateStore,
    queue: JobQueue,
    journey: Journey,
    template: Template,
    due: DueAction,
    now: datetime,
    default_timezone: str,
    sla: Mapping[str, int],
    report: RunReport,
) -> None:
    """Run one due action (once), or skip it when it is stale or cannot be done for this patient."""
    key = f"{journey.id}/{due.stage}/{due.index}"
    ref = f"CarePlan/{key}"
    if due.action.stale(journey.anchor, now):
        log.info("journey.action.stale", action=ref)
        report.skipped.append(ref)
        return
    if due.action.kind is ActionKind.TICKET:
        await _ticket(fhir, journey, template, due, key=key, now=now, sla=sla)
        report.tickets.append(ref)
        return
    if due.action.kind is ActionKind.INTAKE:
        await _intake(queue, journey, due, key=key)
        report.intakes.append(ref)
        return
    appointment = await read_or_none(fhir, "Appointment", journey.appointment_id)
    patient = await read_or_none(fhir, "Patient", journey.patient_id)
    variables = (
        await appointment_variables(
            fhir,
            appointment=appointment,
            patient=patient,
            template=str(due.action.template),
            default_timezone=default_timezone,
        )
        if appointment is not None
        else None
    )
    if variables is None:
        # The message's details (doctor, date, clinic) come from the appointment: none, nothing half-filled.
        log.warning("journey.action.incomplete", action=ref)
        report.skipped.append(ref)
        return
    about = [f"CarePlan/{journey.id}", f"Appointment/{journey.appointment_id}"]
    try:
        await prepare_template_message(
            fhir,
            state,
            queue,
            template=str(due.action.template),
            variables=variables,
            sender=service.SYSTEM,
            at=now,
            patient_id=journey.patient_id,
            about=about,
            key=f"journey/{key}",
        )
    except (OptedOut, Invalid) as exc:
        # Nothing can reach this patient for this message on any attempt: the action is done all the same.
        log.info("journey.action.skipped", action=ref, error=exc.error)
        report.skipped.append(ref)
        return
    report.messages.append(ref)


async def _ticket(
    fhir: FhirClient,
    journey: Journey,
    template: Template,
    due: DueAction,
    *,
    key: str,
    now: datetime,
    sla: Mapping[str, int],
) -> None:
    """The action's ticket, created once (its identifier is the action's key)."""
    identifier = {"system": SID_JOURNEY_ACTION, "value": key}
    if await fhir.search("Task", {"identifier": f"{SID_JOURNEY_ACTION}|{key}"}):
        return
    stage = template.stage(due.stage)
    ticket = await create_ticket(
        fhir,
        patient_id=journey.patient_id,
        category=str(due.action.category),
        description=due.action.description or f"{template.title}: {stage.title if stage else due.stage}",
        due=None,
        owner=None,
        actors=[service.SYSTEM],
        priority=due.action.priority,
        identifier=identifier,
        now=now,
        sla=sla,
    )
    log.info("journey.ticket.created", ticket=f"Task/{ticket['id']}", action=f"CarePlan/{key}")


async def _intake(queue: JobQueue, journey: Journey, due: DueAction, *, key: str) -> None:
    """Hand the questionnaire to the WhatsApp bot (a layer above journeys) as a job, queued once per action;
    the job is idempotent, so a re-queue after a lost run asks nothing twice."""
    await queue.enqueue(
        Job.START_INTAKE,
        {
            "patient": journey.patient_id,
            "questionnaire": str(due.action.questionnaire),
            "key": f"journey/{key}",
            "since": journey.resource.get("created"),
        },
        job_id=f"intake-{key.replace('/', '-')}",
    )
    log.info("journey.intake.queued", action=f"CarePlan/{key}")
