"""The words and patterns `when` reads: Hinglish and typo substitutions, dates, clock times, parts of day.

Patterns run on canonical text: lower case, Hinglish made English ("kal shaam 5 baje" reads as
"tomorrow evening 5 oclock"), "a.m." as "am" and "o'clock" as "oclock".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

# A word must be at least this long, and score at least this (0-100), to count as a typo of a date word.
TYPO_MIN_LENGTH = 5
TYPO_CUTOFF = 85

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH_PREFIXES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

HOUR_WORDS: dict[str, int] = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
COUNTS: dict[str, float] = {
    **HOUR_WORDS,
    "a": 1,
    "an": 1,
    "half an": 0.5,
    "half a": 0.5,
    "a couple of": 2,
    "couple of": 2,
}

SUBSTITUTIONS: dict[str, str] = {
    # Hinglish, as staff type it in Latin script. "kal" is "yesterday" too, but nobody books yesterday.
    "kal": "tomorrow",
    "parso": "day after tomorrow",
    "parson": "day after tomorrow",
    "parsoon": "day after tomorrow",
    "parsu": "day after tomorrow",
    "aaj": "today",
    "subah": "morning",
    "subha": "morning",
    "savere": "morning",
    "sawere": "morning",
    "dopahar": "afternoon",
    "dopehar": "afternoon",
    "dophar": "afternoon",
    "dupahar": "afternoon",
    "dopahr": "afternoon",
    "dopaher": "afternoon",
    "shaam": "evening",
    "sham": "evening",
    "raat": "night",
    "baje": "oclock",
    "bje": "oclock",
    "baaje": "oclock",
    "agle": "next",
    "agla": "next",
    "agli": "next",
    "saade": "half past",
    "sade": "half past",
    "sadhe": "half past",
    "saadhe": "half past",
    "sawa": "quarter past",
    "sava": "quarter past",
    "paune": "quarter to",
    "pone": "quarter to",
    "dedh": "half past 1",
    "derh": "half past 1",
    "dhai": "half past 2",
    "dhaai": "half past 2",
    "adhai": "half past 2",
    "din": "days",
    "ghante": "hours",
    "ghanta": "hours",
    "ghanton": "hours",
    "hafte": "weeks",
    "hafta": "weeks",
    "hafton": "weeks",
    "somvar": "monday",
    "somwar": "monday",
    "mangalvar": "tuesday",
    "mangalwar": "tuesday",
    "budhvar": "wednesday",
    "budhwar": "wednesday",
    "guruvar": "thursday",
    "guruwar": "thursday",
    "brihaspativar": "thursday",
    "veervar": "thursday",
    "shukravar": "friday",
    "shukrawar": "friday",
    "shanivar": "saturday",
    "shaniwar": "saturday",
    "ravivar": "sunday",
    "raviwar": "sunday",
    "itvaar": "sunday",
    "itwar": "sunday",
    "itwaar": "sunday",
    # Abbreviations and chat spellings ("sun" is left alone: it is too often the sun).
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tmrow": "tomorrow",
    "tmw": "tomorrow",
    "tomm": "tomorrow",
    "2moro": "tomorrow",
    "2morrow": "tomorrow",
    "2mrw": "tomorrow",
    "tonite": "tonight",
    "nite": "night",
    "evng": "evening",
    "mrng": "morning",
    "morng": "morning",
    "aftn": "afternoon",
    "mon": "monday",
    "tue": "tuesday",
    "tues": "tuesday",
    "wed": "wednesday",
    "weds": "wednesday",
    "thu": "thursday",
    "thur": "thursday",
    "thurs": "thursday",
    "fri": "friday",
    "sat": "saturday",
}
# Longer date words whose typos ("tomorow", "wensday", "aftrnoon") are read as the word.
TYPO_TARGETS = (
    "tomorrow",
    "today",
    "tonight",
    "morning",
    "afternoon",
    "evening",
    *WEEKDAYS,
    "january",
    "february",
    "march",
    "april",
    "august",
    "september",
    "october",
    "november",
    "december",
)

MERIDIEM_DOTS = re.compile(r"\b([ap])\.\s?m\b\.?")
OCLOCK = re.compile(r"\bo['\u2019]?\s?clock\b")
WORD = re.compile(r"[a-z0-9']+")


def _alternatives(options: list[str]) -> str:
    """A regex alternation of phrases, longest first so that "half an" wins over "a"."""
    return "|".join(re.escape(o).replace(r"\ ", r"\s+") for o in sorted(options, key=len, reverse=True))


_MONTH = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_ORDINAL = r"(?:st|nd|rd|th)"
_WEEKDAY = "|".join(WEEKDAYS)
_COUNT = rf"(?P<count>\d{{1,3}}|{_alternatives(list(COUNTS))})"
_UNIT = r"(?P<unit>minutes?|mins?|hours?|hrs?|days?|weeks?)"
_HOUR = rf"(?P<hour>\d{{1,2}}|{_alternatives(list(HOUR_WORDS))})"
# Words that may lead a clock time; they belong to its span ("at 9:30").
_AT = r"(?:\b(?:at|by|around|about|from|before|after|till|until)\s+|@\s*)?"

OFFSET_AHEAD = re.compile(rf"\b(?:in|after|within)\s+(?:the\s+next\s+)?{_COUNT}\s*{_UNIT}\b")
OFFSET_LATER = re.compile(rf"\b{_COUNT}\s*{_UNIT}\s+(?:later|from\s+now|hence|baad|mein|me)\b")
ISO_DATE = re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b")
DAY_MONTH = re.compile(
    rf"\b(?P<day>\d{{1,2}}){_ORDINAL}?\s*(?:of\s+)?(?P<month>{_MONTH})\b\.?(?:,?\s*(?P<year>\d{{4}})\b)?"
)
MONTH_DAY = re.compile(
    rf"\b(?P<month>{_MONTH})\.?\s+(?:the\s+)?(?P<day>\d{{1,2}}){_ORDINAL}?\b(?![:.]\d)(?:,?\s*(?P<year>\d{{4}})\b)?"
)
SLASH_DATE = re.compile(r"\b(?P<day>\d{1,2})/(?P<month>\d{1,2})(?:/(?P<year>\d{4}|\d{2}))?\b")
DASHED_DATE = re.compile(r"\b(?P<day>\d{1,2})[.-](?P<month>\d{1,2})[.-](?P<year>\d{4})\b")
RELATIVE_DAY = re.compile(r"\b(?P<word>day[\s-]+after[\s-]+tomorrow|tomorrow|today|tonight)\b")
THIS_PART = re.compile(r"\bthis\s+(?P<part>morning|afternoon|evening)\b")
WEEKDAY = re.compile(
    rf"\b(?:(?P<which>next|this|coming|upcoming)\s+(?:(?P<week>week)\s+)?)?(?P<day>{_WEEKDAY})s?\b"
    r"(?:\s+(?P<after>next|this)\s+week\b)?"
)
NEXT_WEEK = re.compile(r"\bnext\s+week\b")
DAY_OF_MONTH = re.compile(rf"\b(?:the\s+)?(?P<day>\d{{1,2}}){_ORDINAL}\b")

HOUR_MINUTE = re.compile(
    rf"{_AT}\b(?P<hour>\d{{1,2}})[:.](?P<minute>\d{{2}})(?!\d)(?:\s*(?P<mer>am|pm|hrs|oclock)\b)?"
)
COMPACT_TIME = re.compile(rf"{_AT}\b(?P<hour>\d{{1,2}})(?P<minute>\d{{2}})\s*(?P<mer>am|pm|hrs)\b")
FRACTION_TIME = re.compile(
    rf"{_AT}\b(?P<frac>half|quarter)\s+(?P<rel>past|to)\s+{_HOUR}\b(?:\s*(?P<mer>am|pm|oclock)\b)?"
)
HOUR_MERIDIEM = re.compile(rf"{_AT}\b{_HOUR}\s*(?P<mer>am|pm|oclock)\b")
NOON = re.compile(rf"{_AT}\b(?:12\s+)?(?P<noon>noon|midday|midnight)\b")
# "by 2 days" and "at 3 weeks" are not clock times.
_NOT_A_UNIT = r"(?!\s*(?:minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\b)"
AT_HOUR = re.compile(rf"(?:\b(?:at|by|around)\s+|@\s*){_HOUR}\b(?![:.]\d){_NOT_A_UNIT}")
PART_OF_DAY = re.compile(r"\b(?:in\s+the\s+)?(?P<part>morning|afternoon|evening|night)\b")
BARE_HOUR = re.compile(rf"\b(?P<hour>\d{{1,2}})\b(?![:./]\d){_NOT_A_UNIT}")

# What may stand between two date/time words of one phrase ("Monday, at 10", "kal shaam ko 5 baje").
CONNECTORS_ONLY = re.compile(r"(?:[\s,]|\b(?:at|on|in|the|by|around|ko)\b)*")
ISO_WHOLE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?", re.IGNORECASE
)
# Leftover text worth showing dateparser: a real word, not a connector.
WORDY = re.compile(r"\b(?!(?:the|and|for|around)\b)[a-z]{3,}\b")


def month_number(name: str) -> int:
    """1-12 for a month name or its abbreviation ("dec", "December")."""
    return _MONTH_PREFIXES.index(name[:3].lower()) + 1


def relative_days(word: str) -> int:
    """How many days after today "today", "tonight", "tomorrow" or "day after tomorrow" is."""
    if word.startswith("day"):
        return 2
    return 1 if word == "tomorrow" else 0


@dataclass(frozen=True)
class Mapped:
    """Text rewritten for reading, remembering which original characters each character stands for."""

    text: str
    starts: tuple[int, ...]  # starts[i], ends[i]: the original characters text[i] stands for
    ends: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> Mapped:
        """The text lower-cased, each character standing for itself."""
        # Lower-case character by character so that offsets stay aligned ("İ" lower-cases to two).
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        return cls(lowered, tuple(range(len(text))), tuple(range(1, len(text) + 1)))

    def sub(self, pattern: re.Pattern[str], replace: Callable[[re.Match[str]], str | None]) -> Mapped:
        """Replace each match for which `replace` gives a string, keeping the map to the original."""
        text: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        last = 0
        for match in pattern.finditer(self.text):
            new = replace(match)
            if new is None or not match.group(0):
                continue
            text.append(self.text[last : match.start()])
            starts.extend(self.starts[last : match.start()])
            ends.extend(self.ends[last : match.start()])
            text.append(new)
            starts.extend([self.starts[match.start()]] * len(new))
            ends.extend([self.ends[match.end() - 1]] * len(new))
            last = match.end()
        text.append(self.text[last:])
        starts.extend(self.starts[last:])
        ends.extend(self.ends[last:])
        return Mapped("".join(text), tuple(starts), tuple(ends))

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original text's span for canonical text[start:end]."""
        return self.starts[start], self.ends[end - 1]


def _canonical_word(match: re.Match[str]) -> str | None:
    word = match.group(0)
    if word in SUBSTITUTIONS:
        return SUBSTITUTIONS[word]
    if len(word) < TYPO_MIN_LENGTH or not word.isalpha():
        return None
    best = process.extractOne(word, TYPO_TARGETS, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
    return best[0] if best else None


def canonical(text: str) -> Mapped:
    """`text` as the patterns read it: lower case, Hinglish and typos of date words made English."""
    mapped = Mapped.of(text).sub(MERIDIEM_DOTS, lambda m: m.group(1) + "m")
    mapped = mapped.sub(OCLOCK, lambda m: "oclock")
    return mapped.sub(WORD, _canonical_word)
