"""OfflineExtractor: the rule-based IntentExtractor, for clinics without a model (and for tests).

Entities are read in an order that keeps them apart: each one found is masked out of the text
before the next is looked for (phone, message body, date of birth, date/time, specialty, doctor,
patient, reason), so that a doctor's name never becomes the patient's and a message's words never
become the appointment time.

A compound instruction ("register Ravi 98450 12345 and book him with ortho on Friday at 11") is cut
where a connector ("and", "then", ";") is followed by a verb that starts an instruction of its own;
each part is read on its own, in order, and becomes one step of the extraction.
"""

from __future__ import annotations

import re

from adapters.llm.offline import crm, fields, intents, names
from adapters.llm.offline.text import mask, plain
from app.language.phones import phones_in_text
from app.language.references import Referent, references_in
from app.language.specialties import specialties_in_text
from app.language.when import find_when
from app.ports.nlu import (
    ExtractedEntities,
    Extraction,
    ExtractionContext,
    ExtractionFailed,
    ExtractionStep,
    Intent,
)

# Longer text is not a staff instruction (and would make the rules slow).
MAX_INSTRUCTION_CHARS = 1000
_TITLE = re.compile(r"\b(?:dr|doctor|doc)\b", re.IGNORECASE)
_PRM_WORDS = re.compile(
    r"\b(?:appointments?|appts?|consult\w*|slots?|patients?|mareez|doctors?|dr|clinic|opd|check[\s-]?up|leads?"
    r"|enquir\w*|whatsapp|sms|reminders?|follow[\s-]?up|reports?|tasks?|tickets?|complaints?|journeys?|stages?"
    r"|waitlist|no[\s-]?shows?|cancell?ations?|messages|e-?mail|opportunit\w*|segments?|campaigns?)\b",
    re.IGNORECASE,
)
_PATIENT_INTENTS = (Intent.REGISTER_PATIENT, Intent.UPDATE_PATIENT)
# A connector followed by a verb that starts an instruction of its own: a compound instruction's seam.
_SEAM = re.compile(
    r"(?:\s*[;.]\s+|,?\s+(?:and\s+then|and\s+also|and|then|also|aur|phir)\s+)(?:please\s+)?"
    r"(?=(?:book|schedule|cancel|register|create|add|open|raise|log|send|message|whatsapp|sms|text|remind"
    r"|re-?schedule|move|shift|update|change|find|show|list|check|make|set\s+up|call)\b)",
    re.IGNORECASE,
)
# A message body or quoted text runs to the end: its "and"s are the patient's words, not seams.
_BODY_START = re.compile(r"(?<!\d):(?!\d)|\"")
MAX_STEPS = 4


class OfflineExtractor:
    """Rule-based intent extraction: keyword rules, regexes and fuzzy names; no network, no model."""

    async def extract(self, text: str, *, context: ExtractionContext) -> Extraction:
        """Extract intent and entities from `text`; raises ExtractionFailed for text too long to be one."""
        return extract(text, context)


def extract(text: str, context: ExtractionContext) -> Extraction:
    """The extraction of `text`: one step, or one per part of a compound instruction."""
    if len(text) > MAX_INSTRUCTION_CHARS:
        raise ExtractionFailed(f"an instruction has at most {MAX_INSTRUCTION_CHARS} characters")
    whole = _extract_one(text, context)
    parts = split_steps(text)
    if whole.intent is Intent.UNSUPPORTED or len(parts) == 1:
        return whole
    steps = [_extract_one(part, context) for part in parts]
    if any(step.intent is Intent.UNSUPPORTED for step in steps):
        return whole
    first, *rest = steps
    then = [ExtractionStep(intent=s.intent, entities=s.entities) for s in rest]
    return Extraction(intent=first.intent, entities=first.entities, then=then)


