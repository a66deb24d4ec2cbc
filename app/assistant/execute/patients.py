"""Executing patient plans: register, update details, join the waitlist."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from pydantic import ValidationError

from app.assistant.execute.common import Execution, Executor, as_date, patient_or_register, ref_id
from app.assistant.schemas import Plan
from app.errors import Conflict, Invalid
from app.outreach import waitlist
from app.patients import service as patients
from app.patients.schemas import PatientUpdate
from app.ports.nlu import Intent
from app.vocabulary import Channel

# The patient fields an update plan may carry (PatientUpdate's names), each checked as the API checks it.
UPDATE_FIELDS = (
    "gender",
    "birth_date",
    "phone",
    "email",
    "address",
    "preferred_language",
    "preferred_channel",
    "emergency_contact",
    "tags",
)
CORRECTABLE: dict[Intent, tuple[str, ...]] = {
    Intent.REGISTER_PATIENT: ("patient_name", "patient_phone", "gender", "birth_date"),
    Intent.UPDATE_PATIENT: (
        "gender",
        "birth_date",
        "phone",
        "email",
        "preferred_language",
        "preferred_channel",
    ),
    Intent.JOIN_WAITLIST: ("start", "end"),
}
REQUIRED: dict[Intent, tuple[tuple[str, ...], ...]] = {
    Intent.REGISTER_PATIENT: (("patient_name", "patient_phone"),),
    Intent.UPDATE_PATIENT: tuple(("patient", name) for name in UPDATE_FIELDS),
    Intent.JOIN_WAITLIST: (
        ("patient", "specialty", "start", "end"),
        ("patient", "practitioner", "start", "end"),
    ),
}


async def _register(
    plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]
) -> dict[str, str | None]:
    del plan
    patient_id = await patient_or_register({**form, "patient": None}, ex, written)
    if not written:
        raise Conflict(f"That phone is already registered to Patient/{patient_id}", code="already_registered")
    return {"patient": f"Patient/{patient_id}"}


async def _update(
    plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]
) -> dict[str, str | None]:
    del plan
    patient_id = ref_id(form.get("patient"), "Patient", "patient")
    wanted = {name: form[name] for name in UPDATE_FIELDS if form.get(name)}
    if not wanted:
        raise Invalid("form.changes", "nothing to change")
    try:
        changes = PatientUpdate.model_validate(wanted).model_dump(exclude_unset=True)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise Invalid("form." + ".".join(map(str, error["loc"])), error["msg"]) from None
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


async def _waitlist(
    plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]
) -> dict[str, str | None]:
    del plan
    patient_id = ref_id(form.get("patient"), "Patient", "patient")
    first, last = as_date(form.get("start"), "start"), as_date(form.get("end"), "end")
    if first is None or last is None:
        raise Invalid("form.start", "a waitlist entry needs a first and a last day")
    tz = ex.now.tzinfo
    entry = await waitlist.join(
        ex.fhir,
        ex.directory,
        patient_id=patient_id,
        specialty=form.get("specialty") if not form.get("practitioner") else None,
        practitioner_id=ref_id(form["practitioner"], "Practitioner", "practitioner")
        if form.get("practitioner")
        else None,
        start=datetime.combine(first, time.min, tzinfo=tz),
        end=datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz),
        part_of_day=form.get("part_of_day"),
        channel=Channel.ASSISTANT,
        actor=ex.actors[0],
        now=ex.now,
    )
    written.append(f"Appointment/{entry['id']}")
    return {"patient": f"Patient/{patient_id}", "appointment": f"Appointment/{entry['id']}"}


EXECUTORS: dict[Intent, Executor] = {
    Intent.REGISTER_PATIENT: _register,
    Intent.UPDATE_PATIENT: _update,
    Intent.JOIN_WAITLIST: _waitlist,
}
