"""Patient intents: register, update details, find, the 360 summary, and joining the waitlist."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError

from app.assistant.intents.common import Context, Handler, patient_or_ask
from app.directory.resources import display_name
from app.fhir.client import Resource
from app.opportunities.resources import stage_of
from app.patients import contacts
from app.patients import service as patients
from app.patients.schemas import PatientUpdate
from app.ports.nlu import Intent
from app.tickets.resources import OPEN_STATUSES, status_of
from app.understanding import resolve as r
from app.understanding.draft import Draft
from app.understanding.resolve import resolve_practitioner

# An address needs at least a line, a city and a state besides its PIN code.
ADDRESS_PARTS = 3
# A waitlist request without dates waits this many days from today.
WAIT_DAYS = 14


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


# A postal address as staff type it: "12 MG Road, Indiranagar, Bengaluru 560038" (the PIN code is required).
_PIN = re.compile(r"(?P<pin>\b\d{6}\b)")


def _address(draft: Draft) -> dict[str, Any] | None:
    """The address words ("house, street, city, state PIN") as API fields; None, with a question, otherwise."""
    text = draft.entities.address or ""
    pin = _PIN.search(text)
    parts = (
        [p.strip() for p in (text[: pin.start()] + text[pin.end() :]).split(",") if p.strip()] if pin else []
    )
    if pin is None or len(parts) < ADDRESS_PARTS:
        draft.clarifications.append(
            "Give the address as: house and street, city, state and 6-digit PIN code."
        )
        return None
    return {"line": parts[:-2], "city": parts[-2], "state": parts[-1], "postal_code": pin.group("pin")}


def _changes(draft: Draft, patient: Resource) -> dict[str, Any]:
    """What the instruction asks to change, as the patients service's change fields."""
    e = draft.entities
    changes: dict[str, Any] = {
        "gender": draft.gender,
        "birth_date": draft.birth_date,
        "phone": e.new_phone,
        "email": e.email,
        "preferred_language": e.language,
        "preferred_channel": e.channel,
    }
    if e.address:
        changes["address"] = _address(draft)
    if e.contact_phone or e.contact_name:
        if not (e.contact_phone and e.contact_name):
            draft.clarifications.append("An emergency contact needs a name and a phone number.")
        changes["emergency_contact"] = {
            "name": e.contact_name,
            "phone": e.contact_phone,
            "relationship": e.contact_relationship or "other",
        }
    if e.tag:
        # The service replaces the whole list: the patient's tags so far, plus the one said.
        current = contacts.tags_of(patient)
        if e.tag in current:
            draft.notes.append(f"{display_name(patient)} is already tagged {e.tag}.")
        else:
            changes["tags"] = [*current, e.tag]
    changes = {k: v for k, v in changes.items() if v}
    try:
        PatientUpdate.model_validate(changes)
    except ValidationError as exc:
        error = exc.errors()[0]
        draft.clarifications.append(f"{'.'.join(map(str, error['loc']))}: {error['msg']}")
    return changes


async def update(draft: Draft, ctx: Context) -> None:
    """Update a patient's details: phone, email, address, language, channel, emergency contact, gender, birth date."""
    patient = await patient_or_ask(draft, ctx, why="Which patient should be updated?")
    if patient is None:
        return
    draft.fill("patient", draft.resolved.patient, "resolved", "Patient")
    changes = _changes(draft, patient)
    for key, value in changes.items():
        draft.fill(key, value, "extracted", key.replace("_", " ").capitalize())
    if not changes:
        draft.need(
            "changes",
            "Changes",
            why="What should change (phone, email, address, language, channel, emergency contact, tags, gender, "
            "birth date)?",
        )
    draft.act(
        "update_patient",
        f"Update {display_name(patient)}: "
        + (", ".join(f"{k} -> {v}" for k, v in changes.items()) or "nothing yet"),
    )


