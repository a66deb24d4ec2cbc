"""The bot's job: answer one stored inbound WhatsApp message (ids in; idempotent; one turn per address at
a time). Order: compute -> write (idempotent) -> replies (keyed by the inbound id and their position, so
a retried turn never replies twice) -> save the dialogue -> mark the message done."""

from __future__ import annotations

from datetime import datetime

import structlog

from app.bot import dialogue as dialogues
from app.bot import engine, strings
from app.bot.flows.handoff import open_handoffs
from app.bot.turn import BOT, Bot, Turn
from app.conversations import service as conversations
from app.errors import DomainError, OptedOut
from app.fhir.errors import FhirNotFound
from app.locking import exclusive
from app.messaging import resources as res
from app.messaging.resources import Direction
from app.messaging.service import prepare_message
from app.vocabulary import ContactChannel

log = structlog.get_logger(__name__)

# A message answered is remembered this long (a replay after that finds its replies by key anyway).
DONE_TTL_SECONDS = 7 * 24 * 3600


def done_key(communication_id: str) -> str:
    """The StateStore mark of an inbound message the bot has answered."""
    return f"bot:done:{communication_id}"


def answer_job_id(communication_id: str) -> str:
    """The job id of the bot's turn on a message: queued once, however often the message arrives."""
    return f"bot-{communication_id}"


async def answer_message(bot: Bot, *, now: datetime, communication: str, button: str | None = None) -> str:
    """Answer one inbound WhatsApp message; what happened ("answered", "duplicate", "silent", "skipped")."""
    ref = f"Communication/{communication}"
    if await bot.state.get(done_key(communication)):
        return "duplicate"
    try:
        stored = await bot.fhir.read("Communication", communication)
    except FhirNotFound:
        log.warning("bot.message_missing", communication=ref)
        return "skipped"
    message = res.message_of(stored)
    if (
        message.direction is not Direction.INBOUND
        or message.channel != ContactChannel.WHATSAPP
        or message.thread_id is None
    ):
        return "skipped"
    conversation = await conversations.get(bot.fhir, message.thread_id)
    if conversation.channel is None or conversation.address is None:
        return "skipped"
    channel, address = conversation.channel, conversation.address
    async with exclusive(bot.state, "bot", f"{channel}:{address}"):
        if await bot.state.get(done_key(communication)):
            return "duplicate"
        if await open_handoffs(bot.fhir, conversation.id):
            # A person has the thread: the bot stays out of it until staff close the conversation.
            await bot.state.set(done_key(communication), "silent", ttl_seconds=DONE_TTL_SECONDS)
            log.info("bot.silent", communication=ref, conversation=f"Task/{conversation.id}")
            return "silent"
        turn = Turn(
            bot=bot,
            now=now.astimezone(bot.tz),
            message_id=communication,
            text=engine.clean(message.text),
            button=button,
            channel=channel,
            address=address,
            conversation_id=conversation.id,
            dialogue=await dialogues.load(bot.state, channel, address),
        )
        try:
            await engine.answer(turn)
        except DomainError as exc:
            # A refusal the flow did not expect: say so politely and start afresh (nothing half-done
            # stays: every write is one transaction or idempotent).
            log.warning("bot.turn_refused", communication=ref, error=exc.code)
            turn.dialogue.finish()
            turn.replies.append(strings.text("failed", turn.language))
        await _reply(bot, turn, now=now)
        turn.dialogue.fresh = False
        await dialogues.save(
            bot.state, turn.channel, turn.address, turn.dialogue, ttl_seconds=bot.dialogue_ttl_seconds
        )
        await bot.state.set(done_key(communication), "answered", ttl_seconds=DONE_TTL_SECONDS)
    log.info(
        "bot.answered",
        communication=ref,
        conversation=f"Task/{conversation.id}",
        flow=turn.dialogue.flow,
        step=turn.dialogue.step,
        replies=len(turn.replies),
    )
    return "answered"


async def _reply(bot: Bot, turn: Turn, *, now: datetime) -> None:
    """Each reply as an outbound Communication on the thread, created once per (inbound message, position)."""
    for n, text in enumerate(turn.replies):
        try:
            await prepare_message(
                bot.fhir,
                bot.state,
                bot.queue,
                channel=turn.channel,
                text=text,
                sender=BOT,
                at=now,
                conversation_id=turn.conversation_id,
                key=f"bot/{turn.message_id}/{n}",
            )
        except OptedOut:
            log.info("bot.reply_opted_out", communication=f"Communication/{turn.message_id}")
            return
