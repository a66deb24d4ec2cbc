"""Journey use cases: start one for a patient, list them, complete or skip a stage, cancel, and follow an
appointment (auto-start when booked in a department with a default template, advance on check-in and
completion, cancel with it). A journey is its CarePlan and one stage Task per stage, written together in one
transaction guarded by the versions of the CarePlan and of each Task it changes, with Provenance."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

import structlog

from app.errors import Conflict, Invalid, NotFound
from app.fhir.builders import Actor, AgentKind, code_in, provenance
from app.fhir.bundle import Transaction, response_resources
from app.fhir.canonical import CS_SPECIALTY, PROFILE_JOURNEY, SID_JOURNEY, SID_JOURNEY_STAGE
from app.fhir.client import FhirClient, bundle_resources, version_of
from app.fhir.dates import parse_datetime
from app.fhir.errors import FhirConflict
from app.fhir.records import require
from app.journeys import model, templates
from app.journeys import resources as res
from app.journeys.model import Event, Journey, JourneyStatus, StageStatus, Template
from app.messaging.notifications import read_or_none
from app.scheduling.resources import participant

log = structlog.get_logger(__name__)

SYSTEM = Actor(kind=AgentKind.SYSTEM)
# Appointment statuses that end its journeys.
_ENDED = frozenset({"cancelled", "noshow", "entered-in-error"})
# Appointment statuses under which a department's default journey runs.
_LIVE = frozenset({"booked", "arrived", "fulfilled"})
_EVENTS = {"arrived": Event.ARRIVED, "fulfilled": Event.FULFILLED}
# A journey with its stage Tasks in one search.
_WITH_STAGES = ("_include", "CarePlan:activity-reference")
# Writes that lose a race this many times in a row give up with a Conflict.
_ATTEMPTS = 5


def appointment_key(appointment_id: str, template: str) -> str:
    """The identifier of the journey a template started for an appointment (one per pair)."""
    return f"appointment/{appointment_id}/{template}"


async def start_journey(
    fhir: FhirClient,
    *,
    patient_id: str,
    template_name: str,
    now: datetime,
    actors: Sequence[Actor],
    appointment_id: str | None = None,
    anchor: datetime | None = None,
) -> Journey:
    """Start a template for a patient, anchored at the appointment's start, at `anchor`, or now."""
    await require(fhir, "Patient", patient_id, what="Patient")
    template = await templates.get_template(fhir, name=template_name)
    if not template.active:
        raise Invalid("template", f"journey template {template_name!r} is retired")
    if appointment_id is not None:
        appointment = await require(fhir, "Appointment", appointment_id, what="Appointment")
        if participant(appointment, "Patient") != patient_id:
            raise Invalid("appointment", "is not an appointment of this patient")
        anchor = anchor or parse_datetime(appointment.get("start"))
    return await _create(
        fhir,
        template,
        patient_id=patient_id,
        appointment_id=appointment_id,
        anchor=anchor or now,
        identifier=f"start/{uuid.uuid4()}",
        now=now,
        actors=actors,
    )


async def patient_journeys(fhir: FhirClient, *, patient_id: str) -> list[Journey]:
    """A patient's journeys, newest first."""
    await require(fhir, "Patient", patient_id, what="Patient")
    return await _journeys(
        fhir,
        [("subject", f"Patient/{patient_id}"), ("_profile", PROFILE_JOURNEY), ("_sort", "-_lastUpdated")],
    )


async def get_journey(fhir: FhirClient, *, journey_id: str) -> Journey:
    """One journey; NotFound for an id that is no journey."""
    found = await _journeys(fhir, [("_id", journey_id), ("_profile", PROFILE_JOURNEY)])
    if not found:
        raise NotFound("Journey", journey_id)
    return found[0]


