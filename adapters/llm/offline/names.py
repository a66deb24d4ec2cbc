"""People named in an instruction: the doctor (after "Dr", or a directory name) and the patient.

Names are snapped to the clinic's names when a fuzzy match is strong and unique ("Meera Iyar" is
"Meera Iyer"); a surname shared by several doctors ("Dr Sharma") stays a surname so that the
resolver asks which one is meant.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from adapters.llm.offline.text import Found
from adapters.llm.offline.vocabulary import NAME_CUES, NAME_ENDS, NOT_NAME_WORDS

# A whole written name must score this (0-100, rapidfuzz ratio) against a directory name to be snapped.
FULL_NAME_CUTOFF = 85
# ... and beat the next best directory name by this much, or it is ambiguous.
SNAP_MARGIN = 5
# One written word must score this against a word of a directory name to match it ("Iyar" ~ "Iyer").
WORD_CUTOFF = 75
# A doctor's name written without "Dr" must match a directory name this closely.
UNTITLED_NAME_CUTOFF = 90
# Names have at most this many words; a longer run of unknown words is prose, not a name.
MAX_NAME_WORDS = 4
MAX_DOCTOR_WORDS = 3
# Words of one name are separated by at most this many spaces (masked entities leave wider gaps).
MAX_NAME_GAP = 2

_TITLE = re.compile(r"\b(?:dr|doctor|doc)\b\.?", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*")
_PREVIOUS_WORD = re.compile(r"([A-Za-z]+)[^A-Za-z]*$")
_NEXT_WORD = re.compile(r"\s*(?:([A-Za-z]+)|([(,]))")


@dataclass(frozen=True)
class _Word:
    text: str
    start: int
    end: int
    possessive: bool  # "Das's": nothing of the name follows


def _words(text: str, start: int = 0) -> list[_Word]:
    found = []
    for match in _WORD.finditer(text, start):
        word, end = match.group(0), match.end()
        possessive = word.lower().endswith("'s")
        if possessive:
            word, end = word[:-2], end - 2
        found.append(_Word(word, match.start(), end, possessive))
    return found


def _is_name_word(word: _Word) -> bool:
    return len(word.text) > 1 and word.text.lower() not in NOT_NAME_WORDS


def _runs(text: str) -> list[list[_Word]]:
    """Groups of adjacent name-like words ("Vikram Singh"), split at other words and punctuation."""
    runs: list[list[_Word]] = []
    current: list[_Word] = []
    for word in _words(text):
        joined = bool(current) and not current[-1].possessive and _joins(text, current[-1].end, word.start)
        if not _is_name_word(word) or not joined:
            if current:
                runs.append(current)
            current = []
        if _is_name_word(word):
            current.append(word)
    if current:
        runs.append(current)
    return runs


def _joins(text: str, end: int, start: int) -> bool:
    gap = text[end:start]
    return not gap.strip() and len(gap) <= MAX_NAME_GAP


def _matches_word(written: str, name: str) -> bool:
    return any(fuzz.ratio(written, word) >= WORD_CUTOFF for word in name.lower().split())


def snap_name(written: str, known: Sequence[str]) -> str:
    """The known name `written` stands for if exactly one fits, a surname several share, or `written`."""
    if not known:
        return written
    best = process.extract(written, known, scorer=fuzz.ratio, processor=utils.default_process, limit=2)
    if best and best[0][1] >= FULL_NAME_CUTOFF and (len(best) == 1 or best[0][1] - best[1][1] >= SNAP_MARGIN):
        return best[0][0]
    words = [w for w in written.lower().split() if len(w) > 1]
    fits = [name for name in known if words and all(_matches_word(w, name) for w in words)]
    if len(fits) == 1:
        return fits[0]
    if len(fits) > 1 and len(words) == 1:
        shared = set.intersection(*(set(name.split()) for name in fits))
        matching = sorted(s for s in shared if fuzz.ratio(words[0], s.lower()) >= WORD_CUTOFF)
        if matching:
            return matching[0]
    return written


def practitioner_in(text: str, directory: Sequence[str]) -> Found | None:
    """The doctor an instruction names ("Dr. Rajiv Sharma", "dr sharma", "Meera Iyer"), or None."""
    for title in _TITLE.finditer(text):
        words: list[_Word] = []
        end = title.end()
        for word in _words(text, title.end()):
            if len(words) == MAX_DOCTOR_WORDS or not _is_name_word(word) or not _joins(text, end, word.start):
                break
            words.append(word)
            end = word.end
            if word.possessive:
                break
        if words:
            return Found(snap_name(" ".join(w.text for w in words), directory), title.start(), end)
    return _untitled_practitioner(text, directory)


def _untitled_practitioner(text: str, directory: Sequence[str]) -> Found | None:
    """A directory name written in full without "Dr" ("book with Meera Iyer")."""
    if not directory:
        return None
    for run in _runs(text):
        for first, second in itertools.pairwise(run):
            written = f"{first.text} {second.text}"
            best = process.extractOne(
                written,
                directory,
                scorer=fuzz.ratio,
                processor=utils.default_process,
                score_cutoff=UNTITLED_NAME_CUTOFF,
            )
            if best:
                return Found(best[0], first.start, second.end)
    return None


def _previous_word(text: str, start: int) -> str:
    match = _PREVIOUS_WORD.search(text[:start])
    return match.group(1).lower() if match else ""


def _ends_like_a_name(text: str, run: list[_Word]) -> bool:
    if run[-1].possessive:
        return True
    match = _NEXT_WORD.match(text, run[-1].end)
    if match is None:
        return False
    return bool(match.group(2)) or (match.group(1) or "").lower() in NAME_ENDS


def _known_patient(runs: list[list[_Word]], known: Sequence[str]) -> Found | None:
    best: tuple[float, Found] | None = None
    for run in runs:
        for size in range(min(len(run), MAX_NAME_WORDS), 1, -1):
            for i in range(len(run) - size + 1):
                window = run[i : i + size]
                written = " ".join(w.text for w in window)
                match = process.extractOne(
                    written,
                    known,
                    scorer=fuzz.ratio,
                    processor=utils.default_process,
                    score_cutoff=FULL_NAME_CUTOFF,
                )
                if match and (best is None or match[1] > best[0]):
                    best = (match[1], Found(match[0], window[0].start, window[-1].end))
    return best[1] if best else None


def patient_in(text: str, known: Sequence[str] = ()) -> Found | None:
    """The patient an instruction names, as written or snapped to a known patient; None if none.

    Call it on text whose doctor, phone, date and specialty words are already masked.
    """
    runs = [run for run in _runs(text) if len(run) <= MAX_NAME_WORDS]
    if known and (snapped := _known_patient(runs, known)):
        return snapped
    best: tuple[int, list[_Word]] | None = None
    for run in runs:
        cued = _previous_word(text, run[0].start) in NAME_CUES
        ends = _ends_like_a_name(text, run)
        capitalised = all(w.text[0].isupper() for w in run)
        # Lower-case words are a name only where a name is expected ("book ananya reddy with ...").
        if not (capitalised and (len(run) > 1 or cued or ends)) and not (cued and (len(run) > 1 or ends)):
            continue
        score = 3 * cued + 2 * ends + capitalised + (len(run) > 1)
        if best is None or score > best[0]:
            best = (score, run)
    if best is None:
        return None
    run = best[1]
    return Found(" ".join(w.text for w in run), run[0].start, run[-1].end)
