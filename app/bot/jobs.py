"""The bot's jobs: answer one stored inbound WhatsApp message (ids in; idempotent; one turn per address at
a time), and start an intake questionnaire a journey sent. Order: compute -> write (idempotent) -> replies
(keyed by the inbound id, or the journey action's key, and their position, so a retried turn never
replies twice) -> save the dialogue -> mark the message done."""

from __future__ import annotations

from datetime import datetime

import structlog

from app.bot import dialogue as dialogues
from app.bot import engine, strings
from app.bot.flows import intake, register
from app.bot.flows.handoff import open_handoffs
from app.bot.turn import BOT, Bot, Turn
from app.conversations import service as conversations
from app.conversations.resources import conversation_of
from app.errors import DomainError, Invalid, NotFound, OptedOut
from app.fhir.canonical import questionnaire_url
from app.fhir.client import Resource
from app.fhir.dates import parse_datetime
from app.fhir.errors import FhirNotFound
from app.intake import service as questionnaires
from app.locking import exclusive
from app.messaging import catalog
from app.messaging import resources as res
from app.messaging.inbound import clinic_contact
from app.messaging.resources import Direction, TemplateUse
from app.messaging.rules import session_open
from app.messaging.service import address_of, prepare_message
from app.patients.resources import preferred_language
from app.vocabulary import ContactChannel

log = structlog.get_logger(__name__)

INTAKE_INVITATION = "intake_invitation"
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


async def start_intake(
    bot: Bot, *, now: datetime, patient: str, questionnaire: str, key: str, since: str | None = None
) -> str:
    """Ask a patient a questionnaire on WhatsApp (a journey's action, `key`): inside the session window the
    first question, outside it the approved invitation, whose "yes" starts the questions. What happened
    ("started", "invited", "duplicate", "answered", "unreachable", "silent"); a retry or replay asks once."""
    mark = f"bot:intake:{key}"
    if await bot.state.get(mark):
        return "duplicate"
    try:
        stored = await bot.fhir.read("Patient", patient)
    except FhirNotFound:
        return "unreachable"
    address = address_of(stored, ContactChannel.WHATSAPP)
    if address is None:
        log.info("bot.intake.unreachable", patient=f"Patient/{patient}")
        return "unreachable"
    try:
        form = await questionnaires.questionnaire(bot.fhir, questionnaire)
    except NotFound:
        log.warning("bot.intake.questionnaire_missing", questionnaire=f"Questionnaire/{questionnaire}")
        return "unreachable"
    if await _answered(bot, patient=patient, url=questionnaire_url(form.id), since=since):
        await bot.state.set(mark, "answered", ttl_seconds=DONE_TTL_SECONDS)
        return "answered"
    task = await conversations.ensure_conversation(
        bot.fhir, bot.state, channel=ContactChannel.WHATSAPP, address=address, patient_id=patient, at=now
    )
    conversation = conversation_of(task)
    async with exclusive(bot.state, "bot", f"{ContactChannel.WHATSAPP}:{address}"):
        if await bot.state.get(mark):
            return "duplicate"
        if await open_handoffs(bot.fhir, conversation.id):
            # A person has the thread: the bot does not talk over staff.
            await bot.state.set(mark, "silent", ttl_seconds=DONE_TTL_SECONDS)
            return "silent"
        dialogue = await dialogues.load(bot.state, ContactChannel.WHATSAPP, address)
        dialogue.patient_id = patient
        language = preferred_language(stored)
        dialogue.language = language if language in strings.LANGUAGES else dialogue.language
        turn = Turn(
            bot=bot,
            now=now.astimezone(bot.tz),
            message_id=key,
            text="",
            button=None,
            channel=ContactChannel.WHATSAPP,
            address=address,
            conversation_id=conversation.id,
            dialogue=dialogue,
        )
        if await session_open(bot.fhir, conversation_id=conversation.id, now=now, hours=bot.window_hours):
            await intake.start(turn, form.id)
            await _reply(bot, turn, now=now)
            outcome = "started"
        elif await _invite(bot, turn, patient=stored, count=len(form.items), now=now):
            turn.dialogue.finish()
            turn.dialogue.ask(intake.NAME, "offer", questionnaire=form.id, version=form.version)
            outcome = "invited"
        else:
            outcome = "unreachable"
        turn.dialogue.fresh = False
        await dialogues.save(
            bot.state, turn.channel, turn.address, turn.dialogue, ttl_seconds=bot.dialogue_ttl_seconds
        )
        await bot.state.set(mark, outcome, ttl_seconds=DONE_TTL_SECONDS)
    log.info(
        "bot.intake.started",
        patient=f"Patient/{patient}",
        conversation=f"Task/{conversation.id}",
        outcome=outcome,
    )
    return outcome


async def _answered(bot: Bot, *, patient: str, url: str, since: str | None) -> bool:
    """Whether the patient answered the questionnaire since `since` (e.g. offered after a WhatsApp booking)."""
    params = [("subject", f"Patient/{patient}"), ("status", "completed")]
    if parse_datetime(since) is not None:
        params.append(("authored", f"ge{since}"))
    found = await bot.fhir.search("QuestionnaireResponse", params)
    return any(str(r.get("questionnaire", "")).split("|", 1)[0] == url for r in found)


async def _invite(bot: Bot, turn: Turn, *, patient: Resource, count: int, now: datetime) -> bool:
    """The approved invitation template (the only kind of message WhatsApp lets the clinic start with);
    False when none can go (no clinic name in FHIR, a patient without a name, opted out)."""
    clinic = await clinic_contact(bot.fhir)
    variables = {
        "patient_name": register.first_name(patient),
        "clinic_name": clinic[0] if clinic else "",
        "question_count": str(count),
    }
    try:
        rendered = catalog.render(INTAKE_INVITATION, language=turn.language, variables=variables)
    except Invalid as exc:
        log.warning("bot.intake.uninvited", conversation=f"Task/{turn.conversation_id}", error=exc.error)
        return False
    try:
        await prepare_message(
            bot.fhir,
            bot.state,
            bot.queue,
            channel=turn.channel,
            text=rendered.body,
            sender=BOT,
            at=now,
            conversation_id=turn.conversation_id,
            template=TemplateUse(INTAKE_INVITATION, language=rendered.language, variables=variables),
            key=f"bot/{turn.message_id}/invitation",
        )
    except OptedOut:
        log.info("bot.intake.opted_out", conversation=f"Task/{turn.conversation_id}")
        return False
    return True


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
                choices=turn.lists.get(n),
            )
        except OptedOut:
            log.info("bot.reply_opted_out", communication=f"Communication/{turn.message_id}")
            return
