"""STOP / START: whether an inbound text is exactly an opt-out or opt-in keyword (English, Hindi and
Hinglish, Kannada), ignoring case, spacing and punctuation. Pure: the inbound job acts on the answer.

"cancel" is deliberately not an opt-out (carriers count it as one): on WhatsApp it means cancelling an
appointment. "yes" is not an opt-in: it answers questions. Only the whole message counts, so
"stop the reminders for tomorrow" is a sentence for staff, not a keyword.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum


class Keyword(StrEnum):
    """What a keyword asks for."""

    OPT_OUT = "opt-out"
    OPT_IN = "opt-in"


OPT_OUT_WORDS = frozenset(
    {
        "stop",
        "stopall",
        "unsubscribe",
        "end",
        "quit",
        "रुको",
        "बंद",
        "बंद करो",
        "band",
        "band karo",
        "ನಿಲ್ಲಿಸಿ",
        "nillisi",
    }
)
OPT_IN_WORDS = frozenset({"start", "unstop", "subscribe", "शुरू", "shuru", "ಪ್ರಾರಂಭಿಸಿ", "prarambhisi"})
# A keyword is a word or two: anything longer is a sentence, and is not compared at all.
_MAX_KEYWORD_CHARS = 40


def normalise(text: str) -> str:
    """Case-folded NFC text without punctuation or symbols, its words single-spaced.

    Combining marks stay: in Devanagari and Kannada they are part of the letters; invisible joiners
    (format characters) are dropped rather than splitting a word.
    """
    composed = unicodedata.normalize("NFC", text).casefold()
    kept = "".join(_separator(c) for c in composed)
    return " ".join(kept.split())


def _separator(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cf":
        return ""
    return " " if category[0] in "PSZC" else char


def keyword_of(text: str | None) -> Keyword | None:
    """The keyword the whole text is, or None."""
    if not text or len(text) > _MAX_KEYWORD_CHARS * 4:
        return None
    words = normalise(text)
    if words in OPT_OUT_WORDS:
        return Keyword.OPT_OUT
    if words in OPT_IN_WORDS:
        return Keyword.OPT_IN
    return None
