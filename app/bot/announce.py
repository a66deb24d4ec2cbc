"""The bot's answer to a booking, move or cancellation it made: the appointment message itself."""

from __future__ import annotations

from app.bot import present
from app.bot.turn import Turn
from app.fhir.client import Resource, version_of
from app.messaging import notifications


async def announce(turn: Turn, appointment: Resource) -> bool:
    """Prepare the change's message (the change feed's, keyed by the version, so it goes once whichever
    of the two comes first); False when there is none to send (the flow then says a line of its own)."""
    message = await notifications.announce(
        turn.bot.fhir,
        turn.bot.state,
        turn.bot.queue,
        appointment=appointment,
        version=version_of(appointment),
        at=turn.now,
        default_timezone=turn.bot.tz.key,
    )
    return message is not None


async def announce_booking(turn: Turn, appointment: Resource, *, key: str) -> None:
    """Announce a booking or move the bot made; without a message to send, say `key` with its details."""
    if not await announce(turn, appointment):
        index = await turn.bot.directory.get()
        values = present.appointment_values(appointment, index, language=turn.language, tz=turn.bot.tz)
        turn.say(key, **values)
