"""My appointments, cancel (with confirmation) and reschedule (a new slot through the booking flow, moved
atomically); also the answers to a reminder's Confirm / Reschedule / Cancel quick replies."""

from __future__ import annotations

from datetime import timedelta

import structlog

from app.bot import present
from app.bot.announce import announce
from app.bot.flows import book
from app.bot.replies import pick, yes_no
from app.bot.turn import BOT, Turn
from app.bot.understand import Request
from app.errors import Conflict, InvalidTransition
from app.fhir.client import Resource
from app.fhir.records import update_edited
from app.ports.nlu import Intent
from app.scheduling import booking
from app.scheduling.queries import list_appointments
from app.scheduling.resources import CONFIRMED_NOTE, confirmed_by_patient, participant

log = structlog.get_logger(__name__)

NAME = "appointments"
LOOKAHEAD_DAYS = 180
MAX_LISTED = 10
# What the patient's confirmation of a visit leaves on the Appointment (once).


async def upcoming(turn: Turn) -> list[Resource]:
    """The patient's booked appointments still to come, soonest first."""
    if turn.dialogue.patient_id is None:
        return []
    return await list_appointments(
        turn.bot.fhir,
        start=turn.now,
        end=turn.now + timedelta(days=LOOKAHEAD_DAYS),
        patient_id=turn.dialogue.patient_id,
        statuses=["booked"],
        limit=MAX_LISTED,
    )


async def _lines(turn: Turn, appointments: list[Resource]) -> str:
    index = await turn.bot.directory.get()
    return present.numbered(
        [present.appointment_line(a, index, language=turn.language, tz=turn.bot.tz) for a in appointments]
    )


async def show(turn: Turn) -> None:
    """List the patient's upcoming appointments."""
    turn.dialogue.finish()
    found = await upcoming(turn)
    if not found:
        turn.say("no_appointments")
        return
    turn.say("appointments", options=await _lines(turn, found))


async def start(turn: Turn, action: str, *, appointment_id: str | None = None) -> None:
    """Cancel or reschedule: the appointment named (a reminder's), the only one, or ask which."""
    turn.dialogue.finish()
    found = await upcoming(turn)
    if appointment_id is not None:
        found = [a for a in found if a["id"] == appointment_id]
    if not found:
        turn.say("no_appointments" if appointment_id is None else "not_changeable")
        return
    if len(found) > 1:
        turn.dialogue.ask(NAME, "which", action=action, candidates=[a["id"] for a in found])
        index = await turn.bot.directory.get()
        options = [
            present.appointment_option(a, index, language=turn.language, tz=turn.bot.tz) for a in found
        ]
        turn.offer("which_appointment", options)
        return
    await _proceed(turn, action, found[0])


async def _proceed(turn: Turn, action: str, appointment: Resource) -> None:
    index = await turn.bot.directory.get()
    values = present.appointment_values(appointment, index, language=turn.language, tz=turn.bot.tz)
    if action == "cancel":
        turn.dialogue.ask(NAME, "confirm_cancel", appointment=appointment["id"])
        turn.say("confirm_cancel", who=values["who"], date=values["date"], time=values["time"])
        return
    role = index.by_role(participant(appointment, "PractitionerRole") or "")
    turn.say("moving", who=values["who"], date=values["date"], time=values["time"])
    request = Request(
        intent=Intent.RESCHEDULE_APPOINTMENT,
        specialty=role.specialty if role else None,
        roles=[role] if role else [],
        when=None,
        preference=None,
        symptom=None,
        question=False,
    )
    await book.start(turn, request, moving=str(appointment["id"]))


async def resume(turn: Turn) -> bool:
    """Which appointment, or yes/no to cancelling it."""
    data = turn.dialogue.data
    if turn.dialogue.step == "which":
        candidates = list(data.get("candidates", []))
        index = pick(turn.text, len(candidates))
        if index is None or index < 0:
            return False
        await start(turn, str(data["action"]), appointment_id=candidates[index])
        return True
    answer = yes_no(turn.text)
    if answer is None:
        return False
    appointment_id = str(data["appointment"])
    turn.dialogue.finish()
    if not answer:
        turn.say("not_done")
        return True
    try:
        cancelled = await _cancel(turn, appointment_id)
    except InvalidTransition:
        turn.say("not_changeable")
        return True
    if not await announce(turn, cancelled):
        turn.say("cancelled")
    return True


async def _cancel(turn: Turn, appointment_id: str) -> Resource:
    """Cancel (a retry finds it cancelled already and changes nothing); the cancelled appointment."""
    current = await turn.bot.fhir.read("Appointment", appointment_id)
    if current.get("status") == "cancelled":
        return current
    cancelled = await booking.cancel(
        turn.bot.fhir,
        appointment_id=appointment_id,
        reason="Cancelled by the patient on WhatsApp",
        actors=[BOT],
    )
    log.info("bot.cancelled", appointment=f"Appointment/{appointment_id}")
    return cancelled


async def confirm_visit(turn: Turn, appointment_id: str) -> None:
    """A reminder's Confirm: the Appointment records the patient's confirmation (once, with Provenance)."""
    found = [a for a in await upcoming(turn) if a["id"] == appointment_id]
    if not found:
        turn.say("not_changeable")
        return
    await update_edited(
        turn.bot.fhir,
        found[0],
        _note_confirmed,
        on_conflict=Conflict("The appointment kept changing; retry"),
        actors=[BOT],
        activity="appointment.patient-confirmed",
    )
    index = await turn.bot.directory.get()
    values = present.appointment_values(found[0], index, language=turn.language, tz=turn.bot.tz)
    turn.dialogue.finish()
    turn.say("visit_confirmed", date=values["date"], time=values["time"])
    log.info("bot.visit_confirmed", appointment=f"Appointment/{appointment_id}")


def _note_confirmed(appointment: Resource) -> bool:
    comment = str(appointment.get("comment") or "")
    if confirmed_by_patient(appointment):
        return False
    appointment["comment"] = f"{comment}\n{CONFIRMED_NOTE}".strip()
    return True
