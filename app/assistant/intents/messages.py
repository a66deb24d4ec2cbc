"""Message intents: send a patient a message (free text or a template, on WhatsApp, SMS or email; the
sending rules apply again at send time) and show a patient's message history."""

from __future__ import annotations

from datetime import timedelta

from rapidfuzz import fuzz, process

from app.assistant.intents.common import RESULTS_LIMIT, Context, Handler, patient_or_ask
from app.directory.resources import display_name
from app.fhir.client import Resource
from app.messaging import catalog
from app.messaging.inbound import clinic_contact
from app.messaging.notifications import appointment_variables
from app.messaging.resources import message_of
from app.ports.nlu import Intent
from app.scheduling.queries import list_appointments
from app.understanding.draft import Draft

# How alike a template's name must be to the words said (rapidfuzz WRatio, 0-100).
TEMPLATE_SCORE = 75
# Appointment templates are filled from the patient's next appointment within this many days.
UPCOMING_DAYS = 60
_APPOINTMENT_VARIABLES = frozenset({"practitioner_name", "date", "time", "location_name", "maps_link"})


async def _variables(draft: Draft, ctx: Context, patient: Resource, template: str) -> dict[str, str] | None:
    """The template's variables from the patient, the clinic and (for appointment templates) the patient's
    next appointment; None, with the reason as a clarification, when one cannot be filled."""
    wanted = set(catalog.template(template).variables)
    if wanted & _APPOINTMENT_VARIABLES:
        upcoming = await list_appointments(
            ctx.fhir,
            start=ctx.real_now,
            end=ctx.real_now + timedelta(days=UPCOMING_DAYS),
            patient_id=patient["id"],
            statuses=("booked",),
            limit=1,
        )
        if not upcoming:
            draft.clarifications.append(
                f"{display_name(patient)} has no upcoming appointment for {template}."
            )
            return None
        found = await appointment_variables(
            ctx.fhir,
            appointment=upcoming[0],
            patient=patient,
            template=template,
            default_timezone=ctx.timezone,
        )
    else:
        clinic = await clinic_contact(ctx.fhir)
        known = {"patient_name": display_name(patient)} | (
            {"clinic_name": clinic[0], "clinic_phone": clinic[1]} if clinic else {}
        )
        found = {k: v for k, v in known.items() if k in wanted and v}
        found = found if set(found) == wanted else None
    if found is None:
        draft.clarifications.append(f"The directory does not give every value template {template} needs.")
    return found


async def message(draft: Draft, ctx: Context) -> None:
    """Queue a message to a patient: free text, or a template filled from the record."""
    patient = await patient_or_ask(draft, ctx, why="To which patient?")
    if patient is not None:
        draft.fill("patient", draft.resolved.patient, "resolved", "Patient")
    channel = draft.entities.channel or "whatsapp"
    draft.fill("channel", channel, "extracted" if draft.entities.channel else "default", "Channel")
    template = None
    if draft.entities.template:
        names = {t.name: t.name.replace("_", " ") for t in catalog.templates()}
        match = process.extractOne(
            draft.entities.template, names, scorer=fuzz.WRatio, score_cutoff=TEMPLATE_SCORE
        )
        template = str(match[2]) if match else None
        if template is None:
            draft.need(
                "template",
                "Template",
                why=f"I know no template {draft.entities.template!r}: {', '.join(sorted(names))}.",
            )
        elif channel not in catalog.template(template).channels:
            draft.clarifications.append(f"Template {template} is not sent by {channel}.")
        else:
            draft.entities.template = template
            draft.fill("template", template, "extracted", "Template")
            variables = await _variables(draft, ctx, patient, template) if patient is not None else None
            draft.fill("variables", variables, "resolved" if variables else "missing", "Template values")
    elif not draft.entities.message:
        draft.need("message", "Message", why="What should the message say (or which template)?")
    else:
        draft.fill("message", draft.entities.message, "extracted", "Message")
    what = f"the {template} template" if template else "a message"
    who = display_name(patient) if patient else "the patient"
    draft.act(
        "send_message",
        f"Queue {what} to {who} by {channel} (consent, quiet hours and the 24 h window are checked when it is sent)",
    )


async def history(draft: Draft, ctx: Context) -> None:
    """Answer: the patient's messages, newest first (on one channel when one is named)."""
    patient = await patient_or_ask(draft, ctx, why="Whose messages?")
    if patient is None:
        return
    channel = draft.entities.channel
    found = await ctx.fhir.search(
        "Communication",
        {"subject": f"Patient/{patient['id']}", "_sort": "-_lastUpdated"},
        limit=RESULTS_LIMIT,
    )
    shown = [m for m in map(message_of, found) if channel is None or m.channel == channel]
    draft.results.extend(
        {
            "message": f"Communication/{m.id}",
            "direction": m.direction.value,
            "channel": m.channel,
            "status": m.delivery_status or m.status,
            "sent_at": m.sent_at.isoformat() if m.sent_at else None,
            "text": m.text,
        }
        for m in shown
    )
    on = f" on {channel}" if channel else ""
    latest = (
        f"; the latest {shown[0].direction.value} on {shown[0].sent_at:%d %b %H:%M}"
        if shown and shown[0].sent_at
        else ""
    )
    draft.answer = f"{len(shown)} messages with {display_name(patient)}{on}{latest}."


HANDLERS: dict[Intent, Handler] = {
    Intent.SEND_MESSAGE: message,
    Intent.MESSAGE_HISTORY: history,
}
