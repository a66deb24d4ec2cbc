"""What each intent needs resolved, the actions it previews and the form it pre-fills."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.directory.index import DirectoryIndex
from app.directory.resources import display_name
from app.fhir.client import FhirClient, Resource
from app.patients import service as patients
from app.ports.nlu import Intent
from app.scheduling.queries import list_appointments
from app.scheduling.resources import participant
from app.scheduling.search import find_free_slots
from app.understanding import resolve as r
from app.understanding.draft import Draft

# Intents that only read: their answer is in the plan's results and nothing needs confirming.
READ_ONLY = (Intent.FIND_PATIENT, Intent.LIST_APPOINTMENTS, Intent.CHECK_AVAILABILITY, Intent.UNSUPPORTED)
UNSUPPORTED_HELP = (
    "I can book, reschedule or cancel appointments, register or update patients, add leads and tasks, "
    "send WhatsApp messages, find patients, list appointments and check availability."
)
RESULTS_LIMIT = 50


@dataclass(frozen=True)
class Context:
    """What every intent handler may use."""

    fhir: FhirClient
    index: DirectoryIndex
    region: str
    real_now: datetime


Handler = Callable[[Draft, Context], Awaitable[None]]


def _when_text(moment: datetime) -> str:
    return f"{moment:%a %d %b %Y, %H:%M}"


async def _patient_or_registration(draft: Draft, ctx: Context, *, why: str) -> Resource | None:
    """Resolve the patient; a new name + phone becomes a registration action."""
    patient = await r.resolve_patient(draft, ctx.fhir, region=ctx.region)
    if patient is not None:
        draft.fill("patient", draft.resolved.patient, "resolved", "Patient")
        return None
    name, phone = draft.entities.patient_name, draft.entities.patient_phone
    if phone and name and not draft.alternatives:
        draft.act("register_patient", f"Register new patient {name} ({phone})")
        draft.fill("patient_name", name, "extracted", "Name")
        draft.fill("patient_phone", phone, "extracted", "Phone")
        draft.notes.append(f"No patient has {phone}: confirming registers {name} first.")
        return None
    if phone and not name:
        draft.need("patient_name", "Name", why=f"No patient has {phone}; give a name to register them {why}.")
    elif not phone and not name:
        draft.need("patient", "Patient", why=f"Which patient {why}? Give a phone number or a name.")
    elif not draft.alternatives:
        draft.need("patient_phone", "Phone", why=f"No patient called {name!r}; give their phone number.")
    return None


async def book(draft: Draft, ctx: Context) -> None:
    """Book an appointment (registering the patient first if new) and create or advance the lead."""
    await _patient_or_registration(draft, ctx, why="to book for")
    roles = r.resolve_practitioner(draft, ctx.index)
    if not roles and not draft.entities.practitioner_name:
        draft.need("practitioner", "Doctor or specialty", why="With which doctor or specialty?")
    free = await r.resolve_slot(draft, ctx.fhir, roles, real_now=ctx.real_now)
    draft.fill(
        "practitioner",
        draft.resolved.practitioner,
        "resolved" if draft.resolved.practitioner else "missing",
        "Doctor",
    )
    draft.fill(
        "specialty",
        draft.entities.specialty,
        "extracted" if draft.entities.specialty else "missing",
        "Specialty",
    )
    draft.fill("slot", draft.resolved.slot, "resolved" if free else "missing", "Slot")
    if free is None and "slot" not in draft.missing:
        draft.missing.append("slot")
    draft.fill("reason", draft.entities.reason, "extracted" if draft.entities.reason else "default", "Reason")
    draft.fill("channel", "assistant", "default", "Booking channel")
    who = (
        f"Dr. {free.role.practitioner_name} ({free.role.specialty}, {free.role.location_name})"
        if free
        else "the doctor"
    )
    when = _when_text(free.start) if free else "the chosen time"
    patient = draft.entities.patient_name or "the patient"
    draft.act("book_appointment", f"Book {patient} with {who} on {when}")
    draft.act(
        "create_opportunity",
        "Create or advance the patient's opportunity to stage 'booked' (source: assistant)",
    )


async def reschedule(draft: Draft, ctx: Context) -> None:
    """Move an upcoming appointment to a new free slot."""
    patient = await _patient_or_ask(draft, ctx, why="Whose appointment should move?")
    if patient is None:
        return
    roles = r.resolve_practitioner(draft, ctx.index)
    current = await r.resolve_appointment(
        draft, ctx.fhir, patient, roles, match_date=False, real_now=ctx.real_now
    )
    if current is None:
        draft.need("appointment", "Appointment")
        return
    draft.fill("appointment", draft.resolved.appointment, "resolved", "Appointment to move")
    if not roles:
        role = ctx.index.by_role(participant(current, "PractitionerRole") or "")
        roles = [role] if role else []
        if role:
            draft.entities.practitioner_name = role.practitioner_name
            draft.resolved.practitioner = f"Practitioner/{role.practitioner_id}"
    free = await r.resolve_slot(draft, ctx.fhir, roles, real_now=ctx.real_now)
    draft.fill("slot", draft.resolved.slot, "resolved" if free else "missing", "New slot")
    if free is None and "slot" not in draft.missing:
        draft.missing.append("slot")
    old = datetime.fromisoformat(current["start"]).astimezone(draft.now.tzinfo)
    new = _when_text(free.start) if free else "the chosen time"
    draft.act(
        "reschedule_appointment",
        f"Move Appointment/{current['id']} of {display_name(patient)} from {_when_text(old)} to {new}; "
        "the old slot becomes free and the old appointment is cancelled and linked to the new one",
    )


async def cancel(draft: Draft, ctx: Context) -> None:
    """Cancel an upcoming appointment, showing exactly what changes."""
    patient = await _patient_or_ask(draft, ctx, why="Whose appointment should be cancelled?")
    if patient is None:
        return
    roles = r.resolve_practitioner(draft, ctx.index) if draft.entities.practitioner_name else []
    current = await r.resolve_appointment(
        draft, ctx.fhir, patient, roles, match_date=True, real_now=ctx.real_now
    )
    if current is None:
        draft.need("appointment", "Appointment")
        return
    draft.fill("appointment", draft.resolved.appointment, "resolved", "Appointment to cancel")
    draft.fill("reason", draft.entities.reason, "extracted" if draft.entities.reason else "default", "Reason")
    summary = r.appointment_summary(current)
    start = datetime.fromisoformat(current["start"]).astimezone(draft.now.tzinfo)
    draft.act(
        "cancel_appointment",
        f"Cancel Appointment/{current['id']} of {display_name(patient)} with Dr. {summary['practitioner_name']} "
        f"on {_when_text(start)} (status booked -> cancelled); {summary['slot']} becomes free",
    )


async def register(draft: Draft, ctx: Context) -> None:
    """Register a new patient."""
    name, phone = draft.entities.patient_name, draft.entities.patient_phone
    if phone:
        existing = await r.resolve_patient(draft, ctx.fhir, region=ctx.region)
        if existing is not None:
            draft.clarifications.append(
                f"{phone} is already registered to {display_name(existing)} ({draft.resolved.patient})."
            )
            draft.results.append(r.patient_summary(existing))
            return
    draft.fill("patient_name", name, "extracted" if name else "missing", "Name")
    draft.fill("patient_phone", phone, "extracted" if phone else "missing", "Phone")
    draft.fill("gender", draft.gender, "extracted" if draft.gender else "default", "Gender")
    draft.fill("birth_date", draft.birth_date, "extracted" if draft.birth_date else "default", "Birth date")
    if not name:
        draft.need("patient_name", "Name", why="What is the new patient's name?")
    if not phone:
        draft.need("patient_phone", "Phone", why="What is the new patient's phone number?")
    draft.act("register_patient", f"Register {name or 'a new patient'} ({phone or 'no phone yet'})")


async def update(draft: Draft, ctx: Context) -> None:
    """Update a patient's gender or birth date."""
    patient = await _patient_or_ask(draft, ctx, why="Which patient should be updated?")
    if patient is None:
        return
    draft.fill("patient", draft.resolved.patient, "resolved", "Patient")
    changes = {k: v for k, v in (("gender", draft.gender), ("birth_date", draft.birth_date)) if v}
    for key, value in changes.items():
        draft.fill(key, value, "extracted", key.replace("_", " ").capitalize())
    if not changes:
        draft.need("changes", "Changes", why="What should change (gender, birth date)?")
    draft.act(
        "update_patient",
        f"Update {display_name(patient)}: "
        + (", ".join(f"{k} -> {v}" for k, v in changes.items()) or "nothing yet"),
    )


