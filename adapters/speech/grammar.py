"""The JSGF grammar offline recognition decodes against: clinic instructions, names and specialties.

Measured (DESIGN.md section 10): pocketsphinx's general English language model returns nonsense on
booking instructions, while a grammar of what staff actually say decodes them. The grammar is a
command followed by any number of clauses (who, which specialty, when, which patient); every clause
starts with the words that announce it, which keeps the decoder from gluing stray words anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.language.specialties import SPECIALTIES, specialty_code

GRAMMAR_NAME = "clinic"
PHONE_DIGITS = 10  # Indian mobile numbers; "plus nine one" or a leading "zero" may precede them
HOURS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
# Slots start on the quarter hour or every 20 minutes. "ten", "five" and "fifty" are left out on
# purpose: "for ten" sounds like "four ten", and "fifteen" like "fifty".
MINUTES = ["fifteen", "twenty", "thirty", "forty", "forty five"]
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
ORDINALS = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
]
DAY_ORDINALS = [*ORDINALS, *(f"twenty {o}" for o in ORDINALS[:9]), "thirtieth", "thirty first"]
COMMANDS = [
    "(book | schedule | fix) [an | a | the] [new] appointment",
    "(cancel | reschedule | move | shift) [the | my | an] appointment",
    "(find | search for | show) [the | a] patient [named] [<name>]",
    "(show | list | check) [the | all] appointments",
    "check availability",
    "register [a] [new] patient [named] [<name>]",
]
CLAUSES = [
    "(with | for | of | by) doctor <name>",
    "with <name>",
    "(of | in | for | with) [a | an | the] <specialty>",
    "(for | of) [the] patient [named] <name>",
    "(for | with | of) [the] [patient with] (phone | mobile) number <phone>",
    "[on | for | to] <day>",
    "(on | for) <date>",
    "(at | for | to | by) <time>",
    "[in the] (morning | afternoon | evening)",
]
MAX_SPELLED_CODE = 3
SPECIALIST_ENDINGS = ("logy", "logist", "ics", "ic", "ician", "ist")
# Titles are said before names but are not part of them; "dr" is "drive" in CMUdict.
TITLES = frozenset({"dr", "doctor", "mr", "mrs", "ms", "miss", "shri", "smt"})
_PARENTHESISED = re.compile(r"\([^)]*\)")
_NOT_A_WORD = re.compile(r"[^a-z']+")


@dataclass(frozen=True)
class Grammar:
    """A JSGF grammar and every word it uses (each needs a pronunciation)."""

    jsgf: str
    words: frozenset[str]


def spoken_words(text: str) -> list[str]:
    """Lower-case words as a recogniser writes them: 'Dr. Meera Iyer' -> ['meera', 'iyer']."""
    words = _NOT_A_WORD.sub(" ", _PARENTHESISED.sub(" ", text.lower())).split()
    return [w.strip("'") for w in words if w.strip("'") and w not in TITLES]


def build_grammar(hints: Sequence[str]) -> Grammar:
    """The instruction grammar for these hints (doctor, patient and specialty names)."""
    names, specialties = _split_hints(hints)
    rules = {
        "command": _alternatives(COMMANDS),
        "clause": _alternatives(CLAUSES),
        "name": _alternatives(sorted(names)) if names else "<VOID>",
        "specialty": _alternatives(sorted(specialties)),
        "phone": f"[plus nine one | zero] {' '.join(['<digit>'] * PHONE_DIGITS)}",
        "digit": _alternatives(DIGITS),
        "hour": _alternatives(HOURS),
        "minute": _alternatives(MINUTES),
        "suffix": "am | pm | a m | p m | o'clock",
        "time": "<hour> [<minute>] [<suffix>] | half past <hour> | quarter (past | to) <hour> | noon",
        "day": f"today | tomorrow | day after tomorrow | [next | this] {_alternatives(WEEKDAYS)}",
        "date": f"[the] <ordinal> of {_alternatives(MONTHS)} | {_alternatives(MONTHS)} <ordinal>",
        "ordinal": _alternatives(DAY_ORDINALS),
    }
    lines = [
        "#JSGF V1.0;",
        f"grammar {GRAMMAR_NAME};",
        "public <instruction> = [please] <command> <clause>*;",
        *(f"<{name}> = {body};" for name, body in rules.items()),
    ]
    jsgf = "\n".join(lines) + "\n"
    return Grammar(jsgf=jsgf, words=frozenset(_words_of(rules.values())))


def specialty_phrases() -> set[str]:
    """How specialties are said: their names and the '-logist' / '-ician' words for their doctors.

    Only those: everyday synonyms ("heart", "skin", "sugar") are also symptoms, and every extra
    alternative is one more thing a mis-heard word can turn into.
    """
    phrases = {_spoken_phrase(s) for spec in SPECIALTIES for s in (spec.code, spec.display)}
    phrases |= {
        _spoken_phrase(synonym)
        for spec in SPECIALTIES
        for synonym in spec.synonyms
        if " " not in synonym and synonym.endswith(SPECIALIST_ENDINGS)
    }
    # Short codes are spelled out: "E N T".
    phrases |= {" ".join(spec.code) for spec in SPECIALTIES if len(spec.code) <= MAX_SPELLED_CODE}
    # British spellings sound the same as American ones: keeping both only makes the decoder pick one
    # at random. Either spelling means the same specialty downstream.
    phrases -= {p for p in phrases if p.replace("ae", "e") != p and p.replace("ae", "e") in phrases}
    phrases.discard("")
    return phrases


def _spoken_phrase(text: str) -> str:
    return " ".join(_NOT_A_WORD.sub(" ", _PARENTHESISED.sub(" ", text.lower())).split())


def _split_hints(hints: Sequence[str]) -> tuple[set[str], set[str]]:
    """Hints naming a specialty join the specialty words; the others are names of people."""
    specialties = specialty_phrases()
    names: set[str] = set()
    for hint in hints:
        words = spoken_words(hint)
        if not words:
            continue
        phrase = " ".join(words)
        if specialty_code(phrase):
            specialties.add(_spoken_phrase(hint))
            continue
        # Staff say "doctor Sharma" or "Meera" as often as the full name.
        names.update({phrase, words[0], words[-1]})
    return names, specialties


def _alternatives(options: Iterable[str]) -> str:
    return "(" + " | ".join(options) + ")"


def _words_of(bodies: Iterable[str]) -> set[str]:
    tokens = re.sub(r"<[^>]*>|/\d+/|[()\[\]|*+]", " ", " ".join(bodies)).split()
    return set(tokens)