async def change_stage(
    fhir: FhirClient,
    *,
    journey_id: str,
    stage: str | None,
    status: StageStatus,
    now: datetime,
    actors: Sequence[Actor],
) -> Journey:
    """Complete or skip the current stage (`stage` None: whichever is current); Conflict names the stage
    that can be, Invalid a stage the journey does not have."""

    def move(journey: Journey, _: Template) -> Journey:
        current = journey.current()
        if journey.status is not JourneyStatus.ACTIVE or current is None:
            raise _not_active(journey)
        wanted = stage or current.code
        if wanted not in {s.code for s in journey.stages}:
            raise Invalid("stage", f"the journey has no stage {wanted!r}")
        if wanted != current.code:
            raise Conflict(
                f"Stage {wanted!r} is not the current stage; only {current.code!r} can be completed or skipped",
                code="invalid_transition",
                current_stage=current.code,
                allowed=[current.code],
            )
        return model.finish_stage(journey, wanted, status)

    return await write_journey(
        fhir, journey_id, move, now=now, actors=actors, activity=f"journey.stage.{status.value}"
    )


async def cancel_journey(
    fhir: FhirClient, *, journey_id: str, now: datetime, actors: Sequence[Actor]
) -> Journey:
    """Cancel an active journey: its pending actions never run."""

    def stop(journey: Journey, _: Template) -> Journey:
        if journey.status is not JourneyStatus.ACTIVE:
            raise _not_active(journey)
        return model.cancel(journey)

    return await write_journey(fhir, journey_id, stop, now=now, actors=actors, activity="journey.cancel")


async def follow_appointment(fhir: FhirClient, *, appointment_id: str, now: datetime) -> list[Journey]:
    """Bring the appointment's journeys in step with it (idempotent); the journeys written."""
    appointment = await read_or_none(fhir, "Appointment", appointment_id)
    patient_id = participant(appointment, "Patient") if appointment else None
    if appointment is None or patient_id is None:
        return []
    status = str(appointment.get("status"))
    department = code_in((appointment.get("specialty") or [None])[0], CS_SPECIALTY)
    start = parse_datetime(appointment.get("start"))
    if status in _LIVE and department and start:
        for template in await templates.default_templates(
            fhir, department=department, location_id=participant(appointment, "Location")
        ):
            await _create(
                fhir,
                template,
                patient_id=patient_id,
                appointment_id=appointment_id,
                anchor=start,
                identifier=appointment_key(appointment_id, template.name),
                now=now,
                actors=[SYSTEM],
            )
    written = []
    for journey in await _journeys_of(fhir, patient_id=patient_id, appointment_id=appointment_id):

        def follow(current: Journey, template: Template) -> Journey:
            if status in _ENDED:
                return model.cancel(current)
            if status in _EVENTS:
                current = model.on_event(current, template, _EVENTS[status])
            # An appointment moved in place (an EHR edits its start) moves the journey's due times with it.
            return current if start is None or status != "booked" else _reanchored(current, start)

        written.append(
            await write_journey(
                fhir, str(journey.id), follow, now=now, actors=[SYSTEM], activity="journey.follow"
            )
        )
    return written


async def template_of_journey(fhir: FhirClient, journey: Journey) -> Template:
    """The journey's template; a deleted one leaves the stages with nothing to do."""
    try:
        return await templates.get_template(fhir, name=journey.template)
    except NotFound:
        return Template(
            name=journey.template,
            title=journey.template,
            stages=tuple(model.Stage(code=s.code, title=s.title) for s in journey.stages),
        )


async def write_journey(
    fhir: FhirClient,
    journey_id: str,
    change: Callable[[Journey, Template], Journey],
    *,
    now: datetime,
    actors: Sequence[Actor],
    activity: str,
) -> Journey:
    """Apply `change` to the journey's latest version and settle it; written only when it differs (or a
    stage has no Task yet); after a concurrent write, re-read and apply `change` again."""
    for _ in range(_ATTEMPTS):
        before = await get_journey(fhir, journey_id=journey_id)
        template = await template_of_journey(fhir, before)
        after = model.settle(change(before, template), template)
        if after == before and all(s.task for s in before.stages):
            return before
        try:
            journey = await _save(fhir, after, before, now=now, actors=actors, activity=activity)
        except FhirConflict:
            continue
        log.info(
            "journey.written",
            journey=f"CarePlan/{journey_id}",
            activity=activity,
            status=journey.status.value,
        )
        return journey
    raise Conflict("The journey changed meanwhile; try again", code="journey_busy")


