"""Nothing fits: the patient may join the waitlist (an Appointment with status `waitlist`, which the outreach
offers freed slots from); and the "yes" to such an offer."""

from __future__ import annotations

from datetime import timedelta

import structlog

from app.bot.announce import announce_booking
from app.bot.replies import yes_no
from app.bot.turn import BOT, Turn
from app.directory.index import RoleEntry
from app.fhir.canonical import CS_SPECIALTY
from app.fhir.client import Resource
from app.fhir.records import create_with_provenance
from app.outreach import offers
from app.outreach.resources import waitlist_resource

log = structlog.get_logger(__name__)


async def on_answer(turn: Turn, *, roles: list[RoleEntry]) -> bool:
    """Yes: one waitlist entry for the patient and these doctors (not again on a retry); no: nothing."""
    answer = yes_no(turn.text)
    if answer is None:
        return False
    who = str(turn.dialogue.data.get("who", ""))
    turn.dialogue.finish()
    if not answer or turn.dialogue.patient_id is None or not roles:
        turn.say("not_done")
        return True
    patient_id = turn.dialogue.patient_id
    waiting = await turn.bot.fhir.search(
        "Appointment", {"patient": f"Patient/{patient_id}", "status": "waitlist"}
    )
    wanted = {r.specialty for r in roles}
    if not any(_specialties(a) & wanted for a in waiting):
        entry = waitlist_resource(
            patient_id=patient_id,
            roles=roles,
            start=turn.now,
            end=turn.now + timedelta(days=turn.bot.search_days * 4),
            created=turn.now,
        )
        stored = await create_with_provenance(
            turn.bot.fhir, entry, actors=[BOT], activity="appointment.waitlist"
        )
        log.info("bot.waitlisted", appointment=f"Appointment/{stored['id']}")
    turn.say("waitlisted", who=who)
    return True


def _specialties(appointment: Resource) -> set[str | None]:
    """The PRM specialty codes of an appointment."""
    return {
        c.get("code")
        for concept in appointment.get("specialty", [])
        for c in concept.get("coding", [])
        if c.get("system") == CS_SPECIALTY
    }


async def offer_reply(turn: Turn) -> bool:
    """ "Yes" to a waitlist offer made on this thread while its hold lasts: book it, or say it has gone."""
    patient_id = turn.dialogue.patient_id
    if patient_id is None or yes_no(turn.text) is not True:
        return False
    since = turn.now - timedelta(minutes=offers.HOLD_MINUTES)
    offer = await offers.latest_offer(turn.bot.fhir, conversation_id=turn.conversation_id, since=since)
    if offer is None:
        return False
    slot_id, entry_id = offer
    accepted = await offers.accept(
        turn.bot.fhir,
        turn.bot.directory,
        turn.bot.state,
        slot_id=slot_id,
        entry_id=entry_id,
        patient_id=patient_id,
        actor=BOT,
        now=turn.now,
    )
    turn.dialogue.finish()
    if accepted.appointment is None:
        turn.say("slot_taken")
    else:
        await announce_booking(turn, accepted.appointment, key="booked")
    return True
