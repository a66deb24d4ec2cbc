"""What an instruction asks for, from its wording: keyword rules tried in priority order."""

from __future__ import annotations

import re

from adapters.llm.offline.vocabulary import OFF_TOPIC_WORDS
from app.ports.nlu import Intent


def _rule(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# Prompt-injection and bulk destruction: never a PRM instruction, whatever else it says.
_HOSTILE = _rule(
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^?!;]{0,40}\b(?:instructions?|rules|prompts?|guidelines)\b"
    r"|\bsystem\s+prompt\b|\bjailbreak|\bdeveloper\s+mode\b|\byou\s+are\s+now\b|\bpretend\s+(?:to\s+be|you)\b"
    r"|\bact\s+as\b|\b(?:delete|remove|erase|wipe|drop|purge|truncate)\b[^?!;]{0,30}"
    r"\b(?:all|every|everything|entire|database|records|tables?)\b|<\s*script|\brm\s+-rf\b"
    r"|\b(?:close|resolve|cancel|message|email|sms|whatsapp)\s+(?:all|every|everyone)\b"
    r"|\b(?:send|message|email|sms|whatsapp|text)\b[^?!;]{0,30}\b(?:every|all)\s+(?:patients?|leads?|contacts?)\b"
)
_BOOK_VERB = _rule(r"\b(?:book\w*|schedul\w*|fix|lagao|lagwa\w*|set\s+up)\b")
_APPOINTMENT = _rule(r"\b(?:appointments?|appts?|consult\w*|visit|check[\s-]?up)\b")