async def opportunity(draft: Draft, ctx: Context) -> None:
    """Add a lead (registering the person as a patient if new)."""
    await _patient_or_registration(draft, ctx, why="for the lead")
    draft.fill(
        "reason", draft.entities.reason, "extracted" if draft.entities.reason else "default", "Interest"
    )
    draft.act(
        "create_opportunity",
        f"Create an opportunity (stage new, source assistant) for {draft.entities.patient_name or 'the patient'}",
    )


async def task(draft: Draft, ctx: Context) -> None:
    """Create a ticket for staff (e.g. a callback) due at the given time."""
    patient = await r.resolve_patient(draft, ctx.fhir, region=ctx.region)
    if patient is not None:
        draft.fill("patient", draft.resolved.patient, "resolved", "Patient")
    text = draft.entities.message or draft.text
    draft.fill("message", text, "extracted" if draft.entities.message else "default", "Task")
    due = draft.entities.start
    draft.fill("due", due.isoformat() if due else None, "extracted" if due else "default", "Due")
    for_whom = f" for {display_name(patient)}" if patient else ""
    draft.act("create_task", f"Create a callback task{for_whom}" + (f" due {_when_text(due)}" if due else ""))


async def message(draft: Draft, ctx: Context) -> None:
    """Queue a WhatsApp message to a patient (refused if they opted out)."""
    patient = await _patient_or_ask(draft, ctx, why="To which patient?")
    if patient is not None:
        draft.fill("patient", draft.resolved.patient, "resolved", "Patient")
    if not draft.entities.message:
        draft.need("message", "Message", why="What should the message say?")
    else:
        draft.fill("message", draft.entities.message, "extracted", "Message")
    draft.fill("channel", "whatsapp", "default", "Channel")
    draft.act("send_message", f"Queue a WhatsApp message to {draft.entities.patient_name or 'the patient'}")


