"""One turn of the WhatsApp bot: a red flag first, then the flow waiting for an answer, else a new request
(menu, hand-off, reminder reply, my appointments, cancel, reschedule, book, clinic question). Never silent:
what it cannot read gets a reprompt, and the third failed turn in a row offers a person.

A flow is a module with a NAME, `async def resume(turn) -> bool` (its answer to the step it asked; False
when the text does not answer it) and start functions this module calls. FLOWS maps NAME -> resume.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog

from app.bot import faq, strings
from app.bot.flows import appointments, book, emergency, handoff, intake, register, waitlist
from app.bot.language import detect_language
from app.bot.replies import Menu, menu_choice, pick, wants_human, wants_menu, yes_no
from app.bot.triage import triage
from app.bot.turn import Turn
from app.bot.understand import Request, understand
from app.fhir.client import Resource
from app.fhir.dates import parse_datetime
from app.fhir.errors import FhirNotFound
from app.messaging import catalog
from app.messaging import resources as res
from app.messaging.resources import Direction
from app.patients.resources import preferred_language
from app.patients.service import find_by_phone
from app.ports.nlu import Intent

log = structlog.get_logger(__name__)

MENU = "menu"
QUESTION = "question"
# The third turn in a row the bot cannot read offers a person.
MAX_FAILURES = 3
# Longer messages are not read (a polite reprompt): nobody books in an essay, and extraction stays cheap.
MAX_TEXT_CHARS = 1000
# A reminder is answered by "confirm" / "cancel" / "reschedule" (typed or tapped) for this long.
REMINDER_REPLY_HOURS = 48
# A question needs a few words: a bare "what?" is confusion, not a clinic question.
MIN_QUESTION_WORDS = 3
_LETTERS = re.compile(r"[^\W_]", re.UNICODE)
_COMMANDS: tuple[tuple[Menu, re.Pattern[str]], ...] = (
    (Menu.CANCEL, re.compile(r"\b(cancel|radd)\b|रद्द|ರದ್ದು")),
    (Menu.RESCHEDULE, re.compile(r"\b(reschedule|postpone|prepone|change|move|shift)\b|समय बदल|ಸಮಯ ಬದಲ")),
    (
        Menu.APPOINTMENTS,
        re.compile(r"\b(my|mere|meri|show|list)\b.*\bappointments\b|मेरे अपॉइंटमेंट|ನನ್ನ ಅಪಾಯಿಂಟ್ಮೆಂಟ್"),
    ),
    (Menu.BOOK, re.compile(r"\b(book|booking|appointment|consult|chahiye)\b|बुक|ಬುಕ್")),
)
# A bare answer (yes, 2, first) is at most this many words.
BARE_ANSWER_WORDS = 3

Resume = Callable[[Turn], Awaitable[bool]]


# A menu number said as a request (kept as the request to continue with once the patient is known).
MENU_REQUESTS = {
    Menu.BOOK: "book an appointment",
    Menu.APPOINTMENTS: "show my appointments",
    Menu.RESCHEDULE: "reschedule my appointment",
    Menu.CANCEL: "cancel my appointment",
}


async def _resume_menu(turn: Turn) -> bool:
    choice = menu_choice(turn.text)
    if choice is None:
        return False
    turn.text = MENU_REQUESTS.get(choice, turn.text)
    await act(turn, choice, None)
    return True


async def _resume_question(turn: Turn) -> bool:
    turn.dialogue.finish()
    await answer_question(turn)
    return True


FLOWS: dict[str, Resume] = {
    MENU: _resume_menu,
    QUESTION: _resume_question,
    book.NAME: book.resume,
    register.NAME: register.resume,
    appointments.NAME: appointments.resume,
    handoff.NAME: handoff.resume,
    intake.NAME: intake.resume,
}


def clean(text: str | None) -> str:
    """The text with control characters dropped and whitespace collapsed."""
    printable = "".join(c if c.isprintable() else " " for c in (text or ""))
    return " ".join(printable.split())


def choose_language(turn: Turn, patient: Resource | None) -> str:
    """The patient's preferred language, else the language of this message, else the dialogue's."""
    preferred = preferred_language(patient) if patient else None
    if preferred in strings.LANGUAGES:
        return str(preferred)
    language = (detect_language(turn.text) if turn.text else None) or turn.dialogue.language
    return language if language in strings.LANGUAGES else strings.DEFAULT_LANGUAGE


async def answer(turn: Turn) -> None:
    """Run one turn: the replies end up in `turn.replies`, the dialogue in `turn.dialogue`."""
    dialogue = turn.dialogue
    fresh = dialogue.fresh
    # A tapped row is its number before anything reads the text (its title says nothing of the language).
    turn.take_tap()
    patient = await _patient(turn)
    dialogue.language = choose_language(turn, patient)
    if fresh and patient is not None:
        turn.say("greet", name=register.first_name(patient))
    if not turn.text:
        turn.say("unsupported")
        return
    if len(turn.text) > MAX_TEXT_CHARS or not _LETTERS.search(turn.text):
        _failed(turn)
        return
    symptom = triage(turn.text)
    if symptom is not None and symptom.red_flag:
        await emergency.start(turn, symptom)
        return
    if turn.button and await _reminder_reply(turn):
        # A tapped reminder button means that reminder, whatever the dialogue was doing.
        return
    if dialogue.flow in FLOWS and not wants_human(turn.text) and not wants_menu(turn.text):
        said = len(turn.replies)
        if await FLOWS[dialogue.flow](turn):
            dialogue.failures = 0
            await _continue(turn)
            return
        if len(turn.replies) > said:
            _failed(turn, replied=True)
            return
    if await route(turn):
        dialogue.failures = 0
        await _continue(turn)
        return
    if fresh:
        if _bare_answer(turn.text):
            # An answer to a question asked in a dialogue that has expired: start again, politely.
            turn.say("restart")
        show_menu(turn)
        return
    _failed(turn)


async def _patient(turn: Turn) -> Resource | None:
    """The patient writing, when the number is one patient's (or they said which)."""
    if turn.dialogue.patient_id is None:
        found = await find_by_phone(turn.bot.fhir, phone=turn.address, region=turn.bot.region)
        if len(found) != 1:
            return None
        turn.dialogue.patient_id = str(found[0]["id"])
    try:
        return await turn.bot.fhir.read("Patient", turn.dialogue.patient_id)
    except FhirNotFound:
        # Merged away or deleted since the dialogue began: find out again who is writing.
        turn.dialogue.patient_id = None
        return None