# (intent, pattern), first match wins. The order settles overlaps: "remind me to cancel ..." is a task,
# "send a cancellation message" a message, "update the phone number" is not a reschedule.
_TICKET = r"(?:tickets?|tikcets?|tickts?|tikets?|ticekts?|complaints?|complants?)"
# A ticket named by its number or its patient ("ticket 42", "Ananya's complaint ticket").
_TICKET_REF = r"(?:ticket\s*(?:no\.?|number|id)?\s*#?\s*\d|'s\s+(?:\w+\s+){0,2}(?:ticket|complaint))"
_LEAD = r"(?:leads?|opportunit(?:y|ies)|enquir(?:y|ies)|inquir(?:y|ies)|deal)"
_JOURNEY = r"(?:journeys?|care\s*plans?|care\s+pathways?|programs?|programmes?)"
_SHOW = r"(?:show|list|view|display|see|get|give\s+me|pull\s+up|fetch|dikhao|batao|what\s+are|which)"
# The CRM intents come first: their words ("ticket", "lead ... lost", "journey") settle them.
_CRM_RULES: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    # "how many patients are in the diabetics segment": a segment's size, never an analytics report.
    (Intent.PREVIEW_SEGMENT, _rule(r"\bsegments?\b|\baudience\b")),
    (
        Intent.ASK_ANALYTICS,
        _rule(
            r"\b(?:how\s+many|kitne|kitni|number\s+of|count\s+of|total)\b[^?!;]{0,40}"
            r"\b(?:no[\s-]?shows?|cancell?ations?|cancell?ed|leads?|enquiries|conversions?|tickets?|complaints"
            r"|messages|(?:appointments|bookings|visits)\b[^?!;]{0,40}\b(?:last|past|previous|this)\s+(?:week|month))\b"
            r"|\b(?:no[\s-]?show|cancell?ation|conversion)\s+rate\b|\bstats\b|\bstatistics\b|\banalytics\b"
            r"|\b(?:no[\s-]?shows?|cancell?ations?|leads|tickets|appointments|bookings)\s+(?:count|numbers?|totals?)\b"
        ),
    ),
    (
        Intent.LIST_TICKETS,
        _rule(
            rf"\b(?:my|overdue|open|pending|late|unassigned|assigned\s+to\s+me)\s+(?:\w+\s+)?tickets\b"
            rf"|\b{_SHOW}\b[^?!;]{{0,40}}\btickets\b|\btickets\b[^?!;]{{0,30}}\b(?:overdue|dikhao|batao|pending)\b"
            r"|\btickets\s+(?:assigned\s+to\s+me|of\s+mine|i\s+own)\b"
        ),
    ),
    (
        Intent.ASSIGN_TICKET,
        _rule(
            rf"\b(?:re-?)?as+ign\w*\b|\bhand\s+over\b[^?!;]{{0,30}}\b{_TICKET}"
            rf"|\bgive\b[^?!;]{{0,20}}{_TICKET_REF}\w*\s+to\b"
        ),
    ),
    (Intent.CLOSE_TICKET, _rule(rf"\bclose\b[^?!;]{{0,40}}\b{_TICKET}|\b{_TICKET}\b[^?!;]{{0,30}}\bclose\b")),
    (
        Intent.RESOLVE_TICKET,
        _rule(rf"\bresolv\w*\b|\b{_TICKET}\b[^?!;]{{0,30}}\b(?:fixed|sorted|solved)\b|\bsolve\b"),
    ),
    (
        Intent.COMMENT_TICKET,
        _rule(
            rf"\b(?:comment|note)\b[^?!;]{{0,40}}\b{_TICKET}|\b{_TICKET}\b[^?!;]{{0,20}}\b(?:comment|note)\b"
        ),
    ),
    (
        Intent.UPDATE_TICKET,
        _rule(
            rf"\b(?:update|change|set|escalate|lower|mark|make|put|reopen\w*)\b[^?!;]{{0,30}}{_TICKET_REF}"
            rf"|{_TICKET_REF}\w*\b[^?!;]{{0,30}}\b(?:priority|urgent|asap|in\s+progress|on\s+hold)\b"
        ),
    ),
    (
        Intent.CREATE_TICKET,
        _rule(
            rf"\b(?:open|opne|create|raise|log|file|add|new|make|register)\b[^?!;]{{0,40}}\b{_TICKET}"
            rf"|\b{_TICKET}\b[^?!;]{{0,20}}\b(?:banao|bana\s+do|kholo|daalo|(?:open|raise|log)\s+karo)\b"
            r"|\bticket\b[^?!;]{0,20}\b(?:for|about|regarding)\b|\bcomplain(?:s|ed|ing)?\s+(?:that|about)\b"
        ),
    ),
    (
        Intent.LOSE_OPPORTUNITY,
        _rule(
            rf"\b{_LEAD}\b[^?!;]{{0,50}}\blost\b|\b(?:mark|set)\b[^?!;]{{0,40}}\blost\b|\blost\s+(?:the\s+)?{_LEAD}"
            rf"|\b{_LEAD}\b[^?!;]{{0,40}}\b(?:didn'?t\s+work\s+out|fell\s+through|dropped\s+out|chose\s+another)"
        ),
    ),
    (
        Intent.MOVE_OPPORTUNITY,
        _rule(
            rf"\b(?:move|mark|set|change|update|advance|push)\b[^?!;]{{0,40}}\b{_LEAD}\b"
            r"|\b(?:mark|set)\b[^?!;]{0,40}\bas\s+(?:contacted|qualified|won|converted)\b"
            rf"|\b{_LEAD}\b[^?!;]{{0,40}}\b(?:contacted|qualified|won|converted)\b"
        ),
    ),
    (
        Intent.ADVANCE_JOURNEY,
        _rule(
            r"\b(?:complete|advance|skip|finish|close|mark|done)\b[^?!;]{0,50}\b(?:stage|step)\b"
            rf"|\b(?:advance|progress)\b[^?!;]{{0,40}}\b{_JOURNEY}|\bnext\s+(?:stage|step)\b"
        ),
    ),
    (
        Intent.START_JOURNEY,
        _rule(
            rf"\b(?:start|begin|enrol+|enroll|put|add)\b[^?!;]{{0,50}}\b{_JOURNEY}"
            rf"|\b{_JOURNEY}\b[^?!;]{{0,20}}\b(?:shuru|chalu|start)\b"
        ),
    ),
    (Intent.LIST_JOURNEYS, _rule(rf"\b{_JOURNEY}\b")),
    (Intent.JOIN_WAITLIST, _rule(r"\bwait\s*-?\s*list|\bwaiting\s+list\b")),
    (
        Intent.MESSAGE_HISTORY,
        _rule(
            r"\b(?:message|chat|whatsapp|sms|conversation|communication)s?\s+(?:history|log|thread)\b"
            rf"|\b{_SHOW}\b[^?!;]{{0,40}}\b(?:messages|chats?|conversations?|communications|whatsapps)\b"
            r"|\bwhat\s+(?:did|have)\s+we\s+(?:send|sent|message)"
            r"|\b(?:messages|chats|conversations)\b[^?!;]{0,20}\b(?:dikhao|batao)\b"
        ),
    ),
    (
        Intent.PATIENT_SUMMARY,
        _rule(
            r"\b360\b|\bsummar(?:y|ise|ize)\b|\boverview\b|\beverything\s+about\b"
            r"|\bfull\s+(?:profile|history|picture|record)\b"
        ),
    ),
    (
        Intent.UPDATE_PATIENT,
        _rule(
            r"\bemergency\s+contact\b|\btag\b[^?!;]{0,40}\b(?:as|with)\b|\b(?:add|put|give|set)\b[^?!;]{0,30}\btag\b"
            r"|\b(?:mark|flag|note)\b[^?!;]{0,40}\bas\s+(?:an?\s+)?(?:vip|wheel\s*chair|senior)"
            r"|\bprefer(?:s|red)?\b[^?!;]{0,30}\b(?:language|channel|hindi|english"
            r"|kannada|whatsapp|sms|e-?mail)\b|\b(?:update|change|set)\b[^?!;]{0,40}\b(?:language|channel)\b"
            r"|\bnew\s+(?:e-?mail|phone|mobile|number|address)\b[^?!;]{0,10}\b(?:is|:)"
            r"|\b(?:would\s+like|wants?)\b[^?!;]{0,30}\b(?:in|on|by)\s+(?:hindi|english|kannada|whatsapp|sms|e-?mail)\b"
        ),
    ),
    (
        Intent.LIST_APPOINTMENTS,
        _rule(
            r"'s\s+(?:appointments|appts|visits|bookings)\b|\bwhen\s+is\b[^?!;]{0,40}\b(?:appointment|visit)\b"
            r"|\b(?:appointments|appts|bookings)\b[^?!;]{0,30}\b(?:next|this|last|coming)\s+(?:week|month)\b"
        ),
    ),
)

