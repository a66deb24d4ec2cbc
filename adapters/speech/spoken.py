"""Spoken numbers to written ones, so the text extractor can parse what a speech grammar returns.

A grammar-constrained recogniser returns words ("nine eight four four ...", "ten a m"); the text
extractor expects what staff type ("9844...", "10 am"). This module is pure and knows nothing of
any speech engine.
"""

from __future__ import annotations

from app.language.when_patterns import HOUR_WORDS

DIGIT_WORDS: dict[str, str] = {
    "zero": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
# "double nine" is how many Indian speakers read "99" in a phone number.
REPEAT_WORDS: dict[str, int] = {"double": 2, "triple": 3}
TENS_WORDS: dict[str, int] = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}
TEEN_WORDS: dict[str, int] = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
UNIT_WORDS: dict[str, int] = {word: value for word, value in HOUR_WORDS.items() if value < 10}
ORDINAL_WORDS: dict[str, int] = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
# Letters spoken one by one ("a m", "e n t") and what they spell.
SPELLED: dict[tuple[str, ...], str] = {("a", "m"): "am", ("p", "m"): "pm", ("e", "n", "t"): "ent"}
ORDINAL_SUFFIXES: dict[int, str] = {1: "st", 2: "nd", 3: "rd"}
TEEN_ORDINAL_DAYS = frozenset({11, 12, 13})  # 11th, 12th, 13th, not 11st
MERIDIEMS = frozenset({"am", "pm"})
OCLOCK = "o'clock"
# A run this long of single digits is a number read digit by digit (a phone number), not a time.
MIN_DIGIT_RUN = 3
MINUTES_PER_HOUR = 60
QUARTER = 15
HALF = 30


def normalize_spoken(text: str) -> str:
    """Write spoken digits, times and ordinals as numbers: 'ten a m' -> '10 am', 'nine eight' -> '98'."""
    words = _join_spelled(text.lower().split())
    out: list[str] = []
    i = 0
    while i < len(words):
        for parse in (_digit_run, _clock_time, _ordinal):
            parsed = parse(words, i)
            if parsed is not None:
                written, i = parsed
                out.append(written)
                break
        else:
            out.append(words[i])
            i += 1
    return " ".join(out)


def _join_spelled(words: list[str]) -> list[str]:
    joined: list[str] = []
    i = 0
    while i < len(words):
        for letters, word in SPELLED.items():
            if tuple(words[i : i + len(letters)]) == letters:
                joined.append(word)
                i += len(letters)
                break
        else:
            joined.append(words[i])
            i += 1
    return joined


def _digit_run(words: list[str], start: int) -> tuple[str, int] | None:
    """'plus nine one nine eight ...' -> '+919 8...', only for runs of MIN_DIGIT_RUN digits or more."""
    i = start
    prefix = ""
    if words[i] == "plus" and i + 1 < len(words) and words[i + 1] in DIGIT_WORDS:
        prefix = "+"
        i += 1
    digits: list[str] = []
    while i < len(words):
        repeat = REPEAT_WORDS.get(words[i], 1)
        word_at = i + 1 if repeat > 1 else i
        if word_at >= len(words) or words[word_at] not in DIGIT_WORDS:
            break
        digits.append(DIGIT_WORDS[words[word_at]] * repeat)
        i = word_at + 1
    if len("".join(digits)) < MIN_DIGIT_RUN:
        return None
    return prefix + "".join(digits), i


def _minutes(words: list[str], start: int) -> tuple[int, int] | None:
    """'fifteen' -> 15, 'forty five' -> 45, 'oh five' -> 5: (minutes, next index)."""
    if start >= len(words):
        return None
    word = words[start]
    if word in TEEN_WORDS and word not in HOUR_WORDS:
        return TEEN_WORDS[word], start + 1
    if word in TENS_WORDS:
        unit = UNIT_WORDS.get(words[start + 1]) if start + 1 < len(words) else None
        return (TENS_WORDS[word] + unit, start + 2) if unit else (TENS_WORDS[word], start + 1)
    if word in ("oh", "zero") and start + 1 < len(words) and words[start + 1] in UNIT_WORDS:
        return UNIT_WORDS[words[start + 1]], start + 2
    return None


def _clock_time(words: list[str], start: int) -> tuple[str, int] | None:
    """'ten am' -> '10 am', 'four thirty pm' -> '4:30 pm', 'at four thirty' -> 'at 4:30', 'half past ten'."""
    word = words[start]
    if word in ("half", "quarter"):
        return _relative_time(words, start)
    if word not in HOUR_WORDS:
        return None
    hour = HOUR_WORDS[word]
    minutes = _minutes(words, start + 1)
    minute, i = minutes if minutes else (0, start + 1)
    follows = words[i] if i < len(words) else ""
    after_at = start > 0 and words[start - 1] in ("at", "by")
    if follows not in MERIDIEMS and follows != OCLOCK and not after_at and not minutes:
        return None  # a lone "two" is a count, not a time
    written = f"{hour}:{minute:02d}" if minutes else str(hour)
    if follows in MERIDIEMS or follows == OCLOCK:
        return f"{written} {follows}", i + 1
    return written, i


def _relative_time(words: list[str], start: int) -> tuple[str, int] | None:
    """'half past ten' -> '10:30', 'quarter past ten' -> '10:15', 'quarter to ten' -> '9:45'."""
    if start + 2 >= len(words) or words[start + 2] not in HOUR_WORDS:
        return None
    hour = HOUR_WORDS[words[start + 2]]
    relation = (words[start], words[start + 1])
    if relation == ("half", "past"):
        return f"{hour}:{HALF:02d}", start + 3
    if relation == ("quarter", "past"):
        return f"{hour}:{QUARTER:02d}", start + 3
    if relation == ("quarter", "to"):
        previous = hour - 1 if hour > 1 else HOUR_WORDS["twelve"]
        return f"{previous}:{MINUTES_PER_HOUR - QUARTER:02d}", start + 3
    return None


def _ordinal(words: list[str], start: int) -> tuple[str, int] | None:
    """'twenty second' -> '22nd', 'first' -> '1st', 'thirty first' -> '31st'."""
    word = words[start]
    following = words[start + 1] if start + 1 < len(words) else ""
    if word in TENS_WORDS and following in ORDINAL_WORDS and ORDINAL_WORDS[following] < 10:
        return _with_suffix(TENS_WORDS[word] + ORDINAL_WORDS[following]), start + 2
    if word in ORDINAL_WORDS:
        return _with_suffix(ORDINAL_WORDS[word]), start + 1
    return None


def _with_suffix(day: int) -> str:
    if day % 100 in TEEN_ORDINAL_DAYS:
        return f"{day}th"
    return f"{day}{ORDINAL_SUFFIXES.get(day % 10, 'th')}"
