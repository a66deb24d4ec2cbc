"""What a call leads to, by the extraction's intent. The platform's model extracts; this code decides
(DESIGN.md invariant 3): a call books only when the slot is free, the platform is sure enough and the
doctor is unambiguous (resolved by the assistant's resolver, in the clinic's time zone); otherwise staff
get a ticket with the reason and the free alternatives. Each write is keyed on the call id, so a
retried job finds it instead of writing it again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from app.calls.rules import CallRules
from app.directory.index import DirectoryCache, DirectoryIndex, RoleEntry
from app.errors import Conflict
from app.fhir.builders import Actor
from app.fhir.bundle import Transaction
from app.fhir.canonical import CS_TASK_TYPE, SID_VOICE_CALL, TASK_TYPE_OPPORTUNITY, TASK_TYPE_TICKET
from app.fhir.client import FhirClient, Resource
from app.opportunities import service as opportunities
from app.ports.nlu import ExtractedEntities, Extraction, Intent
from app.ports.state import StateStore
from app.ports.voice import AppointmentRequest, CallExtraction, VoiceEvent, VoiceIntent
from app.scheduling import booking
from app.scheduling.resources import participant
from app.tickets import service as tickets
from app.understanding import resolve
from app.understanding.draft import Draft, normalise
from app.vocabulary import Channel

log = structlog.get_logger(__name__)

SOURCE = "voice"
ALTERNATIVES = 3
ALTERNATIVE_ROLES = 20
# Intents that always become a ticket: its category and priority.
TICKETS: dict[VoiceIntent, tuple[str, str]] = {
    VoiceIntent.INQUIRY: ("inquiry", "routine"),
    VoiceIntent.CALLBACK: ("callback", "routine"),
    VoiceIntent.COMPLAINT: ("complaint", "urgent"),
    VoiceIntent.OTHER: ("other", "routine"),
    VoiceIntent.EMERGENCY: ("emergency", "stat"),
}
_RESOLVED_AS = {
    VoiceIntent.BOOK_APPOINTMENT: Intent.BOOK_APPOINTMENT,
    VoiceIntent.RESCHEDULE_APPOINTMENT: Intent.RESCHEDULE_APPOINTMENT,
    VoiceIntent.CANCEL_APPOINTMENT: Intent.CANCEL_APPOINTMENT,
}


@dataclass(frozen=True)
class Act:
    """What the actions run on."""

    fhir: FhirClient
    state: StateStore
    directory: DirectoryCache
    rules: CallRules
    now: datetime
    actor: Actor


async def act(
    ctx: Act, *, event: VoiceEvent, extraction: CallExtraction, patient_id: str | None
) -> list[str]:
    """Do what the call asked for, once; the references written (or found from an earlier run)."""
    intent = extraction.intent
    if intent in TICKETS:
        category, priority = TICKETS[intent]
        return [await _ticket(ctx, event, extraction, patient_id, category=category, priority=priority)]
    if patient_id is None:
        why = "the caller's number matches no single patient and no name was given to register them"
        return [await _ticket(ctx, event, extraction, None, category="callback", why=[why])]
    draft = request_draft(event, extraction, ctx.rules)
    if intent is VoiceIntent.BOOK_APPOINTMENT:
        return await _book(ctx, event, extraction, draft, patient_id)
    return await _change(ctx, event, extraction, draft, patient_id)


def request_draft(event: VoiceEvent, extraction: CallExtraction, rules: CallRules) -> Draft:
    """The request normalised the assistant's way (specialty code, a time in the clinic's zone)."""
    wanted = extraction.appointment or AppointmentRequest()
    when: str | None = None
    if wanted.preferred_start:
        when = wanted.preferred_start.isoformat()
    elif wanted.preferred_date and wanted.preferred_time:
        when = f"{wanted.preferred_date.isoformat()}T{wanted.preferred_time}"
    elif wanted.preferred_date:
        when = wanted.preferred_date.isoformat()
    elif wanted.preferred_time:
        when = wanted.preferred_time
    entities = ExtractedEntities(
        practitioner_name=wanted.practitioner_name,
        specialty=wanted.specialty,
        when=when,
        reason=wanted.reason,
    )
    return normalise(
        Extraction(intent=_RESOLVED_AS[extraction.intent], entities=entities),
        text=extraction.summary or "",
        now=event.call.started_at,
        tz=rules.timezone,
        region=rules.region,
    )


def _unsure(extraction: CallExtraction, rules: CallRules) -> list[str]:
    if extraction.confidence >= rules.min_confidence:
        return []
    return [
        f"the voice agent was {extraction.confidence:.0%} sure; acting alone needs {rules.min_confidence:.0%}"
    ]


def _alternative_roles(index: DirectoryIndex, draft: Draft, roles: list[RoleEntry]) -> list[RoleEntry]:
    """Where alternatives come from: the roles asked for, else the specialty's, else every bookable
    role; at most ALTERNATIVE_ROLES (one slot search stays small whatever the size of the directory)."""
    bookable = [r for r in index.roles if r.active and r.schedule_id]
    of_specialty = [
        r for r in bookable if draft.entities.specialty and r.specialty == draft.entities.specialty
    ]
    return (roles or of_specialty or bookable)[:ALTERNATIVE_ROLES]


async def _book(
    ctx: Act, event: VoiceEvent, extraction: CallExtraction, draft: Draft, patient_id: str
) -> list[str]:
    """Book the requested slot, or hand staff a callback ticket (and keep the booking interest as a lead)."""
    found = await ctx.fhir.search("Appointment", _keyed(event))
    if found:
        return [f"Appointment/{found[0]['id']}", *await _lead_refs(ctx, event)]
    index = await ctx.directory.get()
    roles = resolve.resolve_practitioner(draft, index)
    doctors = {r.practitioner_id for r in roles}
    if len(doctors) > 1:
        # A specialty alone names a doctor only when one doctor practises it.
        draft.clarifications.append(
            f"no doctor was named and {len(doctors)} {draft.entities.specialty} doctors could see the caller"
        )
    elif not roles and not draft.entities.practitioner_name and not draft.entities.specialty:
        draft.clarifications.append("no doctor or specialty was asked for")
    # Only one doctor's slot can be booked; otherwise nothing is looked up but the alternatives.
    slot = await resolve.resolve_slot(draft, ctx.fhir, roles, real_now=ctx.now) if len(doctors) == 1 else None
    why = _unsure(extraction, ctx.rules) + draft.clarifications
    if slot is not None and not why:
        try:
            return await _book_slot(ctx, event, draft, patient_id, slot_id=str(slot.slot["id"]))
        except Conflict as exc:
            why.append(exc.message)
    if slot is not None or len(doctors) != 1:
        # resolve_slot offered alternatives only when the time was not free; staff call back with what is free now.
        await resolve.offer_alternatives(
            draft, ctx.fhir, _alternative_roles(index, draft, roles), real_now=ctx.now
        )
    ticket = await _ticket(ctx, event, extraction, patient_id, category="callback", why=why, draft=draft)
    return [ticket, await _lead(ctx, event, patient_id, description=draft.entities.reason)]


async def _book_slot(
    ctx: Act, event: VoiceEvent, draft: Draft, patient_id: str, *, slot_id: str
) -> list[str]:
    lead = await opportunities.open_opportunity(ctx.fhir, patient_id=patient_id)

    def add_lead(tx: Transaction, appointment_ref: str) -> None:
        opportunities.add_booked_opportunity(
            tx,
            existing=lead,
            patient_ref=f"Patient/{patient_id}",
            appointment_ref=appointment_ref,
            source=SOURCE,
            description=draft.entities.reason,
            identifier=_tag(event),
        )

    appointment = await booking.book(
        ctx.fhir,
        ctx.directory,
        ctx.state,
        slot_id=slot_id,
        patient_id=patient_id,
        reason=draft.entities.reason,
        channel=Channel.VOICE,
        actors=[ctx.actor],
        now=ctx.now,
        extend=add_lead,
        identifier=_tag(event),
    )
    lead_ref = f"Task/{lead['id']}" if lead else None
    return [f"Appointment/{appointment['id']}", *([lead_ref] if lead_ref else await _lead_refs(ctx, event))]


async def _change(
    ctx: Act, event: VoiceEvent, extraction: CallExtraction, draft: Draft, patient_id: str
) -> list[str]:
    """Reschedule or cancel the one upcoming appointment meant; a ticket listing the candidates otherwise."""
    cancelling = extraction.intent is VoiceIntent.CANCEL_APPOINTMENT
    index = await ctx.directory.get()
    named = draft.entities.practitioner_name or draft.entities.specialty
    roles = resolve.resolve_practitioner(draft, index) if named else []
    patient = await ctx.fhir.read("Patient", patient_id)
    appointment = None
    if not (named and not roles):
        # A reschedule's date is the new one; only a cancellation is matched on it.
        appointment = await resolve.resolve_appointment(
            draft, ctx.fhir, patient, roles, match_date=cancelling, real_now=ctx.now
        )
    why = _unsure(extraction, ctx.rules) + draft.clarifications
    if appointment is not None and not why:
        try:
            if cancelling:
                cancelled = await booking.cancel(
                    ctx.fhir,
                    appointment_id=str(appointment["id"]),
                    reason=draft.entities.reason,
                    actors=[ctx.actor],
                )
                return [f"Appointment/{cancelled['id']}"]
            role = index.by_role(participant(appointment, "PractitionerRole") or "")
            slot = await resolve.resolve_slot(draft, ctx.fhir, [role] if role else [], real_now=ctx.now)
            if slot is not None:
                moved = await booking.reschedule(
                    ctx.fhir,
                    ctx.directory,
                    ctx.state,
                    appointment_id=str(appointment["id"]),
                    slot_id=str(slot.slot["id"]),
                    actors=[ctx.actor],
                    now=ctx.now,
                    channel=Channel.VOICE,
                )
                return [f"Appointment/{moved['id']}", f"Appointment/{appointment['id']}"]
            why = draft.clarifications or ["the new time could not be found"]
        except Conflict as exc:
            why.append(exc.message)
    return [await _ticket(ctx, event, extraction, patient_id, category="callback", why=why, draft=draft)]


def _tag(event: VoiceEvent) -> dict[str, str]:
    return {"system": SID_VOICE_CALL, "value": event.call.id}


def _keyed(event: VoiceEvent, task_type: str | None = None) -> dict[str, str]:
    search = {"identifier": f"{SID_VOICE_CALL}|{event.call.id}"}
    if task_type:
        search["code"] = f"{CS_TASK_TYPE}|{task_type}"
    return search


async def _ticket(
    ctx: Act,
    event: VoiceEvent,
    extraction: CallExtraction,
    patient_id: str | None,
    *,
    category: str,
    priority: str = "routine",
    why: list[str] | None = None,
    draft: Draft | None = None,
) -> str:
    """The call's ticket for staff (one per call), pre-filled with what the caller asked for."""
    found = await ctx.fhir.search("Task", _keyed(event, TASK_TYPE_TICKET))
    if found:
        return f"Task/{found[0]['id']}"
    task = await tickets.create_ticket(
        ctx.fhir,
        patient_id=patient_id,
        category=category,
        description=describe(event, extraction, why=why or [], draft=draft),
        due=None,
        owner=None,
        actors=[ctx.actor],
        priority=priority,
        identifier=_tag(event),
        now=ctx.now,
        sla=ctx.rules.ticket_sla,
    )
    log.info(
        "voice.ticket.created",
        ticket=f"Task/{task['id']}",
        call_id=event.call.id,
        category=category,
        priority=priority,
    )
    return f"Task/{task['id']}"


