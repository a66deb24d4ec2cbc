"""Executing appointment plans: book (registering a new patient in the same transaction), reschedule, cancel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.assistant.execute.common import (
    SOURCE,
    Execution,
    Executor,
    as_date,
    name_and_phone,
    plan_tag,
    ref_id,
)
from app.assistant.schemas import Plan
from app.fhir.bundle import Transaction
from app.fhir.canonical import SID_ASSISTANT_PLAN
from app.opportunities.booking import book_with_opportunity
from app.patients import service as patients
from app.ports.nlu import Intent
from app.scheduling import booking
from app.vocabulary import Channel

CORRECTABLE: dict[Intent, tuple[str, ...]] = {
    Intent.BOOK_APPOINTMENT: ("patient", "slot", "reason", "patient_name", "patient_phone"),
    Intent.RESCHEDULE_APPOINTMENT: ("slot",),
    Intent.CANCEL_APPOINTMENT: ("reason",),
}
REQUIRED: dict[Intent, tuple[tuple[str, ...], ...]] = {
    Intent.BOOK_APPOINTMENT: (("slot", "patient"), ("slot", "patient_name", "patient_phone")),
    Intent.RESCHEDULE_APPOINTMENT: (("appointment", "slot"),),
    Intent.CANCEL_APPOINTMENT: (("appointment",),),
}


async def _book(plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]) -> dict[str, str | None]:
    if form.get("patient"):
        return await _book_for(
            plan, form, ex, written, patient_id=ref_id(form["patient"], "Patient", "patient")
        )
    # A new patient is registered in the booking's own transaction: a booking that fails (the slot
    # was taken meanwhile) leaves no patient behind.
    name, phone = name_and_phone(form)
    e164 = patients.phone_or_422(phone, region=ex.region, field="form.patient_phone")
    async with patients.registration_lock(ex.state, e164):
        existing = await patients.find_by_phone(ex.fhir, phone=e164, region=ex.region)
        if existing:
            return await _book_for(plan, form, ex, written, patient_id=str(existing[0]["id"]))
        new = patients.new_patient(
            name=name,
            e164=e164,
            gender=form.get("gender"),
            birth_date=as_date(form.get("birth_date"), "birth_date"),
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
        slot_id=ref_id(form.get("slot"), "Slot", "slot"),
        patient_id=patient_id,
        reason=form.get("reason"),
        channel=Channel.ASSISTANT,
        source=SOURCE,
        actors=ex.actors,
        now=ex.now,
        instruction=ex.instruction,
        identifier=plan_tag(plan),
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
    old = ref_id(form.get("appointment"), "Appointment", "appointment")
    moved = await booking.reschedule(
        ex.fhir,
        ex.directory,
        ex.state,
        appointment_id=old,
        slot_id=ref_id(form.get("slot"), "Slot", "slot"),
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
        appointment_id=ref_id(form.get("appointment"), "Appointment", "appointment"),
        reason=form.get("reason"),
        actors=ex.actors,
        instruction=ex.instruction,
    )
    written.append(f"Appointment/{cancelled['id']}")
    return {"appointment": f"Appointment/{cancelled['id']}"}


EXECUTORS: dict[Intent, Executor] = {
    Intent.BOOK_APPOINTMENT: _book,
    Intent.RESCHEDULE_APPOINTMENT: _reschedule,
    Intent.CANCEL_APPOINTMENT: _cancel,
}
