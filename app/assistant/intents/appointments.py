"""Appointment intents: book, reschedule, cancel, list, availability."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from app.assistant.intents.common import (
    RESULTS_LIMIT,
    Context,
    Handler,
    patient_or_ask,
    patient_or_registration,
    when_text,
)
from app.directory.resources import display_name
from app.ports.nlu import Intent
from app.scheduling.queries import list_appointments
from app.scheduling.resources import participant
from app.scheduling.search import find_free_slots
from app.understanding import resolve as r
from app.understanding.draft import Draft


async def book(draft: Draft, ctx: Context) -> None:
    """Book an appointment (registering the patient first if new) and create or advance the lead."""
    await patient_or_registration(draft, ctx, why="to book for")
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
    when = when_text(free.start) if free else "the chosen time"
    patient = draft.entities.patient_name or "the patient"
    draft.act("book_appointment", f"Book {patient} with {who} on {when}")
    draft.act(
        "create_opportunity",
        "Create or advance the patient's opportunity to stage 'booked' (source: assistant)",
    )


async def reschedule(draft: Draft, ctx: Context) -> None:
    """Move an upcoming appointment to a new free slot."""
    patient = await patient_or_ask(draft, ctx, why="Whose appointment should move?")
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
    new = when_text(free.start) if free else "the chosen time"
    draft.act(
        "reschedule_appointment",
        f"Move Appointment/{current['id']} of {display_name(patient)} from {when_text(old)} to {new}; "
        "the old slot becomes free and the old appointment is cancelled and linked to the new one",
    )


async def cancel(draft: Draft, ctx: Context) -> None:
    """Cancel an upcoming appointment, showing exactly what changes."""
    patient = await patient_or_ask(draft, ctx, why="Whose appointment should be cancelled?")
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
        f"on {when_text(start)} (status booked -> cancelled); {summary['slot']} becomes free",
        destructive=True,
    )


async def appointments(draft: Draft, ctx: Context) -> None:
    """Answer: appointments of a practitioner and/or patient on a day (default today) or in a date range."""
    roles = r.resolve_practitioner(draft, ctx.index) if draft.entities.practitioner_name else []
    patient = await r.resolve_patient(draft, ctx.fhir, region=ctx.region)
    if draft.entities.patient_name and patient is None:
        return  # the name matched nobody, or several: the clarification asks which
    if draft.entities.period_start and draft.entities.period_end:
        first, last = (
            date.fromisoformat(draft.entities.period_start),
            date.fromisoformat(draft.entities.period_end),
        )
    else:
        first = last = draft.when.date if draft.when and draft.when.date else draft.now.date()
        draft.entities.date = first.isoformat()
    start = datetime.combine(first, datetime.min.time(), tzinfo=draft.now.tzinfo)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=draft.now.tzinfo)
    found = await list_appointments(
        ctx.fhir,
        start=start,
        end=end,
        practitioner_id=roles[0].practitioner_id if roles else None,
        patient_id=patient["id"] if patient else None,
        limit=RESULTS_LIMIT,
    )
    draft.results.extend(r.appointment_summary(a) for a in found)
    whose = f"{display_name(patient)} has" if patient else "There are"
    days = f"on {first:%a %d %b}" if first == last else f"from {first:%a %d %b} to {last:%a %d %b}"
    draft.answer = f"{whose} {len(found)} appointment{'s' if len(found) != 1 else ''} {days}."


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
    first = (
        f"; the first at {found[0].start:%H:%M} with Dr. {found[0].role.practitioner_name}" if found else ""
    )
    draft.answer = f"{len(found)} free slots on {day:%a %d %b}{first}."


HANDLERS: dict[Intent, Handler] = {
    Intent.BOOK_APPOINTMENT: book,
    Intent.RESCHEDULE_APPOINTMENT: reschedule,
    Intent.CANCEL_APPOINTMENT: cancel,
    Intent.LIST_APPOINTMENTS: appointments,
    Intent.CHECK_AVAILABILITY: availability,
}