async def _save(
    fhir: FhirClient,
    journey: Journey,
    before: Journey | None,
    *,
    now: datetime,
    actors: Sequence[Actor],
    activity: str,
) -> Journey:
    """Write the CarePlan and the stage Tasks that changed, with Provenance, in one transaction; a new
    journey (and each of its stages) is created once per identifier."""
    tx = Transaction()
    plan = res.care_plan(journey, created=now, stage_refs=())
    if journey.id is None:
        plan_ref = tx.create(plan, if_none_exist={"identifier": f"{SID_JOURNEY}|{journey.identifier}"})
    else:
        plan_ref = tx.update(plan, if_match=version_of(journey.resource))
    written, refs = [plan_ref], []
    previous = {s.code: s for s in before.stages} if before else {}
    for stage in journey.stages:
        task = res.stage_task(journey, stage, now=now)
        if "id" not in task:
            identifier = res.stage_identifier(journey, stage)
            match = {"identifier": f"{SID_JOURNEY_STAGE}|{identifier}"} if identifier else None
            refs.append(tx.create(task, if_none_exist=match))
            written.append(refs[-1])
            continue
        refs.append(f"Task/{task['id']}")
        if previous.get(stage.code) != stage:
            written.append(tx.update(task, if_match=version_of(stage.task)))
    # The Tasks' references are known only once they are in the transaction.
    plan["activity"] = [{"reference": {"reference": ref}} for ref in refs]
    operation = "CREATE" if journey.id is None else "UPDATE"
    tx.create(provenance(targets=written, actors=list(actors), activity=activity, operation=operation))
    stored = response_resources(await fhir.transaction(tx.bundle()))
    tasks = [s.task for s in journey.stages if s.task] + [
        r for r in stored if r.get("resourceType") == "Task"
    ]
    return res.journey_of(stored[0], tasks)


async def _create(
    fhir: FhirClient,
    template: Template,
    *,
    patient_id: str,
    appointment_id: str | None,
    anchor: datetime,
    identifier: str,
    now: datetime,
    actors: Sequence[Actor],
) -> Journey:
    journey = model.settle(
        model.new_journey(
            template,
            patient_id=patient_id,
            anchor=anchor,
            appointment_id=appointment_id,
            identifier=identifier,
        ),
        template,
    )
    # Looked up first so that a replayed change writes nothing, not even a Provenance; the conditional
    # creates in _save still settle a race between two workers.
    match = [("identifier", f"{SID_JOURNEY}|{identifier}")]
    if existing := await _journeys(fhir, match):
        return existing[0]
    stored = await _save(fhir, journey, None, now=now, actors=actors, activity="journey.start")
    log.info("journey.started", journey=f"CarePlan/{stored.id}", template=template.name)
    return stored


async def _journeys(fhir: FhirClient, params: list[tuple[str, str]]) -> list[Journey]:
    """The journeys a CarePlan search finds, each with its stage Tasks."""
    bundles = await fhir.search_bundles("CarePlan", [*params, _WITH_STAGES])
    tasks = [
        t for b in bundles for t in bundle_resources(b, mode="include") if t.get("resourceType") == "Task"
    ]
    return [res.journey_of(plan, tasks) for b in bundles for plan in bundle_resources(b)]


async def _journeys_of(fhir: FhirClient, *, patient_id: str, appointment_id: str) -> list[Journey]:
    """The active journeys a patient has for an appointment."""
    found = await _journeys(
        fhir, [("subject", f"Patient/{patient_id}"), ("_profile", PROFILE_JOURNEY), ("status", "active")]
    )
    return [j for j in found if j.appointment_id == appointment_id]


def _reanchored(journey: Journey, start: datetime) -> Journey:
    if journey.appointment_id is None or journey.anchor == start:
        return journey
    return replace(journey, anchor=start)


def _not_active(journey: Journey) -> Conflict:
    return Conflict(
        f"The journey is {journey.status.value}; it cannot change any more",
        code="invalid_transition",
        current_status=journey.status.value,
        allowed=[],
    )
