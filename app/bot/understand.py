"""Free text -> what the patient asks for, with the assistant's extraction and resolution (the model
extracts, code resolves: doctor by fuzzy name or specialty, "kal subah" by the clinic's calendar)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import structlog

from app.bot.replies import Preference, preference
from app.bot.triage import Triage, triage
from app.bot.turn import Turn
from app.directory.index import RoleEntry
from app.language.specialties import SPECIALTIES, specialties_in_text
from app.language.when import When
from app.ports.nlu import Extraction, ExtractionContext, ExtractionFailed, Intent
from app.understanding.draft import normalise
from app.understanding.resolve import resolve_practitioner

log = structlog.get_logger(__name__)

# Intents the bot acts on for a patient; anything else it reads as a question or does not understand.
BOOKING_INTENTS = (Intent.BOOK_APPOINTMENT, Intent.CHECK_AVAILABILITY, Intent.CREATE_OPPORTUNITY)
_QUESTION = re.compile(
    r"\?|^\s*(what|where|when|which|how|do|does|is|are|can|kya|kahan|kab|kitna|kitni|kaun)\b|ಎಲ್ಲಿ|ಏನು|ಎಷ್ಟು|क्या|कहाँ|कब|कितना"
)


@dataclass(frozen=True)
class Request:
    """What a message asks for, resolved as far as code can."""

    intent: Intent
    specialty: str | None
    roles: list[RoleEntry]  # who could see the patient: the named doctor, or the specialty's doctors
    when: When | None
    preference: Preference | None
    symptom: Triage | None
    question: bool  # phrased as a question (a clinic question when it asks for nothing else)

    @property
    def wants_booking(self) -> bool:
        """Whether the message asks to see a doctor (an explicit request, a doctor, a department or a symptom)."""
        return self.intent in BOOKING_INTENTS or bool(self.roles) or self.specialty is not None


async def understand(turn: Turn, text: str) -> Request:
    """Read a message: intent, doctor or department (a symptom names its department), when, preference."""
    bot = turn.bot
    index = await bot.directory.get()
    context = ExtractionContext(
        now=turn.now,
        practitioner_names=tuple(sorted({r.practitioner_name for r in index.roles if r.active})),
        specialty_codes=tuple(s.code for s in SPECIALTIES),
    )
    try:
        extraction = await bot.extractor.extract(text, context=context)
    except ExtractionFailed:
        log.warning("bot.extraction_failed", communication=f"Communication/{turn.message_id}")
        extraction = Extraction(intent=Intent.UNSUPPORTED)
    draft = normalise(extraction, text=text, now=turn.now, tz=bot.tz, region=bot.region)
    symptom = triage(text)
    if draft.entities.specialty is None:
        draft.entities.specialty = (symptom.specialty if symptom else None) or _named_specialty(text)
    roles = resolve_practitioner(draft, index)
    return Request(
        intent=extraction.intent,
        specialty=draft.entities.specialty,
        roles=roles,
        when=draft.when,
        preference=preference(text),
        symptom=symptom,
        question=bool(_QUESTION.search(text.lower())),
    )


def _named_specialty(text: str) -> str | None:
    """A specialty said in a few words ("ortho", "skin doctor") that the extractor left out."""
    found = specialties_in_text(text)
    return found[0][1] if found else None
