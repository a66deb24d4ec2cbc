"""Symptoms in a patient's words -> the department to book, or a red flag that must never be booked.

The mapping is data (`data/triage.json`: versioned, with the clinical reviewer's sign-off fields), not
code. Matching, per clause of the text (punctuation ends a clause):
* a phrase matches its words in order, with at most MAX_GAP other words between two of them
  ("pain in my chest" ~ "pain in chest"), never across a conjunction ("knee is fine but back pain");
* a Latin-script word of FUZZY_MIN_LENGTH letters or more may be misspelt (rapidfuzz ratio at least
  FUZZY_CUTOFF: "feaver", "unconcious", "siezure"); shorter words must be exact, because "couch" is
  not "cough" and "never" is not "fever" (tests/unit/bot/test_triage.py measures the false positives);
* a Kannada word may carry suffixes (ಜ್ವರವಿದೆ is ಜ್ವರ + "there is"): the phrase word is a prefix;
* a phrase preceded by a negation ("no chest pain", "don't have fever") or followed at once by one
  ("bukhar nahi", "ಜ್ವರ ಇಲ್ಲ") does not count.
Red flags win over every other symptom; otherwise the first symptom named decides. A child moves
entries with a child specialty there: an age said in the text decides ("my 5 year old", but not "cough
for 5 years"), else a child word ("my son", "bachcha", "magu"), else `age`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from rapidfuzz import fuzz, process

from app.bot.text import KANNADA, clauses, normalize, tokens

FUZZY_MIN_LENGTH = 5
FUZZY_CUTOFF = 85.0
MAX_GAP = 2
# Words before a symptom that a negation may stand in front of ("no history of chest pain").
NEGATION_REACH = 3

# A number and the unit that may be glued to it ("5yo", "8months").
_AGE = re.compile(r"(\d{1,3})(\D*)")


@dataclass(frozen=True)
class Triage:
    """What a patient's symptom means for booking."""

    symptom: str  # key of the mapping entry, e.g. "chest-pain"
    specialty: str | None  # directory specialty code; None for a red flag
    red_flag: bool  # True: never a booking flow; the emergency reply and a stat ticket instead
    mapping_version: str


@dataclass(frozen=True)
class _Entry:
    symptom: str
    specialty: str | None
    child_specialty: str | None
    red_flag: bool
    phrases: tuple[tuple[str, ...], ...]
    with_phrases: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Mapping:
    """The loaded triage mapping."""

    version: str
    entries: tuple[_Entry, ...]
    child_words: frozenset[str]
    child_under_age: int
    year_units: frozenset[str]
    month_units: frozenset[str]
    age_after: frozenset[str]  # "5 year OLD", "5 saal KA"
    aged_units: frozenset[str]  # units that already say "old": "5yo", "3 ವರ್ಷದ"
    age_before: frozenset[str]  # "AGED 5"
    negate_before: frozenset[str]
    negate_after: frozenset[str]
    breaks: frozenset[str]
    vocabulary: frozenset[str]  # every word of every phrase
    kannada_words: tuple[str, ...]  # phrase words a suffixed Kannada word may start with
    fuzzy_words: tuple[str, ...]  # Latin phrase words long enough to be matched misspelt


def _phrases(by_language: dict[str, list[str]] | None) -> tuple[tuple[str, ...], ...]:
    if not by_language:
        return ()
    return tuple(tuple(tokens(p)) for phrases in by_language.values() for p in phrases)


def _words(values: list[str]) -> frozenset[str]:
    return frozenset(normalize(v) for v in values)


@cache
def mapping() -> Mapping:
    """The triage mapping shipped with the package (read once)."""
    raw: dict[str, Any] = json.loads(
        resources.files("app.bot").joinpath("data/triage.json").read_text("utf-8")
    )
    child, negation = raw["child"], raw["negation"]
    entries = tuple(
        _Entry(
            symptom=e["symptom"],
            specialty=e["specialty"],
            child_specialty=e.get("child_specialty"),
            red_flag=e["red_flag"],
            phrases=_phrases(e["phrases"]),
            with_phrases=_phrases(e.get("with")),
        )
        for e in raw["entries"]
    )
    vocabulary = frozenset(w for e in entries for p in e.phrases + e.with_phrases for w in p)
    return Mapping(
        version=raw["version"],
        entries=entries,
        child_words=_words(child["words"]),
        child_under_age=child["under_age"],
        year_units=_words(child["year_units"]),
        month_units=_words(child["month_units"]),
        age_after=_words(child["age_after"]),
        aged_units=_words(child["aged_units"]),
        age_before=_words(child["age_before"]),
        negate_before=_words(negation["before"]),
        negate_after=_words(negation["after"]),
        breaks=_words(negation["breaks"]),
        vocabulary=vocabulary,
        kannada_words=tuple(w for w in vocabulary if KANNADA.match(w) and len(w) > 1),
        fuzzy_words=tuple(w for w in vocabulary if w.isascii() and len(w) >= FUZZY_MIN_LENGTH),
    )


