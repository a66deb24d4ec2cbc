"""Pre-visit questions in chat: offered after a booking when the department has a questionnaire, then
asked one by one ("skip" leaves an optional one out, "back" returns to the previous one); where the
patient is lives in the dialogue, so a later message resumes. The answers go through the intake use case
like the dashboard's. docs/intake.md."""

from __future__ import annotations

import re
from typing import Any

import structlog

from app.bot.replies import words, yes_no
from app.bot.turn import BOT, Turn
from app.errors import Invalid, NotFound
from app.fhir.builders import code_in
from app.fhir.canonical import CS_SPECIALTY
from app.intake import service as intake
from app.intake.questionnaires import CONSENT_ITEM, Item, Questionnaire

log = structlog.get_logger(__name__)

NAME = "intake"
SKIP = {"skip", "chhodo", "chodo", "छोड़ें", "छोड़ो", "ಬಿಡಿ", "ಬಿಟ್ಟುಬಿಡಿ", "ಸ್ಕಿಪ್"}
BACK = {"back", "peeche", "piche", "पीछे", "ಹಿಂದೆ"}
_SEPARATORS = re.compile(r"[,;\n]+")
_NUMBER = re.compile(r"-?\d+")

TEXTS: dict[str, dict[str, str]] = {
    "offer": {
        "en": "Would you answer {count} short questions for the doctor before your visit? Reply yes or no.",
        "hi": "क्या आप डॉक्टर के लिए जाँच से पहले {count} छोटे सवालों के जवाब देंगे? हाँ या नहीं लिखें।",
        "kn": "ಭೇಟಿಗೆ ಮೊದಲು ವೈದ್ಯರಿಗಾಗಿ {count} ಚಿಕ್ಕ ಪ್ರಶ್ನೆಗಳಿಗೆ ಉತ್ತರಿಸುತ್ತೀರಾ? ಹೌದು ಅಥವಾ ಇಲ್ಲ ಎಂದು ಬರೆಯಿರಿ.",
    },
    "hint": {
        "en": '(Reply "skip" to leave it out, "back" for the previous question.)',
        "hi": '("skip" लिखकर छोड़ें, पिछले सवाल के लिए "back" लिखें।)',
        "kn": '(ಬಿಡಲು "skip", ಹಿಂದಿನ ಪ್ರಶ್ನೆಗೆ "back" ಎಂದು ಬರೆಯಿರಿ.)',
    },
    "yes_no": {"en": "Reply yes or no.", "hi": "हाँ या नहीं लिखें।", "kn": "ಹೌದು ಅಥವಾ ಇಲ್ಲ ಎಂದು ಬರೆಯಿರಿ."},
    "several": {
        "en": "You can name several, separated by commas.",
        "hi": "आप कई नाम अल्पविराम (,) से अलग करके लिख सकते हैं।",
        "kn": "ಹಲವನ್ನು ಅಲ್ಪವಿರಾಮದಿಂದ (,) ಬೇರ್ಪಡಿಸಿ ಬರೆಯಬಹುದು.",
    },
    "required": {
        "en": "This question needs an answer.",
        "hi": "इस सवाल का जवाब ज़रूरी है।",
        "kn": "ಈ ಪ್ರಶ್ನೆಗೆ ಉತ್ತರ ಅಗತ್ಯ.",
    },
    "again": {
        "en": "Sorry, I could not use that answer. Please try again.",
        "hi": "माफ़ कीजिए, यह जवाब समझ नहीं आया। कृपया फिर से लिखें।",
        "kn": "ಕ್ಷಮಿಸಿ, ಈ ಉತ್ತರ ಅರ್ಥವಾಗಲಿಲ್ಲ. ದಯವಿಟ್ಟು ಮತ್ತೆ ಬರೆಯಿರಿ.",
    },
    "done": {
        "en": "Thank you, your answers are saved for the doctor.",
        "hi": "धन्यवाद, आपके जवाब डॉक्टर के लिए सहेज लिए गए हैं।",
        "kn": "ಧನ್ಯವಾದಗಳು, ನಿಮ್ಮ ಉತ್ತರಗಳನ್ನು ವೈದ್ಯರಿಗಾಗಿ ಉಳಿಸಲಾಗಿದೆ.",
    },
    "later": {
        "en": "Okay. The clinic may ask these questions at your visit.",
        "hi": "ठीक है। क्लिनिक ये सवाल आपकी जाँच के समय पूछ सकता है।",
        "kn": "ಸರಿ. ಕ್ಲಿನಿಕ್ ಈ ಪ್ರಶ್ನೆಗಳನ್ನು ನಿಮ್ಮ ಭೇಟಿಯ ಸಮಯದಲ್ಲಿ ಕೇಳಬಹುದು.",
    },
    "not_saved": {
        "en": "Okay, your answers were not saved.",
        "hi": "ठीक है, आपके जवाब सहेजे नहीं गए।",
        "kn": "ಸರಿ, ನಿಮ್ಮ ಉತ್ತರಗಳನ್ನು ಉಳಿಸಲಾಗಿಲ್ಲ.",
    },
}


