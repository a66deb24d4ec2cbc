"""Patient text made comparable: one normal form and one tokeniser for Latin, Devanagari and Kannada."""

from __future__ import annotations

import re
import unicodedata

# Python's \w leaves out the vowel signs and viramas of Indic scripts ("सीने" would split into "स", "न"),
# so both blocks are word characters here, bar the Devanagari full stops (danda, double danda).
_WORD = re.compile(r"[\w\u0900-\u0963\u0966-\u097f\u0c80-\u0cff]+")
# Clause boundaries: a negation ("no fever, chest pain") does not reach across them.
_CLAUSE = re.compile(r"[.,;:!?\n\u0964\u0965]+")
# Spelling variants that carry no meaning: nukta (ड़ = ड), chandrabindu (ँ = ं), joiners, apostrophes.
_FOLD = str.maketrans(
    {"\u093c": None, "\u0901": "\u0902", "\u200c": None, "\u200d": None, "'": None, "\u2019": None}
)

DEVANAGARI = re.compile(r"[\u0900-\u097f]")
KANNADA = re.compile(r"[\u0c80-\u0cff]")
LATIN = re.compile(r"[a-z]")


def normalize(text: str) -> str:
    """Lower case, NFC, spelling variants folded ("Can't" -> "cant", "धड़कन" -> "धडकन")."""
    return unicodedata.normalize("NFC", text).lower().translate(_FOLD)


def tokens(text: str) -> list[str]:
    """The words of a text in normal form, in order (punctuation, emoji and spaces dropped)."""
    return _WORD.findall(normalize(text))


def clauses(text: str) -> list[list[str]]:
    """The words of each clause (split on punctuation), empty clauses dropped."""
    return [words for part in _CLAUSE.split(normalize(text)) if (words := _WORD.findall(part))]
