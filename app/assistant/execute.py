"""Confirming a plan: its (possibly corrected) form is executed through the same services the API
uses, every write carrying Provenance with the staff user, the assistant and the instruction."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import StringConstraints, TypeAdapter, ValidationError

from app.assistant.schemas import Confirmation, Plan
from app.directory.index import DirectoryCache
from app.errors import Conflict, Invalid
from app.fhir.builders import Actor
from app.fhir.bundle import Transaction
from app.fhir.canonical import SID_ASSISTANT_PLAN
from app.fhir.client import FhirClient
from app.inputs import CalendarDate, Instant
from app.messaging import service as messaging
from app.opportunities import service as opportunities
from app.opportunities.booking import book_with_opportunity
from app.patients import service as patients
from app.ports.jobs import JobQueue
from app.ports.nlu import Intent
from app.ports.state import StateStore
from app.scheduling import booking
from app.tickets import service as tickets
from app.vocabulary import Channel, ContactChannel

SOURCE = "assistant"
# Form fields a person may correct before confirming, per intent.
CORRECTABLE: dict[Intent, tuple[str, ...]] = {
    Intent.BOOK_APPOINTMENT: ("patient", "slot", "reason", "patient_name", "patient_phone"),
    Intent.RESCHEDULE_APPOINTMENT: ("slot",),
    Intent.CANCEL_APPOINTMENT: ("reason",),
    Intent.REGISTER_PATIENT: ("patient_name", "patient_phone", "gender", "birth_date"),
    Intent.UPDATE_PATIENT: ("gender", "birth_date"),
    Intent.CREATE_OPPORTUNITY: ("patient", "reason", "patient_name", "patient_phone"),
    Intent.CREATE_TASK: ("patient", "message", "due"),
    Intent.SEND_MESSAGE: ("patient", "message"),
}


@dataclass(frozen=True)
class Execution:
    """Everything a confirmation needs besides the plan."""

    fhir: FhirClient
    directory: DirectoryCache
    state: StateStore
    queue: JobQueue
    actors: list[Actor]
    instruction: str
    now: datetime
    region: str
    ticket_sla: Mapping[str, int]  # the tickets' SLA overrides (settings.ticket_sla_minutes)
    mrn_prefix: str
    # More writes for the booking's own transaction (a compound plan's ticket): tx, appointment, patient id.
    extend: Callable[[Transaction, str, str], None] | None = None


_Reference = Annotated[str, StringConstraints(pattern=r"^([A-Za-z]+/)?[A-Za-z0-9\-.]{1,64}$")]
# What a correction of each field must be (JSON values, checked before anything is written).
CORRECTION_TYPES: dict[str, TypeAdapter[Any]] = {
    "patient": TypeAdapter(_Reference),
    "slot": TypeAdapter(_Reference),
    "reason": TypeAdapter(Annotated[str, StringConstraints(max_length=500)] | None),
    "message": TypeAdapter(Annotated[str, StringConstraints(min_length=1, max_length=2000)]),
    "patient_name": TypeAdapter(Annotated[str, StringConstraints(min_length=1, max_length=200)]),
    "patient_phone": TypeAdapter(Annotated[str, StringConstraints(min_length=1, max_length=32)]),
    "gender": TypeAdapter(Literal["male", "female", "other", "unknown"]),
    "birth_date": TypeAdapter(CalendarDate),
    "due": TypeAdapter(Instant | None),
}


def merged_form(plan: Plan, corrections: dict[str, Any]) -> dict[str, Any]:
    """The plan's form values with the person's corrections; 422 for a field that may not change or a
    value of the wrong type."""
    allowed = CORRECTABLE.get(plan.intent, ())
    values = {name: field.value for name, field in plan.form.items()}
    for name, value in corrections.items():
        if name not in allowed:
            raise Invalid(
                f"form.{name}",
                f"cannot be changed for {plan.intent.value} (allowed: {', '.join(allowed) or 'none'})",
            )
        adapter = CORRECTION_TYPES[name]
        try:
            # As JSON and strict: a number is not a phone, a date is ISO text, not an epoch.
            values[name] = adapter.dump_python(
                adapter.validate_json(json.dumps(value), strict=True), mode="json"
            )
        except ValidationError as exc:
            raise Invalid(f"form.{name}", exc.errors()[0]["msg"]) from None
    return values


def _id(value: Any, resource_type: str, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise Invalid(f"form.{field}", f"a {resource_type} is required")
    return value.removeprefix(f"{resource_type}/")


def _tag(plan: Plan) -> dict[str, str]:
    return {"system": SID_ASSISTANT_PLAN, "value": plan.plan_id}


def _name_and_phone(form: dict[str, Any]) -> tuple[str, str]:
    name, phone = form.get("patient_name"), form.get("patient_phone")
    if not name or not phone:
        raise Invalid("form.patient", "choose a patient, or give a name and phone to register one")
    return str(name), str(phone)


async def _patient(form: dict[str, Any], ex: Execution, written: list[str]) -> str:
    """The form's patient, registering them first when the plan said so."""
    if form.get("patient"):
        return _id(form["patient"], "Patient", "patient")
    name, phone = _name_and_phone(form)
    patient, created = await patients.register(
        ex.fhir,
        ex.state,
        name=name,
        phone=phone,
        region=ex.region,
        gender=form.get("gender"),
        birth_date=_date(form.get("birth_date"), "birth_date"),
        preferred_language=None,
        preferred_channel=None,
        actors=ex.actors,
        instruction=ex.instruction,
        mrn_prefix=ex.mrn_prefix,
        now=ex.now,
    )
    if created:
        written.append(f"Patient/{patient['id']}")
    return str(patient["id"])


