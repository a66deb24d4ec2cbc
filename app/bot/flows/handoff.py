"""Hand-off to a person: an open ticket focused on the conversation silences the bot on that thread until
staff close the conversation in the inbox (the close completes the ticket: `end_handoffs`). The truth is
in FHIR, so a lost Redis never makes the bot talk over a person."""

from __future__ import annotations

import structlog

from app.bot.replies import yes_no
from app.bot.turn import BOT, Turn
from app.changes.model import Change, ChangeKind
from app.changes.registry import ChangeContext, on
from app.conversations.service import is_conversation
from app.errors import Conflict
from app.fhir.builders import Actor, AgentKind, extension_value
from app.fhir.canonical import CS_TASK_TYPE, EXT_TICKET_CATEGORY, TASK_TYPE_TICKET
from app.fhir.client import FhirClient, Resource
from app.fhir.records import update_edited
from app.tickets import resources as tickets
from app.tickets.service import create_ticket

log = structlog.get_logger(__name__)

NAME = "handoff"
# Tickets that hand a thread to staff: the bot stays silent while one is open.
HANDOFF_CATEGORIES = ("handoff", "inquiry")
OPEN_TICKET_STATUSES = "requested,received,accepted,ready,in-progress,on-hold"
CLOSED_IN_INBOX = "Staff closed the conversation in the inbox; the bot answers the patient again."
DESCRIPTIONS = {
    "handoff": "The patient asked on WhatsApp to talk to a person: reply from the inbox.",
    "inquiry": "A clinic question on WhatsApp the bot could not answer: reply from the inbox.",
}


async def open_tickets(fhir: FhirClient, conversation_id: str, categories: tuple[str, ...]) -> list[Resource]:
    """The open tickets of these categories focused on a conversation."""
    tickets = await fhir.search(
        "Task",
        {
            "focus": f"Task/{conversation_id}",
            "code": f"{CS_TASK_TYPE}|{TASK_TYPE_TICKET}",
            "status": OPEN_TICKET_STATUSES,
        },
    )
    return [t for t in tickets if extension_value(t, EXT_TICKET_CATEGORY) in categories]


async def open_handoffs(fhir: FhirClient, conversation_id: str) -> list[Resource]:
    """The open hand-off tickets of a conversation (the bot is silent while there is one)."""
    return await open_tickets(fhir, conversation_id, HANDOFF_CATEGORIES)


async def start(turn: Turn, *, category: str = "handoff", reply: str = "handoff") -> None:
    """Hand the thread to staff (one open ticket, however often this runs) and tell the patient."""
    turn.dialogue.finish()
    turn.dialogue.failures = 0
    if not await open_handoffs(turn.bot.fhir, turn.conversation_id):
        ticket = await create_ticket(
            turn.bot.fhir,
            patient_id=turn.dialogue.patient_id,
            category=category,
            description=DESCRIPTIONS[category],
            now=turn.now,
            owner=None,
            actors=[BOT],
            priority="urgent",
            focus=f"Task/{turn.conversation_id}",
            sla=turn.bot.ticket_sla,
        )
        log.info("bot.handoff", ticket=f"Task/{ticket['id']}", conversation=f"Task/{turn.conversation_id}")
    turn.say(reply)


async def resume(turn: Turn) -> bool:
    """The answer to 'would you like to talk to a person?'."""
    answer = yes_no(turn.text)
    if answer is None:
        return False
    if answer:
        await start(turn)
    else:
        turn.dialogue.finish()
        turn.say("anything_else")
    return True


@on("Task")
async def end_handoffs(change: Change, *, context: ChangeContext) -> None:
    """Staff closed a conversation: its open hand-off tickets are completed, and the bot speaks again."""
    task = change.resource
    if change.kind is ChangeKind.DELETED or task is None or not is_conversation(task):
        return
    if task.get("status") != "completed":
        return
    for ticket in await open_handoffs(context.fhir, change.id):
        await update_edited(
            context.fhir,
            ticket,
            _complete,
            on_conflict=Conflict("The hand-off ticket kept changing; the change feed retries"),
            actors=[Actor(kind=AgentKind.SYSTEM)],
            activity="ticket.complete",
        )
        log.info("bot.handoff_ended", ticket=f"Task/{ticket['id']}", conversation=f"Task/{change.id}")


def _complete(ticket: Resource) -> bool:
    if tickets.status_of(ticket) not in tickets.OPEN_STATUSES:
        return False
    # Resolved (not closed): the ticket's own workflow, so staff can still reopen or close it.
    tickets.set_status(ticket, tickets.TicketStatus.RESOLVED, resolution=CLOSED_IN_INBOX)
    return True
