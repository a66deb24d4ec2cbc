"""Reading a patient's short answers: yes/no, which option, a time-of-day preference, a menu word."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum

_YES = {
    "yes", "y", "yeah", "yep", "yup", "ya", "haan", "han", "haa", "ha", "hanji", "ji", "ok", "okay", "k",
    "confirm", "confirmed", "sure", "theek", "thik", "sahi", "correct", "right",
    "हाँ", "हां", "हा", "जी", "ठीक", "ಹೌದು", "ಸರಿ", "👍",
}  # fmt: skip
_NO = {
    "no", "n", "nope", "nah", "nahi", "nahin", "na", "mat", "dont", "don't", "not",
    "नहीं", "नही", "ना", "ಇಲ್ಲ", "ಬೇಡ", "👎",
}  # fmt: skip
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "pehla": 1, "pahla": 1, "doosra": 2, "dusra": 2, "teesra": 3,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "last": -1,
}  # fmt: skip
_NONE = re.compile(
    r"\b(none|neither|other|another|different|koi nahi|koi bhi nahi|doosr[ae]|aur koi)\b|ಬೇರೆ|कोई नहीं|दूसरा"
)
_PARTS = {
    "morning": "morning", "subah": "morning", "ಬೆಳಿಗ್ಗೆ": "morning", "सुबह": "morning",
    "afternoon": "afternoon", "dopahar": "afternoon", "ಮಧ್ಯಾಹ್ನ": "afternoon", "दोपहर": "afternoon",
    "evening": "evening", "shaam": "evening", "sham": "evening", "ಸಂಜೆ": "evening", "शाम": "evening",
}  # fmt: skip
_BOUND = re.compile(r"\b(after|before|baad|pehle)\s+(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?")
_CLOCK = re.compile(r"\b(\d{1,2})(?:[:.](\d{2}))\s*(am|pm)?|\b(\d{1,2})\s*(am|pm)\b")
_NUMBER = re.compile(r"^\W*(?:#|no\.?|number|option)?\s*(\d{1,2})(?:st|nd|rd|th)?\b")
# The first hours of the clinic's day: "after 5" means 5 PM, "before 11" means 11 AM.
_PM_BELOW = 8


class Menu(StrEnum):
    """What the patient can ask for from the menu (its numbers, in order)."""

    BOOK = "book"
    APPOINTMENTS = "appointments"
    RESCHEDULE = "reschedule"
    CANCEL = "cancel"
    QUESTION = "question"
    HUMAN = "human"


MENU_ORDER = (Menu.BOOK, Menu.APPOINTMENTS, Menu.RESCHEDULE, Menu.CANCEL, Menu.QUESTION, Menu.HUMAN)
_MENU_WORDS = {"menu", "help", "options", "start", "restart", "hi", "hello", "hey", "namaste", "namaskar"}
_HUMAN = re.compile(
    r"\b(human|agent|person|staff|receptionist|someone|somebody|representative|talk to (a|the)? ?(doctor|team))\b"
)


@dataclass(frozen=True)
class Preference:
    """When the patient would rather come: a part of the day, or after/before a local time."""

    part_of_day: str | None = None
    after: time | None = None
    before: time | None = None

    def fits(self, moment: datetime) -> bool:
        """Whether a local start time suits this preference."""
        local = moment.time()
        if self.after is not None and local < self.after:
            return False
        return self.before is None or local < self.before


NONE_OF_THESE = -1


def words(text: str) -> list[str]:
    """The text's words, lower case (scripts kept)."""
    # Devanagari and Kannada vowel signs are not \w: the script ranges keep their words whole.
    return re.findall(
        r"[\w'\u2019\u0900-\u0963\u0966-\u097f\u0c80-\u0cff\U0001f44d\U0001f44e]+", text.lower()
    )


_SKIP = {
    "skip", "later", "pass", "chhodo", "chodo", "chhod", "rehne", "छोड़ें", "छोड़ो", "छोड़िए", "ಬಿಡಿ", "ಸ್ಕಿಪ್",
}  # fmt: skip
_AGE = re.compile(r"^\D*?(\d{1,4})\D*$")
OLDEST = 120
EARLIEST_YEAR = 1900


def skipped(text: str) -> bool:
    """'skip', 'later', 'chhodo', 'no': the patient does not want to answer."""
    return bool(set(words(text)) & _SKIP) or yes_no(text) is False


def birth_year(text: str, *, this_year: int) -> int | None:
    """The year of birth an answer to "how old are you?" gives ("42", "42 years", "1983"), else None."""
    found = _AGE.match(text.strip())
    if found is None:
        return None
    number = int(found.group(1))
    if EARLIEST_YEAR <= number <= this_year:
        return number
    return this_year - number if 0 <= number <= OLDEST else None


def yes_no(text: str) -> bool | None:
    """True for yes/haan/ok/confirm/ಹೌದು, False for no/nahi/ಇಲ್ಲ, None when it says neither (or both)."""
    said = set(words(text))
    yes, no = bool(said & _YES), bool(said & _NO)
    return yes if yes != no else None


def _clock(hour: int, minute: int, meridiem: str | None) -> time | None:
    if (meridiem == "pm" and hour < 12) or (meridiem is None and hour < _PM_BELOW):
        hour += 12
    return time(hour, minute) if hour < 24 and minute < 60 else None


def pick(text: str, options: Sequence[datetime] | int) -> int | None:
    """Which option (0-based) the answer means: "2", "2nd", "second one", "the 10:30 one";
    NONE_OF_THESE for "none of these"; None when it names none. `options`: their local starts, or a count."""
    lowered = text.lower().strip()
    count = options if isinstance(options, int) else len(options)
    if _NONE.search(lowered):
        return NONE_OF_THESE
    if (number := _NUMBER.match(lowered)) and not _CLOCK.match(lowered):
        index = int(number.group(1)) - 1
        return index if 0 <= index < count else None
    clock = _CLOCK.search(lowered)
    if clock and not isinstance(options, int):
        if clock.group(4):
            wanted = _clock(int(clock.group(4)), 0, clock.group(5))
        else:
            wanted = _clock(int(clock.group(1)), int(clock.group(2)), clock.group(3))
        matches = [i for i, start in enumerate(options) if start.time() == wanted]
        return matches[0] if matches else None
    for word in words(lowered):
        if word in _ORDINALS:
            index = _ORDINALS[word] - 1 if _ORDINALS[word] > 0 else count - 1
            return index if 0 <= index < count else None
    return None


def preference(text: str) -> Preference | None:
    """A time-of-day preference ("afternoon", "shaam", "after 5", "before 11"), or None."""
    lowered = text.lower()
    if bound := _BOUND.search(lowered):
        at = _clock(int(bound.group(2)), int(bound.group(3) or 0), bound.group(4))
        if at is not None:
            after = bound.group(1) in ("after", "baad")
            return Preference(after=at) if after else Preference(before=at)
    for word, part in _PARTS.items():
        if word in lowered:
            return Preference(part_of_day=part)
    return None


def menu_choice(text: str) -> Menu | None:
    """The menu entry a bare number picks."""
    index = pick(text, len(MENU_ORDER))
    return MENU_ORDER[index] if index is not None and index >= 0 else None


def wants_menu(text: str) -> bool:
    """'menu', 'help', a greeting on its own."""
    said = words(text)
    return 0 < len(said) <= 2 and said[0] in _MENU_WORDS


def wants_human(text: str) -> bool:
    """'talk to a human', 'agent', 'staff' ..."""
    return bool(_HUMAN.search(text.lower()))