async def _continue(turn: Turn) -> None:
    """A flow that identified the patient ended: go on with the request they started with."""
    dialogue = turn.dialogue
    if dialogue.flow is None and dialogue.pending and dialogue.patient_id:
        turn.text, dialogue.pending = dialogue.pending, None
        await route(turn)


def _bare_answer(text: str) -> bool:
    """'yes', 'no', '2', 'the first one': an answer to a question, not a request."""
    if len(text.split()) > BARE_ANSWER_WORDS:
        return False
    return yes_no(text) is not None or pick(text, len(Menu)) is not None


def _failed(turn: Turn, *, replied: bool = False) -> None:
    """A turn the bot could not read: a reprompt (unless the flow said what it needs), a person the third time."""
    dialogue = turn.dialogue
    dialogue.failures += 1
    if dialogue.failures >= MAX_FAILURES:
        dialogue.failures = 0
        dialogue.finish()
        dialogue.ask(handoff.NAME, "offer")
        turn.say("offer_human")
    elif not replied:
        turn.say("reprompt")


def show_menu(turn: Turn) -> None:
    """The numbered menu, waiting for a choice."""
    turn.dialogue.finish()
    turn.dialogue.ask(MENU, "choice")
    turn.say("menu")


def _command(text: str) -> Menu | None:
    lowered = text.lower()
    return next((menu for menu, pattern in _COMMANDS if pattern.search(lowered)), None)