async def summary(draft: Draft, ctx: Context) -> None:
    """Answer: the patient's 360 view in brief."""
    patient = await patient_or_ask(draft, ctx, why="Which patient?")
    if patient is None:
        return
    view = await patients.patient_360(ctx.fhir, patient_id=patient["id"], now=ctx.real_now)
    upcoming = [r.appointment_summary(a) for a in view.upcoming]
    lead = view.open_opportunity
    open_tickets = [t for t in view.tickets if status_of(t) in OPEN_STATUSES]
    draft.results.append(
        {
            **r.patient_summary(patient),
            "upcoming_appointments": upcoming,
            "past_appointments": len(view.past),
            "messages": len(view.communications),
            "open_opportunity": f"Task/{lead['id']}" if lead else None,
            "open_opportunity_stage": stage_of(lead) if lead else None,
            "open_tickets": [f"Task/{t['id']}" for t in open_tickets],
            "engagement": view.engagement.level if view.engagement else None,
        }
    )
    nxt = (
        f"next visit {upcoming[0]['start'][:16].replace('T', ' ')} with Dr. {upcoming[0]['practitioner_name']}"
        if upcoming
        else "no upcoming visit"
    )
    draft.answer = (
        f"{display_name(patient)}: {nxt}; {len(view.past)} past visits, {len(view.communications)} messages, "
        f"{len(open_tickets)} open tickets" + (f", a lead at stage {stage_of(lead)}." if lead else ".")
    )


async def waitlist(draft: Draft, ctx: Context) -> None:
    """Put a patient on the waitlist of a doctor or a department for a period (default: the next 14 days)."""
    patient = await patient_or_ask(draft, ctx, why="Which patient should wait?")
    if patient is not None:
        draft.fill("patient", draft.resolved.patient, "resolved", "Patient")
    roles = resolve_practitioner(draft, ctx.index)
    doctors = {role.practitioner_id for role in roles}
    if draft.entities.practitioner_name and len(doctors) == 1:
        draft.fill("practitioner", f"Practitioner/{roles[0].practitioner_id}", "resolved", "Doctor")
    elif draft.entities.practitioner_name:
        draft.need("practitioner", "Doctor", why=None if draft.clarifications else "Which doctor?")
    elif draft.entities.specialty:
        draft.fill("specialty", draft.entities.specialty, "extracted", "Department")
    elif not draft.clarifications:
        draft.need("specialty", "Doctor or department", why="For which doctor or department?")
    first = draft.entities.period_start or (
        draft.when.date.isoformat() if draft.when and draft.when.date else None
    )
    last = draft.entities.period_end or first
    today = draft.now.date()
    start = date.fromisoformat(first) if first else today
    end = date.fromisoformat(last) if last else today + timedelta(days=WAIT_DAYS - 1)
    draft.fill("start", start.isoformat(), "extracted" if first else "default", "From")
    draft.fill("end", end.isoformat(), "extracted" if last else "default", "Until")
    part = draft.when.part_of_day if draft.when else None
    draft.fill("part_of_day", part, "extracted" if part else "default", "Part of day")
    who = display_name(patient) if patient else "the patient"
    target = (
        f"Dr. {roles[0].practitioner_name}"
        if roles and draft.entities.practitioner_name
        else draft.entities.specialty or "?"
    )
    draft.act("join_waitlist", f"Put {who} on the waitlist for {target} from {start:%d %b} to {end:%d %b}")


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
    names = ", ".join(display_name(p) for p in found[:3]) + (" ..." if len(found) > 3 else "")
    draft.answer = f"{len(found)} patient{'s' if len(found) != 1 else ''} found" + (
        f": {names}." if found else "."
    )


HANDLERS: dict[Intent, Handler] = {
    Intent.REGISTER_PATIENT: register,
    Intent.UPDATE_PATIENT: update,
    Intent.FIND_PATIENT: find_patient,
    Intent.PATIENT_SUMMARY: summary,
    Intent.JOIN_WAITLIST: waitlist,
}