def describe(event: VoiceEvent, extraction: CallExtraction, *, why: list[str], draft: Draft | None) -> str:
    """The ticket's text: the call, what was asked, why nothing was done automatically, what is free."""
    lines = [f"Voice call {event.call.id}: {extraction.intent.value} ({extraction.confidence:.0%} sure)."]
    if extraction.summary:
        lines.append(f"Summary: {extraction.summary}")
    said = extraction.patient
    if said and (said.name or said.phone):
        lines.append(f"Caller said: {said.name or '?'}, {said.phone or event.caller}")
    else:
        lines.append(f"Caller: {event.caller}")
    if draft is not None:
        e = draft.entities
        asked = [
            f"Dr. {e.practitioner_name}" if e.practitioner_name else None,
            e.specialty,
            f"{e.start:%a %d %b %Y %H:%M}" if e.start else e.date,
            e.reason,
        ]
        lines.append("Asked for: " + (", ".join(a for a in asked if a) or "nothing specific"))
    if why:
        lines.append("Not done automatically: " + "; ".join(why))
    offered = draft.alternatives if draft else []
    slots = [a for a in offered if "slot" in a and "appointment" not in a][:ALTERNATIVES]
    if slots:
        lines.append("Free alternatives:")
        lines += [
            f"- Dr. {a['practitioner_name']} ({a['specialty']}), {a['start']} [{a['slot']}]" for a in slots
        ]
    appointments = [a for a in offered if "appointment" in a]
    if appointments:
        lines.append("Candidate appointments:")
        lines += [
            f"- {a['start']} with {a['practitioner_name'] or '?'} [{a['appointment']}]" for a in appointments
        ]
    return "\n".join(lines)


async def _lead_refs(ctx: Act, event: VoiceEvent) -> list[str]:
    found = await ctx.fhir.search("Task", _keyed(event, TASK_TYPE_OPPORTUNITY))
    return [f"Task/{found[0]['id']}"] if found else []


async def _lead(ctx: Act, event: VoiceEvent, patient_id: str, *, description: str | None) -> str:
    """The patient's open lead, or a new one from this call (source voice)."""
    if keyed := await _lead_refs(ctx, event):
        return keyed[0]
    lead: Resource | None = await opportunities.open_opportunity(ctx.fhir, patient_id=patient_id)
    if lead is None:
        lead = await opportunities.create_opportunity(
            ctx.fhir,
            patient_id=patient_id,
            description=description,
            source=SOURCE,
            actors=[ctx.actor],
            identifier=_tag(event),
        )
    return f"Task/{lead['id']}"
