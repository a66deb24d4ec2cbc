"""What each intent needs resolved, the actions it previews and the form it pre-fills: one module per
capability, one registry (HANDLERS) here."""

from __future__ import annotations

from app.assistant.intents import appointments, crm, journeys, messages, patients, reads, segments, tickets
from app.assistant.intents.common import Context, Handler
from app.ports.nlu import Intent
from app.understanding.draft import Draft

__all__ = ["HANDLERS", "READ_ONLY", "UNSUPPORTED_HELP", "Context", "Handler"]

# Intents that only read: their answer is in the plan's results and nothing needs confirming.
READ_ONLY = (
    Intent.FIND_PATIENT,
    Intent.LIST_APPOINTMENTS,
    Intent.CHECK_AVAILABILITY,
    Intent.PATIENT_SUMMARY,
    Intent.LIST_TICKETS,
    Intent.LIST_JOURNEYS,
    Intent.MESSAGE_HISTORY,
    Intent.ASK_ANALYTICS,
    Intent.PREVIEW_SEGMENT,
    Intent.UNSUPPORTED,
)
UNSUPPORTED_HELP = (
    "I can book, reschedule or cancel appointments and list them for any dates; register patients, update "
    "their details, show a patient's summary and add them to the waitlist; open, update, assign, comment on, "
    "resolve, close and list tickets; add leads, move them or mark them lost; start, list and advance care "
    "journeys; send WhatsApp, SMS or email messages (free text or a template) and show message history; "
    "check availability; preview how many patients a saved segment selects; and answer questions such as how "
    "many no-shows there were last week."
)


async def unsupported(draft: Draft, ctx: Context) -> None:
    """Not a PRM instruction: say what the assistant can do."""
    del ctx
    draft.clarifications.append(UNSUPPORTED_HELP)


HANDLERS: dict[Intent, Handler] = {
    **appointments.HANDLERS,
    **patients.HANDLERS,
    **crm.HANDLERS,
    **messages.HANDLERS,
    **tickets.HANDLERS,
    **journeys.HANDLERS,
    **reads.HANDLERS,
    **segments.HANDLERS,
    Intent.UNSUPPORTED: unsupported,
}
