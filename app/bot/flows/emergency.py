"""A red-flag symptom never gets a booking flow: the clinic's emergency number at once, and a `stat`
emergency ticket for staff (one open per conversation)."""

from __future__ import annotations

import structlog

from app.bot.flows.handoff import open_tickets
from app.bot.triage import Triage
from app.bot.turn import BOT, Turn
from app.fhir.client import FhirClient
from app.tickets.service import create_ticket

log = structlog.get_logger(__name__)

# India's emergency number, when the clinic has none in FHIR.
NATIONAL_EMERGENCY_NUMBER = "112"


async def emergency_phone(fhir: FhirClient) -> str:
    """The emergency line of the clinic (Organization.contact whose purpose is Emergency), else its phone."""
    organizations = await fhir.search(
        "Organization", {"_has:Location:organization:status": "active", "active": "true", "_sort": "_id"}
    )
    fallback = None
    for organization in organizations:
        for contact in organization.get("contact", []):
            if (contact.get("purpose") or {}).get("text", "").lower() == "emergency":
                phones = [t["value"] for t in contact.get("telecom", []) if t.get("value")]
                if phones:
                    return str(phones[0])
        fallback = fallback or next(
            (
                t["value"]
                for t in organization.get("telecom", [])
                if t.get("system") == "phone" and t.get("value")
            ),
            None,
        )
    return str(fallback or NATIONAL_EMERGENCY_NUMBER)


async def start(turn: Turn, symptom: Triage) -> None:
    """Tell the patient where to get help now, and alert staff."""
    turn.dialogue.finish()
    turn.say("emergency", phone=await emergency_phone(turn.bot.fhir))
    if await open_tickets(turn.bot.fhir, turn.conversation_id, ("emergency",)):
        return
    ticket = await create_ticket(
        turn.bot.fhir,
        patient_id=turn.dialogue.patient_id,
        category="emergency",
        description=f"Red-flag symptom on WhatsApp ({symptom.symptom}, triage {symptom.mapping_version}): "
        "call the patient now.",
        now=turn.now,
        owner=None,
        actors=[BOT],
        priority="stat",
        focus=f"Task/{turn.conversation_id}",
        sla=turn.bot.ticket_sla,
    )
    log.info("bot.emergency", ticket=f"Task/{ticket['id']}", conversation=f"Task/{turn.conversation_id}")
