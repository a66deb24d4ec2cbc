"""Who is writing: a known number is its patient; a number shared by several asks which; a new number
is asked for a name and an age ('skip' allowed; kept as the year of birth) and registered (phone E.164, preferred language and channel), and the request the
patient started with then continues (the engine runs `dialogue.pending`)."""

from __future__ import annotations

import re

import structlog

from app.bot import present
from app.bot.replies import birth_year, pick, skipped
from app.bot.turn import BOT, Turn
from app.directory.resources import display_name
from app.patients import service as patients
from app.vocabulary import ContactChannel

log = structlog.get_logger(__name__)

NAME = "register"
# A name: letters of any script with spaces, dots, apostrophes and hyphens; a few words, not a sentence.
_NAME = re.compile(r"^[^\W\d_]+(?:[ .'\u2019-]+[^\W\d_]+)*\.?$")
MAX_NAME_WORDS = 5
MAX_NAME_CHARS = 80


def first_name(patient: dict[str, object]) -> str:
    """How the bot greets a patient."""
    names = patient.get("name") or [{}]
    assert isinstance(names, list)
    given = names[0].get("given") or []
    return str(given[0]) if given else display_name(patient)


async def identify(turn: Turn) -> bool:
    """Whether the sender is one patient now; otherwise the question that finds out is asked (and the
    message kept to continue with)."""
    if turn.dialogue.patient_id:
        return True
    found = await patients.find_by_phone(turn.bot.fhir, phone=turn.address, region=turn.bot.region)
    if len(found) == 1:
        turn.dialogue.patient_id = str(found[0]["id"])
        return True
    turn.dialogue.pending = turn.text
    if found:
        ordered = sorted(found, key=lambda p: str(p["id"]))
        turn.dialogue.ask(NAME, "which", candidates=[str(p["id"]) for p in ordered])
        names = [display_name(p) for p in ordered]
        turn.offer(
            "which_patient", [present.Option(str(p["id"]), n, n) for p, n in zip(ordered, names, strict=True)]
        )
        return False
    turn.dialogue.ask(NAME, "name")
    turn.say("ask_name")
    return False


async def resume(turn: Turn) -> bool:
    """The name of a new patient, or which of a number's patients is writing."""
    if turn.dialogue.step == "which":
        candidates = list(turn.dialogue.data.get("candidates", []))
        index = pick(turn.text, len(candidates))
        if index is None or index < 0:
            return False
        turn.dialogue.patient_id = candidates[index]
        turn.dialogue.finish()
        return True
    if turn.dialogue.step == "age":
        return await _on_age(turn)
    name = " ".join(turn.text.split())
    if not _NAME.match(name) or len(name) > MAX_NAME_CHARS or len(name.split()) > MAX_NAME_WORDS:
        turn.say("name_again")
        return True
    turn.dialogue.ask(NAME, "age", name=name)
    turn.say("ask_age")
    return True


async def _on_age(turn: Turn) -> bool:
    """The age (stored as the year of birth, a partial birthDate) or 'skip'; then the registration."""
    year = None if skipped(turn.text) else birth_year(turn.text, this_year=turn.now.year)
    if year is None and not skipped(turn.text):
        turn.say("age_again")
        return True
    patient, created = await patients.register(
        turn.bot.fhir,
        turn.bot.state,
        name=str(turn.dialogue.data["name"]),
        phone=turn.address,
        region=turn.bot.region,
        gender=None,
        birth_date=None,
        preferred_language=turn.language,
        preferred_channel=ContactChannel.WHATSAPP.value,
        actors=[BOT],
        birth_year=year,
        mrn_prefix=turn.bot.mrn_prefix,
    )
    log.info("bot.registered", patient=f"Patient/{patient['id']}", created=created)
    turn.dialogue.patient_id = str(patient["id"])
    turn.dialogue.finish()
    turn.say("registered", name=first_name(patient))
    return True