@dataclass(frozen=True)
class _Reading:
    """The mapping, and which phrase words each word of the message may be (computed once per word)."""

    m: Mapping
    senses: dict[str, frozenset[str]]


def _senses(written: str, m: Mapping) -> frozenset[str]:
    """The phrase words `written` may stand for: itself, a Kannada stem it extends, a near spelling."""
    found = {written} & m.vocabulary
    if KANNADA.match(written):
        found.update(p for p in m.kannada_words if written.startswith(p))
    elif written.isascii() and len(written) >= FUZZY_MIN_LENGTH:
        near = process.extract(
            written, m.fuzzy_words, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=None
        )
        found.update(choice for choice, _, _ in near)
    return frozenset(found)


def _find(words: list[str], phrase: tuple[str, ...], r: _Reading) -> int | None:
    """Where `phrase` starts in the clause `words`, not negated; None if it is not there."""
    for start, word in enumerate(words):
        if phrase[0] not in r.senses[word]:
            continue
        end = _rest(words, start + 1, phrase[1:], r)
        if end is not None and not _negated(words, start, end, r.m):
            return start
    return None


def _rest(words: list[str], at: int, phrase: tuple[str, ...], r: _Reading) -> int | None:
    """The end of the phrase's remaining words from `at` (gaps allowed, conjunctions not)."""
    for phrase_word in phrase:
        for i in range(at, min(at + MAX_GAP + 1, len(words))):
            if phrase_word in r.senses[words[i]]:
                at = i + 1
                break
            if words[i] in r.m.breaks:
                return None
        else:
            return None
    return at


def _negated(words: list[str], start: int, end: int, m: Mapping) -> bool:
    if end < len(words) and words[end] in m.negate_after:
        return True
    for word in reversed(words[max(0, start - NEGATION_REACH) : start]):
        if word in m.breaks:
            return False
        if word in m.negate_before:
            return True
    return False


def _position(parts: list[list[str]], phrases: tuple[tuple[str, ...], ...], r: _Reading) -> int | None:
    """The first place (clause-major) any of `phrases` is named, not negated."""
    offset, best = 0, None
    for words in parts:
        for phrase in phrases:
            at = _find(words, phrase, r)
            if at is not None and (best is None or offset + at < best):
                best = offset + at
        offset += len(words)
    return best


def _kannada_child(word: str, m: Mapping) -> bool:
    return bool(KANNADA.match(word)) and any(word.startswith(c) for c in m.child_words if KANNADA.match(c))


def _is_child(parts: list[list[str]], age: int | None, m: Mapping) -> bool:
    """An age said in the text decides ("my 30 year old son"), then a child word, then `age`."""
    for part in parts:
        if (stated := _stated_age(part, m)) is not None:
            return stated < m.child_under_age
    words = [w for part in parts for w in part]
    if any(w in m.child_words or _kannada_child(w, m) for w in words):
        return True
    return age is not None and age < m.child_under_age


def _stated_age(words: list[str], m: Mapping) -> int | None:
    """An age in years said as an age ("5 year old", "aged 5", "8 month old" is 0), not a duration
    ("cough for 5 years", "5 saal se", "2 din ka bukhar")."""
    for i, word in enumerate(words):
        if not (said := _AGE.fullmatch(word)):
            continue
        number, unit, rest = int(said.group(1)), said.group(2), words[i + 1 :]
        if not unit and rest:
            unit, rest = rest[0], rest[1:]
        before = words[i - 1] if i else ""
        if not (unit in m.aged_units or (rest and rest[0] in m.age_after) or before in m.age_before):
            continue
        if unit in m.month_units:
            return 0
        if unit in m.year_units or unit in m.aged_units or before in m.age_before:
            return number
    return None


def triage(text: str, *, age: int | None = None) -> Triage | None:
    """The symptom a patient's message names and where it leads; None when it names none."""
    m = mapping()
    parts = clauses(text)
    r = _Reading(m, {w: _senses(w, m) for words in parts for w in set(words)})
    found: list[tuple[bool, int, _Entry]] = []
    for entry in m.entries:
        at = _position(parts, entry.phrases, r)
        if at is None or (entry.with_phrases and _position(parts, entry.with_phrases, r) is None):
            continue
        found.append((not entry.red_flag, at, entry))
    if not found:
        return None
    _, _, entry = min(found, key=lambda f: (f[0], f[1]))
    specialty = entry.specialty
    if entry.child_specialty and _is_child(parts, age, m):
        specialty = entry.child_specialty
    return Triage(entry.symptom, specialty, entry.red_flag, m.version)