def split_steps(text: str) -> list[str]:
    """The parts of a compound instruction, in order (the whole text when it asks for one thing)."""
    body = _BODY_START.search(text)
    limit = body.start() if body else len(text)
    parts: list[str] = []
    start = 0
    for seam in _SEAM.finditer(text, 0, limit):
        if seam.start() > start and len(parts) < MAX_STEPS - 1:
            parts.append(text[start : seam.start()])
            start = seam.end()
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def _extract_one(text: str, context: ExtractionContext) -> Extraction:
    original = plain(text)
    work = original
    phones = phones_in_text(original)
    for written, _ in phones:
        start = work.find(written)
        work = mask(work, start, start + len(written))
    if intents.is_hostile(work):
        return Extraction(intent=Intent.UNSUPPORTED)
    specialties = specialties_in_text(work)
    names_a_doctor = bool(specialties or _TITLE.search(work))
    intent = intents.classify(work, names_a_doctor=names_a_doctor)
    if intent is Intent.UNSUPPORTED and not (phones or names_a_doctor):
        return Extraction(intent=Intent.UNSUPPORTED)

    message: str | None = None
    hinglish = intent is Intent.SEND_MESSAGE
    if intent in crm.NOTE_INTENTS and (body := fields.message_in(work, hinglish=hinglish)):
        # "...: your cardiology report is ready" names no specialty to resolve.
        message, work = body.value, mask(work, body.start, body.end)
        specialties = specialties_in_text(work)
    more, work = crm.entities_in(work, intent, note=message)
    birth_date = fields.birth_date_in(work)
    if birth_date:
        work = mask(work, birth_date.start, birth_date.end)
    when = find_when(work)
    for start, end in when.spans if when else ():
        work = mask(work, start, end)
    for written, _ in specialties:
        work = _mask_words(work, written)
    practitioner = names.practitioner_in(work, context.practitioner_names)
    if practitioner:
        work = mask(work, practitioner.start, practitioner.end)
    patient = names.patient_in(work, context.patient_names)
    if patient:
        work = mask(work, patient.start, patient.end)

    entities = ExtractedEntities(
        **crm.phone_roles(original, phones, intent),
        **more,
        patient_name=patient.value if patient else None,
        practitioner_name=practitioner.value if practitioner else None,
        specialty=specialties[0][1] if specialties else None,
        when=when.text if when else None,
        reason=fields.reason_in(work),
        message=fields.task_in(original, when) if intent is Intent.CREATE_TASK else message,
        gender=fields.gender_in(work) if intent in _PATIENT_INTENTS else None,
        birth_date=birth_date.value if birth_date and intent in _PATIENT_INTENTS else None,
    )
    intent = _checked(intent, original, entities)
    if intent is Intent.UNSUPPORTED:
        return Extraction(intent=intent)
    return Extraction(intent=intent, entities=entities)


def _mask_words(text: str, written: str) -> str:
    for match in re.finditer(rf"(?<![\w-]){re.escape(written)}(?![\w-])", text):
        text = mask(text, match.start(), match.end())
    return text


def _checked(intent: Intent, text: str, entities: ExtractedEntities) -> Intent:
    """The intent, unless nothing in the text is about the clinic ("book a flight to Delhi")."""
    # "send her the confirmation", "same doctor next week": someone an earlier instruction named.
    refers = references_in(text)
    names_someone = bool(entities.patient_phone or entities.practitioner_name or entities.specialty or refers)
    if intent is Intent.UNSUPPORTED:
        if intents.is_off_topic(text):
            return intent
        # No verb: "skin specialist for 98450 12345 tomorrow at 4" books; a bare phone number looks up.
        doctor = entities.practitioner_name or entities.specialty or Referent.PRACTITIONER in refers
        if doctor and (entities.patient_phone or entities.patient_name or entities.when):
            return Intent.BOOK_APPOINTMENT
        return Intent.FIND_PATIENT if entities.patient_phone else intent
    if names_someone or intent is Intent.CREATE_TASK:  # "remind me to order gloves" is a task too
        return intent
    if intents.is_off_topic(text):
        return Intent.UNSUPPORTED
    return intent if _PRM_WORDS.search(text) or entities.patient_name else Intent.UNSUPPORTED