async def find_patient(draft: Draft, ctx: Context) -> None:
    """Answer: the matching patients."""
    if draft.entities.patient_phone:
        found = await patients.find_by_phone(ctx.fhir, phone=draft.entities.patient_phone, region=ctx.region)
    elif draft.entities.patient_name:
        found = await patients.find_by_name(ctx.fhir, name=draft.entities.patient_name)
    else:
        draft.need("patient", "Phone or name", why="Which phone number or name should I look for?")
        return
    draft.results.extend(r.patient_summary(p) for p in found)
    if len(found) == 1:
        draft.resolved.patient = f"Patient/{found[0]['id']}"


async def appointments(draft: Draft, ctx: Context) -> None:
    """Answer: appointments of a practitioner and/or patient on a day (default today)."""
    roles = r.resolve_practitioner(draft, ctx.index) if draft.entities.practitioner_name else []
    patient = await r.resolve_patient(draft, ctx.fhir, region=ctx.region)
    day = draft.when.date if draft.when and draft.when.date else draft.now.date()
    draft.entities.date = day.isoformat()
    start = datetime.combine(day, datetime.min.time(), tzinfo=draft.now.tzinfo)
    found = await list_appointments(
        ctx.fhir,
        start=start,
        end=start + timedelta(days=1),
        practitioner_id=roles[0].practitioner_id if roles else None,
        patient_id=patient["id"] if patient else None,
        limit=RESULTS_LIMIT,
    )
    draft.results.extend(r.appointment_summary(a) for a in found)


async def availability(draft: Draft, ctx: Context) -> None:
    """Answer: free slots of a practitioner or specialty on a day or part of day."""
    roles = r.resolve_practitioner(draft, ctx.index)
    if not roles:
        if not draft.clarifications:
            draft.need("practitioner", "Doctor or specialty", why="Which doctor or specialty?")
        return
    day = datetime.combine(
        draft.when.date if draft.when and draft.when.date else draft.now.date(),
        datetime.min.time(),
        tzinfo=draft.now.tzinfo,
    )
    part = (
        draft.when.part_of_day
        if draft.when and draft.when.part_of_day in ("morning", "afternoon", "evening")
        else None
    )
    found = await find_free_slots(
        ctx.fhir, roles, start=day, end=day + timedelta(days=1), now=ctx.real_now, part_of_day=part
    )
    draft.results.extend(r.slot_summary(f) for f in found[:RESULTS_LIMIT])
    if not found:
        draft.notes.append("No free slots then.")


async def unsupported(draft: Draft, ctx: Context) -> None:
    """Not a PRM instruction: say what the assistant can do."""
    del ctx
    draft.clarifications.append(UNSUPPORTED_HELP)


HANDLERS: dict[Intent, Handler] = {
    Intent.BOOK_APPOINTMENT: book,
    Intent.RESCHEDULE_APPOINTMENT: reschedule,
    Intent.CANCEL_APPOINTMENT: cancel,
    Intent.REGISTER_PATIENT: register,
    Intent.UPDATE_PATIENT: update,
    Intent.CREATE_OPPORTUNITY: opportunity,
    Intent.CREATE_TASK: task,
    Intent.SEND_MESSAGE: message,
    Intent.FIND_PATIENT: find_patient,
    Intent.LIST_APPOINTMENTS: appointments,
    Intent.CHECK_AVAILABILITY: availability,
    Intent.UNSUPPORTED: unsupported,
}


async def _patient_or_ask(draft: Draft, ctx: Context, *, why: str) -> Resource | None:
    """The instruction's patient; when there is none, the question to ask (unless candidates are listed)."""
    patient = await r.resolve_patient(draft, ctx.fhir, region=ctx.region)
    if patient is None:
        draft.need("patient", "Patient", why=None if draft.alternatives else why)
    return patient