async def route(turn: Turn) -> bool:
    """A new request; False when the text asks for nothing the bot can do."""
    text = turn.text
    if wants_human(text):
        await handoff.start(turn)
        return True
    if wants_menu(text):
        show_menu(turn)
        return True
    if await _reminder_reply(turn) or await waitlist.offer_reply(turn):
        return True
    command = _command(text)
    request = await understand(turn, text)
    if command in (Menu.APPOINTMENTS, Menu.RESCHEDULE, Menu.CANCEL):
        await act(turn, command, request)
        return True
    if request.intent in _INTENT_MENU:
        await act(turn, _INTENT_MENU[request.intent], request)
        return True
    if request.wants_booking or command is Menu.BOOK:
        await act(turn, Menu.BOOK, request)
        return True
    if (request.question and len(text.split()) >= MIN_QUESTION_WORDS) or faq.answer(
        text, language=turn.language
    ):
        await answer_question(turn)
        return True
    return False


_INTENT_MENU = {
    Intent.LIST_APPOINTMENTS: Menu.APPOINTMENTS,
    Intent.CANCEL_APPOINTMENT: Menu.CANCEL,
    Intent.RESCHEDULE_APPOINTMENT: Menu.RESCHEDULE,
}


async def act(turn: Turn, choice: Menu, request: Request | None) -> None:
    """Do what the menu entry (or the request) asks; the patient is identified first where it matters."""
    if choice is Menu.HUMAN:
        await handoff.start(turn)
        return
    if choice is Menu.QUESTION:
        turn.dialogue.finish()
        turn.dialogue.ask(QUESTION, "ask")
        turn.say("ask_question")
        return
    if not await register.identify(turn):
        return
    if choice is Menu.APPOINTMENTS:
        await appointments.show(turn)
    elif choice in (Menu.CANCEL, Menu.RESCHEDULE):
        await appointments.start(turn, choice.value)
    else:
        await book.start(turn, request or await understand(turn, ""))


async def answer_question(turn: Turn) -> None:
    """A clinic question: the FAQ's answer, or a person when the FAQ has no confident one."""
    found = faq.answer(turn.text, language=turn.language)
    if found is None:
        log.info("bot.faq_unanswered", communication=f"Communication/{turn.message_id}")
        await handoff.start(turn, category="inquiry", reply="question_handoff")
        return
    log.info("bot.faq_answered", faq=found.faq_id, communication=f"Communication/{turn.message_id}")
    turn.dialogue.finish()
    turn.say_text(found.text)
    turn.say("anything_else")


async def _reminder_reply(turn: Turn) -> bool:
    """Confirm / Reschedule / Cancel, tapped or typed, answering a recent reminder on this thread."""
    action = turn.button or _quick_reply_id(turn.text)
    if action not in ("confirm", "reschedule", "cancel"):
        return False
    appointment_id = await _reminded_appointment(turn)
    if appointment_id is None or not await register.identify(turn):
        return False
    if action == "confirm":
        await appointments.confirm_visit(turn, appointment_id)
    else:
        await appointments.start(turn, action, appointment_id=appointment_id)
    return True


def _quick_reply_id(text: str) -> str | None:
    """The id of the reminder quick reply whose title (in any language) the text is."""
    lowered = text.strip().lower()
    for template in catalog.templates():
        for reply in template.quick_replies:
            titles = (reply.title.en, reply.title.hi, reply.title.kn)
            if lowered in {t.lower() for t in titles} or lowered == reply.id:
                return reply.id
    return None


async def _reminded_appointment(turn: Turn) -> str | None:
    """The Appointment of the latest reminder sent on this thread in the last REMINDER_REPLY_HOURS."""
    messages = await turn.bot.fhir.search(
        "Communication",
        {"conversation-thread": turn.conversation_id, "_sort": "-_lastUpdated", "_count": "20"},
        limit=20,
    )
    since = turn.now - timedelta(hours=REMINDER_REPLY_HOURS)
    for message in messages:
        read = res.message_of(message)
        reminder = read.template is not None and read.template.name.startswith("appointment_reminder")
        # Sent, or still waiting for the end of quiet hours (prepared: its last update).
        at = read.sent_at or parse_datetime((message.get("meta") or {}).get("lastUpdated"))
        if read.direction is Direction.OUTBOUND and reminder and at is not None and at >= since:
            about = [a.get("reference", "") for a in message.get("about", [])]
            return next((a.removeprefix("Appointment/") for a in about if a.startswith("Appointment/")), None)
    return None