def _say(turn: Turn, key: str, **values: Any) -> None:
    variants = TEXTS[key]
    turn.say_text(variants.get(turn.language, variants["en"]).format(**values))


async def offer(turn: Turn) -> None:
    """After a booking: offer the questionnaire of the next appointment's department, if it has one."""
    patient_id = turn.dialogue.patient_id
    if patient_id is None:
        return
    fhir = turn.bot.fhir
    appointment = await intake.next_appointment(fhir, patient_ref=f"Patient/{patient_id}", now=turn.now)
    specialty = next(
        (c for s in (appointment or {}).get("specialty", []) if (c := code_in(s, CS_SPECIALTY))), None
    )
    form = await intake.for_specialty(fhir, specialty) if specialty else None
    if form is None:
        return
    turn.dialogue.ask(NAME, "offer", questionnaire=form.id, version=form.version)
    _say(turn, "offer", count=len(form.items))


async def start(turn: Turn, questionnaire_id: str) -> None:
    """Ask the first question of a questionnaire now (a journey stage or staff sent it)."""
    form = await intake.questionnaire(turn.bot.fhir, questionnaire_id)
    turn.dialogue.finish()
    turn.dialogue.ask(NAME, "question", questionnaire=form.id, version=form.version, index=0, answers={})
    _ask(turn, form, 0)


async def resume(turn: Turn) -> bool:
    """The answer to the offer, or to the current question."""
    data = turn.dialogue.data
    try:
        form = await intake.questionnaire(turn.bot.fhir, data["questionnaire"])
    except NotFound:
        turn.dialogue.finish()
        return False
    if turn.dialogue.step == "offer":
        accepted = yes_no(turn.text)
        if accepted is None:
            return False
        if not accepted:
            turn.dialogue.finish()
            _say(turn, "later")
            return True
        turn.dialogue.ask(NAME, "question", index=0, answers={})
        _ask(turn, form, 0)
        return True
    return await _answer(turn, form)


async def _answer(turn: Turn, form: Questionnaire) -> bool:
    data = turn.dialogue.data
    index, answers = int(data["index"]), dict(data["answers"])
    item = form.items[index]
    said = words(turn.text)
    if len(said) == 1 and said[0] in BACK:
        index = max(index - 1, 0)
    elif len(said) == 1 and said[0] in SKIP:
        if item.required:
            _say(turn, "required")
            _ask(turn, form, index)
            return True
        answers.pop(item.link_id, None)
        index += 1
    else:
        if item.link_id == CONSENT_ITEM and yes_no(turn.text) is False:
            turn.dialogue.finish()
            _say(turn, "not_saved")
            return True
        try:
            answers[item.link_id] = item.check(_parse(item, turn.text))
        except Invalid:
            _say(turn, "again")
            _ask(turn, form, index)
            return True
        index += 1
    data.update(index=index, answers=answers)
    if index < len(form.items):
        _ask(turn, form, index)
        return True
    await _submit(turn, form, answers)
    return True


def _parse(item: Item, text: str) -> Any:
    """What the patient wrote as the API takes it (None when it cannot be read: the check says so)."""
    if item.kind == "boolean":
        return yes_no(text)
    if item.kind == "integer":
        found = _NUMBER.fullmatch(text.strip())
        return int(found.group()) if found else text
    parts = [p.strip() for p in _SEPARATORS.split(text) if p.strip()] if item.repeats else [text.strip()]
    if item.kind != "choice":
        return parts
    chosen: list[str] = []
    for part in parts:
        number = _NUMBER.fullmatch(part)
        if number and 1 <= int(number.group()) <= len(item.options):
            chosen.append(item.options[int(number.group()) - 1].value)
        else:
            chosen.append(part)
    return chosen


def _ask(turn: Turn, form: Questionnaire, index: int) -> None:
    item = form.items[index]
    lines = [f"{index + 1}/{len(form.items)}. {item.text(turn.language)}"]
    lines += [f"{n}. {o.texts.get(turn.language) or o.value}" for n, o in enumerate(item.options, start=1)]
    turn.say_text("\n".join(lines))
    if item.kind == "boolean":
        _say(turn, "yes_no")
    elif item.repeats:
        _say(turn, "several")
    if not item.required:
        _say(turn, "hint")


async def _submit(turn: Turn, form: Questionnaire, answers: dict[str, Any]) -> None:
    patient_id, version = turn.dialogue.patient_id, turn.dialogue.data.get("version")
    turn.dialogue.finish()
    if patient_id is None:
        return
    try:
        written = await intake.submit(
            turn.bot.fhir,
            patient_id=patient_id,
            questionnaire_id=form.id,
            version=version,
            answers=answers,
            actors=[BOT],
            now=turn.now,
        )
    except Invalid:
        # The questionnaire changed while the patient answered: nothing is kept half-way.
        _say(turn, "not_saved")
        return
    log.info(
        "bot.intake.submitted", response=written.response, communication=f"Communication/{turn.message_id}"
    )
    _say(turn, "done")
