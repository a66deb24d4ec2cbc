"""The entities of CRM instructions (tickets, leads, journeys, messages, patient details, reports): each
found span is masked, so that "to nurse@clinic", "ticket 42" or "next week" never become a patient's name."""

from __future__ import annotations

import re
from typing import Any

from adapters.llm.offline.text import mask
from app.language import terms
from app.language.periods import find_period
from app.ports.nlu import Intent

# Intents whose free text (after a colon, "saying", "that") is a note, a comment or a description.
NOTE_INTENTS = frozenset(
    {
        Intent.SEND_MESSAGE,
        Intent.CREATE_TICKET,
        Intent.COMMENT_TICKET,
        Intent.RESOLVE_TICKET,
        Intent.CLOSE_TICKET,
        Intent.UPDATE_TICKET,
        Intent.LOSE_OPPORTUNITY,
    }
)
_TICKET_INTENTS = frozenset(
    {
        Intent.UPDATE_TICKET,
        Intent.ASSIGN_TICKET,
        Intent.COMMENT_TICKET,
        Intent.RESOLVE_TICKET,
        Intent.CLOSE_TICKET,
        Intent.CREATE_TICKET,
        Intent.LIST_TICKETS,
    }
)
# Intents that may be about a date range ("next week", "last month").
_PERIOD_INTENTS = frozenset(
    {Intent.LIST_APPOINTMENTS, Intent.ASK_ANALYTICS, Intent.JOIN_WAITLIST, Intent.LIST_TICKETS}
)
_ONE_DAY = re.compile(r"today|tomorrow|yesterday|aaj|tonight", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_USER = re.compile(r"\b(?:to|for)\s+(?P<user>[A-Za-z0-9][\w.+-]*@[\w.-]+)", re.IGNORECASE)
_TO_ME = re.compile(r"\b(?:to|for)\s+(?:me|myself)\b", re.IGNORECASE)
_TICKET_ID = re.compile(
    r"\b(?:ticket|complaint)\s*(?:no\.?|number|id)?\s*#?\s*(?P<id>\d[\w-]{0,63})\b", re.IGNORECASE
)
_HASH_ID = re.compile(r"#(?P<id>\d[A-Za-z0-9-]{0,63})\b")
_MINE = re.compile(r"\b(?:my|mine|assigned\s+to\s+me|mere)\b", re.IGNORECASE)
_OVERDUE = re.compile(r"\b(?:overdue|late|past\s+due|breach\w*)\b", re.IGNORECASE)
# Up to four words before "template" or "journey", none of them a grammar or channel word.
_TEMPLATE_WORD = (
    r"(?!(?:on|a|an|the|for|in|of|to|ke|ki|ka|liye|whatsapp|sms|email|send|start|his|her)\b)[\w-]+"
)
_TEMPLATE = re.compile(
    rf"\b(?P<name>{_TEMPLATE_WORD}(?:\s+{_TEMPLATE_WORD}){{0,3}})\s+(?:template|journey|care\s*plan|program(?:me)?)\b",
    re.IGNORECASE,
)
# "the 'diabetes follow-up' segment", "the diabetics segment"; else "segment diabetics". The words of a
# question ("how many patients are in ...", "kitne patients hain ...") are not part of the name.
_SEGMENT_WORD = (
    r"(?!(?:on|a|an|the|for|in|of|to|is|are|there|how|many|much|size|preview|count|patients?|hain?|kitne|kitni"
    r"|mein|whatsapp|sms|email|send|his|her)\b)[\w-]+"
)
_SEGMENT = re.compile(
    r"[\"'](?P<name>[^\"']{1,80})[\"']\s+(?:segment|audience)\b"
    rf"|\b(?P<words>{_SEGMENT_WORD}(?:\s+{_SEGMENT_WORD}){{0,3}})\s+(?:segment|audience)\b",
    re.IGNORECASE,
)
_SEGMENT_AFTER = re.compile(
    r"\b(?:segment|audience)\s+(?:called\s+|named\s+)?[\"']?(?P<name>[\w][\w\s-]{0,79}?)[\"']?\s*(?:[?.!]|$)",
    re.IGNORECASE,
)
_TEMPLATE_LEAD = re.compile(
    r"^(?:(?:the|a|an|on|start|begin|send|with|using|enrol+|put|add)\s+)+", re.IGNORECASE
)
_ADDRESS = re.compile(
    r"\baddress\b(?:[^:;]{0,40}?\b(?:to|is|as)\b\s*:?|\s*[:=])\s*(?P<address>[^;]+?)\s*$", re.IGNORECASE
)
_CONTACT = re.compile(r"\bemergency\s+contact\b", re.IGNORECASE)
_RELATION = terms.pattern_of(terms.RELATIONSHIPS).pattern
# The contact after "to", "is" or ":": "to his wife Ayesha", "is father Suresh".
_CONTACT_PERSON = re.compile(
    rf"\b(?:to|is|as)\b\s*:?\s*(?:(?:his|her|their|the)\s+)?(?:(?P<rel>{_RELATION})\s+)?"
    r"(?P<name>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)"
    r"|:\s*(?P<name2>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)",
)
# A phone after "emergency contact ... to/is" is the contact's ("emergency contact of <patient's> to ...").
_CONTACT_BEFORE = re.compile(r"emergency\s+contact\b.*(?:\b(?:to|is|as)\b|:)", re.IGNORECASE)
_NEW = re.compile(r"\b(?:to|new|is|as)\s*:?\s*$|:\s*$")
_TAG_TO = re.compile(r"\btags?\s+(?:to|for|on)\s*$")  # "add the VIP tag to 98...": the patient's phone
_TICKET_STATUS = re.compile(r"\bin[\s-]progress\b|\bon[\s-]hold\b|\breopen\w*", re.IGNORECASE)
_CATEGORY = terms.pattern_of(terms.TICKET_CATEGORIES)
_PRIORITY = terms.pattern_of(terms.TICKET_PRIORITIES)
_STAGE = terms.pattern_of(terms.OPPORTUNITY_STAGES)
_TAG = terms.pattern_of(terms.PATIENT_TAGS)
_LOST = terms.pattern_of(terms.LOST_REASONS)
_CHANNEL = terms.pattern_of(terms.CHANNELS)
# "mark Ravi as a VIP", "flag 98... as wheelchair": a tag even without the word "tag".
_TAGGED = re.compile(
    r"\b(?:mark|flag|note)\b[^?!;]{0,40}\bas\s+(?:an?\s+)?(?:vip|wheel\s*chair|senior)", re.I
)
_LANGUAGE = re.compile(r"\b(?:english|hindi|kannada)\b", re.IGNORECASE)
_METRIC = terms.pattern_of(terms.METRICS)


def _take(pattern: re.Pattern[str], work: str, group: int | str = 0) -> tuple[str | None, str]:
    match = pattern.search(work)
    if match is None:
        return None, work
    return match.group(group), mask(work, match.start(), match.end())


def _word(pattern: re.Pattern[str], work: str) -> tuple[str | None, str]:
    found, work = _take(pattern, work)
    return (found.lower() if found else None), work


def entities_in(work: str, intent: Intent, *, note: str | None = None) -> tuple[dict[str, Any], str]:
    """The CRM entities an instruction of `intent` carries, and the text with their words masked (a lost
    lead's reason may be in its note: "mark the lead lost: not interested")."""
    found: dict[str, Any] = {}
    period = find_period(work) if intent in _PERIOD_INTENTS else None
    # A single day ("tomorrow") stays a date for the rest, except in a report ("no-shows yesterday").
    if period and (intent is Intent.ASK_ANALYTICS or not _ONE_DAY.fullmatch(period.text)):
        found["period"] = period.text
        work = mask(work, period.start, period.end)
    if intent in _TICKET_INTENTS:
        found["ticket"], work = _take(_TICKET_ID, work, "id")
        if found["ticket"] is None:
            found["ticket"], work = _take(_HASH_ID, work, "id")
        found["assignee"], work = _take(_USER, work, "user")
        if found["assignee"] is None and intent is Intent.ASSIGN_TICKET and _TO_ME.search(work):
            found["mine"], work = True, _take(_TO_ME, work)[1]
        found["priority"], work = _word(_PRIORITY, work)
        found["category"], work = _word(_CATEGORY, work)
    if intent is Intent.UPDATE_TICKET and (status := _TICKET_STATUS.search(work)):
        found["stage"] = (
            "open"
            if status.group(0).lower().startswith("reopen")
            else " ".join(status.group(0).lower().replace("-", " ").split())
        )
        work = mask(work, status.start(), status.end())
    if intent is Intent.LIST_TICKETS:
        found["mine"] = bool(_MINE.search(work)) or None
        found["overdue"] = bool(_OVERDUE.search(work)) or None
    if intent in (Intent.MOVE_OPPORTUNITY, Intent.LOSE_OPPORTUNITY):
        if intent is Intent.LOSE_OPPORTUNITY:
            found["lost_reason"], work = _word(_LOST, work)
            if found["lost_reason"] is None and note:
                found["lost_reason"] = _word(_LOST, note)[0]
        found["stage"], work = _word(_STAGE, work) if intent is Intent.MOVE_OPPORTUNITY else (None, work)
    if intent in (Intent.START_JOURNEY, Intent.SEND_MESSAGE, Intent.ADVANCE_JOURNEY):
        match = _TEMPLATE.search(work)
        if match:
            name = _TEMPLATE_LEAD.sub("", match.group("name")).strip()
            found["template"] = name or None
            work = mask(work, match.start(), match.end())
        if intent is Intent.ADVANCE_JOURNEY and re.search(r"\bskip", work, re.IGNORECASE):
            found["stage"] = "skipped"
    if intent in (Intent.SEND_MESSAGE, Intent.MESSAGE_HISTORY, Intent.UPDATE_PATIENT):
        found["channel"], work = _word(_CHANNEL, work)
    if intent is Intent.UPDATE_PATIENT:
        work = _patient_details(work, found)
    if intent is Intent.ASK_ANALYTICS:
        found["metric"], work = _word(_METRIC, work)
    if intent is Intent.PREVIEW_SEGMENT and (match := _SEGMENT.search(work) or _SEGMENT_AFTER.search(work)):
        words = match.groupdict().get("words")
        found["segment"] = match.group("name") or _TEMPLATE_LEAD.sub("", words or "").strip() or None
        work = mask(work, match.start(), match.end())
    return {k: v for k, v in found.items() if v is not None}, work


def _patient_details(work: str, found: dict[str, Any]) -> str:
    found["email"], work = _take(_EMAIL, work)
    found["language"], work = _word(_LANGUAGE, work)
    if re.search(r"\btag", work, re.IGNORECASE) or _TAGGED.search(work):
        found["tag"], work = _word(_TAG, work)
    match = _ADDRESS.search(work)
    if match:
        found["address"] = match.group("address").strip(" .")
        work = mask(work, match.start("address"), match.end("address"))
    contact = _CONTACT.search(work)
    person = _CONTACT_PERSON.search(work, contact.end()) if contact else None
    if contact and person:
        found["contact_name"] = person.group("name") or person.group("name2")
        found["contact_relationship"] = person.group("rel")
        work = mask(work, person.start(), person.end())
    return work


def phone_roles(work: str, phones: list[tuple[str, str]], intent: Intent) -> dict[str, str]:
    """Which phone is whose: in a patient update, the phone after "to"/"new"/"is" is the new phone, and the
    one after "emergency contact" the contact's; any other phone names the patient."""
    roles: dict[str, str] = {}
    for written, e164 in phones:
        at = work.find(written)
        before = work[max(0, at - 60) : at].lower() if at >= 0 else ""
        if (
            intent is Intent.UPDATE_PATIENT
            and _CONTACT_BEFORE.search(before)
            and "contact_phone" not in roles
        ):
            roles["contact_phone"] = e164
        elif intent is Intent.UPDATE_PATIENT and _TAG_TO.search(before) and "patient_phone" not in roles:
            roles["patient_phone"] = e164
        elif intent is Intent.UPDATE_PATIENT and _NEW.search(before) and "new_phone" not in roles:
            roles["new_phone"] = e164
        elif "patient_phone" not in roles:
            roles["patient_phone"] = e164
    return roles
