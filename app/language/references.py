"""Words that point back at what an earlier instruction was about: "her", "same doctor", "that appointment"."""

from __future__ import annotations

import re
from enum import StrEnum


class Referent(StrEnum):
    """What a back-reference points at."""

    PATIENT = "patient"
    PRACTITIONER = "practitioner"
    APPOINTMENT = "appointment"


_PATTERNS = {
    Referent.PATIENT: re.compile(
        r"\b(?:him|her|them|his|their|hers|uska|uski|usko|unka|unki|unko"
        r"|(?:the\s+)?same\s+patient|that\s+patient|this\s+patient)\b",
        re.IGNORECASE,
    ),
    Referent.PRACTITIONER: re.compile(
        r"\b(?:same|that|this)\s+(?:doctor|dr|doc|practitioner|consultant)\b|\bsame\s+dr\b", re.IGNORECASE
    ),
    Referent.APPOINTMENT: re.compile(
        r"\b(?:that|this|the\s+same|the\s+last|her|his|their)\s+(?:appointment|appt|booking|visit|slot)\b"
        r"|\b(?:move|cancel|reschedule|shift|postpone)\s+it\b",
        re.IGNORECASE,
    ),
}


def references_in(text: str) -> set[Referent]:
    """What `text` refers back to (empty when it names everything itself)."""
    return {referent for referent, pattern in _PATTERNS.items() if pattern.search(text)}