def _date(value: Any, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise Invalid(f"form.{field}", f"{value!r} is not a date (YYYY-MM-DD)") from None


async def _book(plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]) -> dict[str, str | None]:
    if form.get("patient"):
        return await _book_for(plan, form, ex, written, patient_id=_id(form["patient"], "Patient", "patient"))
    # A new patient is registered in the booking's own transaction: a booking that fails (the slot
    # was taken meanwhile) leaves no patient behind.
    name, phone = _name_and_phone(form)
    e164 = patients.phone_or_422(phone, region=ex.region, field="form.patient_phone")
    async with patients.registration_lock(ex.state, e164):
        existing = await patients.find_by_phone(ex.fhir, phone=e164, region=ex.region)
        if existing:
            return await _book_for(plan, form, ex, written, patient_id=str(existing[0]["id"]))
        new = patients.new_patient(
            name=name,
            e164=e164,
            gender=form.get("gender"),
            birth_date=_date(form.get("birth_date"), "birth_date"),
            resource_id=patients.new_patient_id(),
        )
        await patients.assign_mrn(ex.fhir, ex.state, new, prefix=ex.mrn_prefix, actors=ex.actors, now=ex.now)
        booked = await _book_for(plan, form, ex, written, patient_id=new["id"], new_patient=new)
    written.insert(0, f"Patient/{new['id']}")
    return booked


async def _book_for(
    plan: Plan,
    form: dict[str, Any],
    ex: Execution,
    written: list[str],
    *,
    patient_id: str,
    new_patient: dict[str, Any] | None = None,
) -> dict[str, str | None]:
    appointment, existing = await book_with_opportunity(
        ex.fhir,
        ex.directory,
        ex.state,
        slot_id=_id(form.get("slot"), "Slot", "slot"),
        patient_id=patient_id,
        reason=form.get("reason"),
        channel=Channel.ASSISTANT,
        source=SOURCE,
        actors=ex.actors,
        now=ex.now,
        instruction=ex.instruction,
        identifier=_tag(plan),
        new_patient=new_patient,
        also=_extension(ex, patient_id),
    )
    if existing is None:
        existing = (await ex.fhir.search("Task", {"identifier": f"{SID_ASSISTANT_PLAN}|{plan.plan_id}"}))[0]
    written += [f"Appointment/{appointment['id']}", f"Task/{existing['id']}"]
    return {"appointment": f"Appointment/{appointment['id']}", "patient": f"Patient/{patient_id}"}


def _extension(ex: Execution, patient_id: str) -> Callable[[Transaction, str], None] | None:
    extend = ex.extend
    if extend is None:
        return None
    return lambda tx, appointment_ref: extend(tx, appointment_ref, patient_id)


async def _reschedule(
    plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]
) -> dict[str, str | None]:
    del plan
    old = _id(form.get("appointment"), "Appointment", "appointment")
    moved = await booking.reschedule(
        ex.fhir,
        ex.directory,
        ex.state,
        appointment_id=old,
        slot_id=_id(form.get("slot"), "Slot", "slot"),
        actors=ex.actors,
        now=ex.now,
        channel=Channel.ASSISTANT,
        instruction=ex.instruction,
    )
    written += [f"Appointment/{moved['id']}", f"Appointment/{old}"]
    return {"appointment": f"Appointment/{moved['id']}"}


