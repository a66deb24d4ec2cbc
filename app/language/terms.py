"""The closed vocabularies of CRM instructions, as staff say them -> the PRM's codes: ticket category and
priority, lead stage and lost reason, message channel, language, patient tag, report metric,
emergency-contact relationship. The extractor finds the words; the core maps them (words it does not know stay unknown)."""

from __future__ import annotations

import re
from collections.abc import Mapping


def _table(pairs: Mapping[str, str]) -> dict[str, str]:
    """Synonym -> code, each code also standing for itself."""
    return {**{code: code for code in pairs.values()}, **pairs}


TICKET_CATEGORIES = _table(
    {
        "complaint": "complaint", "complaints": "complaint", "complain": "complaint", "grievance": "complaint",
        "callback": "callback", "call back": "callback", "call-back": "callback",
        "billing": "billing", "bill": "billing", "invoice": "billing", "payment": "billing", "refund": "billing",
        "clinical query": "clinical-query", "clinical": "clinical-query", "medical query": "clinical-query",
        "appointment": "appointment", "feedback": "feedback", "handoff": "handoff", "hand-off": "handoff",
        "emergency": "emergency", "inquiry": "inquiry", "enquiry": "inquiry", "question": "inquiry",
        "other": "other",
    }
)  # fmt: skip
TICKET_PRIORITIES = _table(
    {
        "routine": "routine", "normal": "routine", "low": "routine",
        "urgent": "urgent", "high": "urgent", "important": "urgent",
        "asap": "asap", "very urgent": "asap",
        "stat": "stat", "critical": "stat", "immediately": "stat",
    }
)  # fmt: skip
OPPORTUNITY_STAGES = _table(
    {
        "new": "new", "contacted": "contacted", "called": "contacted", "reached": "contacted",
        "qualified": "qualified", "booked": "booked", "won": "won", "converted": "won", "lost": "lost",
    }
)  # fmt: skip
LOST_REASONS = _table(
    {
        "not interested": "not-interested", "no longer interested": "not-interested",
        "unreachable": "unreachable", "not reachable": "unreachable", "not answering": "unreachable",
        "no answer": "unreachable",
        "price": "price", "too expensive": "price", "expensive": "price", "costly": "price", "cost": "price",
        "another hospital": "chose-another-provider", "another clinic": "chose-another-provider",
        "went elsewhere": "chose-another-provider", "another provider": "chose-another-provider",
        "competitor": "chose-another-provider",
        "no-show": "no-show", "no show": "no-show", "did not come": "no-show",
        "cancelled-not-rebooked": "cancelled-not-rebooked", "did not rebook": "cancelled-not-rebooked",
        "other": "other",
    }
)  # fmt: skip
CHANNELS = _table(
    {"whatsapp": "whatsapp", "whats app": "whatsapp", "wa": "whatsapp", "sms": "sms", "text message": "sms",
     "email": "email", "e-mail": "email", "mail": "email"}
)  # fmt: skip
LANGUAGES = _table(
    {"english": "en", "en": "en", "hindi": "hi", "hi": "hi", "kannada": "kn", "kn": "kn"}
)  # fmt: skip
PATIENT_TAGS = _table(
    {"vip": "vip", "v.i.p": "vip", "interpreter": "needs-interpreter", "needs interpreter": "needs-interpreter",
     "wheelchair": "wheelchair", "wheel chair": "wheelchair", "senior citizen": "senior-citizen",
     "senior": "senior-citizen", "chronic care": "chronic-care", "chronic": "chronic-care", "staff": "staff",
     "employee": "staff", "corporate": "corporate"}
)  # fmt: skip
METRICS = _table(
    {
        "no-shows": "no-shows", "no-show": "no-shows", "no shows": "no-shows", "no show": "no-shows",
        "noshows": "no-shows", "noshow": "no-shows", "missed": "no-shows",
        "cancellations": "cancellations", "cancellation": "cancellations", "cancelled": "cancellations",
        "canceled": "cancellations",
        "appointments": "appointments", "appointment": "appointments", "bookings": "appointments",
        "visits": "appointments",
        "leads": "leads", "lead": "leads", "enquiries": "leads", "inquiries": "leads",
        "opportunities": "leads", "conversions": "leads",
        "tickets": "tickets", "ticket": "tickets", "complaints": "tickets",
        "messages": "messages", "message": "messages",
    }
)  # fmt: skip
RELATIONSHIPS = _table(
    {
        "wife": "spouse", "husband": "spouse", "spouse": "spouse", "mother": "parent", "father": "parent",
        "mom": "parent", "dad": "parent", "parent": "parent", "son": "child", "daughter": "child",
        "child": "child", "brother": "sibling", "sister": "sibling", "sibling": "sibling",
        "guardian": "guardian", "friend": "friend", "relative": "relative", "other": "other",
    }
)  # fmt: skip


def code_of(table: Mapping[str, str], written: str | None) -> str | None:
    """The code the words stand for in a table (None when they are not in it)."""
    if not written:
        return None
    return table.get(" ".join(written.lower().replace("_", " ").split()))


def pattern_of(table: Mapping[str, str]) -> re.Pattern[str]:
    """A regex finding any synonym of a table as whole words (longest first)."""
    words = sorted(table, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(w) for w in words) + r")(?![\w-])", re.IGNORECASE)