_RULES: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    *_CRM_RULES,
    (
        Intent.CREATE_TASK,
        _rule(
            r"\bremind\s+(?:me|us)\b|\bset\s+(?:a\s+)?reminder\b|\b(?:add|create|make|new)\s+(?:a\s+)?"
            r"(?:task|to-?do)\b|\bto-?do\b|\btask\s*:|\byaad\s+dila"
        ),
    ),
    (
        Intent.SEND_MESSAGE,
        _rule(
            r"\bsend\b|\bbhej|^\s*(?:please\s+)?(?:whatsapp|message|msg|sms|text|notify|inform|remind|e-?mail)\b"
            r"|^\s*tell\b(?!\s+(?:me|us)\b)|\b(?:message|whatsapp|sms)\s+kar"
        ),
    ),
    (
        Intent.CANCEL_APPOINTMENT,
        _rule(
            r"\bcanc(?:el|le|l)\w*|\bcall\s+off\b|\bradd\b"
            r"|\b(?:delete|remove)\b[^?!;]{0,30}\b(?:appointment|appt|booking)"
        ),
    ),
    (
        Intent.UPDATE_PATIENT,
        _rule(
            r"\b(?:update|change|correct|edit|modify)\b[^?!;]{0,40}\b(?:phone|mobile|number|address|e-?mail"
            r"|dob|birth|name|gender|details|contact|spelling)\b"
        ),
    ),
    (
        Intent.RESCHEDULE_APPOINTMENT,
        _rule(
            r"\bre-?sched\w*|\bmove\b|\bshift\b|\bpostpone|\bprepone|\bpush\s+(?:back|out|forward)\b|\bbadal"
            r"|\b(?:change|update)\b[^?!;]{0,30}\b(?:appointment|appt|slot|time|timing|date|booking)\b"
        ),
    ),
    (
        Intent.CREATE_OPPORTUNITY,
        _rule(
            r"\bleads?\b|\benquir|\binquir|\bprospect|\bopportunit|\binterested\s+in\b"
            r"|\bwants?\s+to\s+know\s+about\b|\basking\s+about\b"
        ),
    ),
    (
        Intent.REGISTER_PATIENT,
        _rule(
            r"\bregist|\bnew\s+patient\b|\b(?:add|create|enrol+|onboard)\b[^?!;]{0,20}\bpatient\b"
            r"|\bnaya\s+(?:patient|mareez)\b|\bsign\s+up\b"
        ),
    ),
    (
        Intent.CHECK_AVAILABILITY,
        _rule(r"\bfree\b|\bavailab|\bvacan|\bslots?\b|\bkhali\b|\bopenings?\b"),
    ),
    (
        Intent.LIST_APPOINTMENTS,
        _rule(
            r"\b(?:show|list|view|display|dikhao|batao|what\s+are|what'?s|how\s+many|check|pull\s+up|fetch"
            r"|give\s+me)\b[^?!;]{0,60}\b(?:appointments|appts|bookings|schedule|agenda|calendar)\b"
            r"|\b(?:show|list|view|display|dikhao)\b[^?!;]{0,60}\bappointment\b"
            r"|^\s*(?:today|tomorrow)'?s\s+(?:appointments|schedule)\b|^\s*appointments\s+(?:for|of|on|today)\b"
            r"|\b(?:appointments?|appts|schedule|agenda|bookings)\b[^?!;]{0,40}\b(?:dikhao|batao|dikhana|bata\s+do)\b"
        ),
    ),
    (Intent.BOOK_APPOINTMENT, _BOOK_VERB),
    (
        Intent.CREATE_TASK,
        _rule(
            r"\bcall\b[^?!;]{0,40}\bback\b|\bcall\s*back\b|\bfollow[\s-]?up\b(?![\s-]+(?:appointment|appt|visit))"
            r"|\btask\b|\breminder\b"
        ),
    ),
    (Intent.UPDATE_PATIENT, _rule(r"\b(?:update|change|correct|edit|modify)\b")),
    (Intent.BOOK_APPOINTMENT, _APPOINTMENT),
    (
        Intent.FIND_PATIENT,
        _rule(
            r"\bfind\b|\bsearch\b|\blook\s*up\b|\bwho\s+is\b|\bdetails\b|\bfetch\b|\bpull\s+up\b|\bdh(?:u|oo)nd"
            r"|\bprofile\b|\brecords?\b"
        ),
    ),
)
_OFF_TOPIC = re.compile(r"\b(?:" + "|".join(sorted(OFF_TOPIC_WORDS)) + r")\b", re.IGNORECASE)


def classify(text: str, *, names_a_doctor: bool) -> Intent:
    """The intent an instruction's wording asks for; UNSUPPORTED when no rule fits.

    `names_a_doctor` (a doctor or a specialty is named) tells booking from other uses of "book" words.
    """
    booking = bool(_BOOK_VERB.search(text)) and (names_a_doctor or bool(_APPOINTMENT.search(text)))
    for intent, pattern in _RULES:
        # "Book the first free slot" books; "is Dr X free" asks.
        if intent is Intent.CHECK_AVAILABILITY and booking:
            continue
        if pattern.search(text):
            return intent
    return Intent.UNSUPPORTED


def is_hostile(text: str) -> bool:
    """Whether the text tries to steer the assistant or destroy data ("ignore previous instructions")."""
    return bool(_HOSTILE.search(text))


def is_off_topic(text: str) -> bool:
    """Whether the text talks about something a PRM does not do (flights, weather, jokes ...)."""
    return bool(_OFF_TOPIC.search(text))