async def _cancel(
    plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]
) -> dict[str, str | None]:
    del plan
    cancelled = await booking.cancel(
        ex.fhir,
        appointment_id=_id(form.get("appointment"), "Appointment", "appointment"),
        reason=form.get("reason"),
        actors=ex.actors,
        instruction=ex.instruction,
    )
    written.append(f"Appointment/{cancelled['id']}")
    return {"appointment": f"Appointment/{cancelled['id']}"}


async def _register(
    plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]
) -> dict[str, str | None]:
    del plan
    patient_id = await _patient({**form, "patient": None}, ex, written)
    if not written:
        raise Conflict(f"That phone is already registered to Patient/{patient_id}", code="already_registered")
    return {"patient": f"Patient/{patient_id}"}


async def _update(
    plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]
) -> dict[str, str | None]:
    del plan
    patient_id = _id(form.get("patient"), "Patient", "patient")
    changes: dict[str, Any] = {}
    if form.get("gender"):
        changes["gender"] = form["gender"]
    if form.get("birth_date"):
        changes["birth_date"] = _date(form["birth_date"], "birth_date")
    if not changes:
        raise Invalid("form.gender", "nothing to change")
    await patients.update(
        ex.fhir,
        ex.state,
        patient_id=patient_id,
        changes=changes,
        region=ex.region,
        actors=ex.actors,
        instruction=ex.instruction,
    )
    written.append(f"Patient/{patient_id}")
    return {"patient": f"Patient/{patient_id}"}


async def _opportunity(
    plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]
) -> dict[str, str | None]:
    patient_id = await _patient(form, ex, written)
    task = await opportunities.create_opportunity(
        ex.fhir,
        patient_id=patient_id,
        description=form.get("reason"),
        source=SOURCE,
        actors=ex.actors,
        instruction=ex.instruction,
        identifier=_tag(plan),
    )
    written.append(f"Task/{task['id']}")
    return {"patient": f"Patient/{patient_id}"}


async def _task(plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]) -> dict[str, str | None]:
    patient_id = _id(form["patient"], "Patient", "patient") if form.get("patient") else None
    if not form.get("message"):
        raise Invalid("form.message", "say what the task is")
    try:
        due = datetime.fromisoformat(form["due"]) if form.get("due") else None
    except ValueError:
        raise Invalid("form.due", f"{form['due']!r} is not a date-time") from None
    task = await tickets.create_ticket(
        ex.fhir,
        patient_id=patient_id,
        category="callback",
        description=str(form["message"]),
        due=due,
        owner=ex.actors[0].user,
        actors=ex.actors,
        instruction=ex.instruction,
        identifier=_tag(plan),
        now=ex.now,
        sla=ex.ticket_sla,
    )
    written.append(f"Task/{task['id']}")
    return {"patient": f"Patient/{patient_id}" if patient_id else None}


async def _message(
    plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]
) -> dict[str, str | None]:
    patient_id = _id(form.get("patient"), "Patient", "patient")
    if not form.get("message"):
        raise Invalid("form.message", "the message is empty")
    message = await messaging.prepare_message(
        ex.fhir,
        ex.state,
        ex.queue,
        patient_id=patient_id,
        channel=ContactChannel.WHATSAPP,
        text=str(form["message"]),
        sender=ex.actors[0],
        at=ex.now,
        instruction=ex.instruction,
        identifier=_tag(plan),
    )
    written.append(f"Communication/{message['id']}")
    return {"patient": f"Patient/{patient_id}"}


Executor = Callable[[Plan, dict[str, Any], Execution, list[str]], Awaitable[dict[str, str | None]]]
EXECUTORS: dict[Intent, Executor] = {
    Intent.BOOK_APPOINTMENT: _book,
    Intent.RESCHEDULE_APPOINTMENT: _reschedule,
    Intent.CANCEL_APPOINTMENT: _cancel,
    Intent.REGISTER_PATIENT: _register,
    Intent.UPDATE_PATIENT: _update,
    Intent.CREATE_OPPORTUNITY: _opportunity,
    Intent.CREATE_TASK: _task,
    Intent.SEND_MESSAGE: _message,
}


async def execute(plan: Plan, form: dict[str, Any], ex: Execution) -> Confirmation:
    """Perform the plan's actions; returns the references written."""
    executor = EXECUTORS.get(plan.intent)
    if executor is None:
        raise Conflict(
            f"A {plan.intent.value} plan writes nothing; its answer is in the plan", code="nothing_to_confirm"
        )
    written: list[str] = []
    refs = await executor(plan, form, ex, written)
    return Confirmation(plan_id=plan.plan_id, intent=plan.intent, written=written, **refs)
