"""The free-text entities of an instruction: message body, task, reason, gender and date of birth."""

from __future__ import annotations

import re

from adapters.llm.offline.text import Found
from adapters.llm.offline.vocabulary import COMMAND_WORDS, FUNCTION_WORDS
from app.language.when import WhenMention

# Masked entities leave runs of spaces: a reason or message ends where one starts.
_MASKED_GAP = re.compile(r"\s{3,}")
_QUOTED = re.compile(r"\"(?P<body>[^\"]+)\"")
# The first colon that is not inside a clock time ("9:30").
_AFTER_COLON = re.compile(r"(?:(?<!\d):(?!\d)|:(?=\s))\s*(?P<body>\S.*)$")
_AFTER_WORD_EN = re.compile(
    r"\b(?:saying|that|stating|telling|with\s+(?:the\s+)?(?:text|message|note))\b\s*(?P<body>\S.*)$",
    re.IGNORECASE,
)
_AFTER_WORD = re.compile(
    r"\b(?:saying|that|stating|telling|with\s+(?:the\s+)?(?:text|message)|ki)\b\s*(?P<body>\S.*)$",
    re.IGNORECASE,
)
_TASK_LEAD = re.compile(
    r"^\s*(?:please\s+)?(?:remind\s+(?:me|us)\s*(?:to|that|about|of)?"
    r"|set\s+(?:a\s+)?reminder\s*(?:to|for|about)?"
    r"|(?:add|create|make|new)\s+(?:a\s+)?(?:new\s+)?(?:task|to-?do)\s*(?:to|for|:)?|(?:task|to-?do)\s*:)\s*",
    re.IGNORECASE,
)
# A reason runs to the end of its clause, or to the person it is from.
_CLAUSE = r"(?:(?!\b(?:from|by|with|wid)\b)[^,;.!?])+"
_DATE_LEAD = re.compile(r"\b(?:on|at|by|for|this)\s+$", re.IGNORECASE)
_REASON = re.compile(
    r"\b(?:interested\s+in|(?:enquir|inquir)\w*\s+(?:about|for|regarding)|regarding|about|because\s+of|due\s+to"
    rf"|complain\w*\s+(?:of|about)|c/o|with\s+complaints?\s+of|reason\s*[:-])\s?(?P<reason>{_CLAUSE})",
    re.IGNORECASE,
)
_FOR = re.compile(rf"\bfor\s(?P<reason>{_CLAUSE})", re.IGNORECASE)
_EDGE_WORDS = re.compile(
    r"^(?:(?:a|an|the)\s+)+|(?:\s+(?:with|on|at|and|to|for|ke|ko|by|from|please|karo|kar\s+do))+$",
    re.IGNORECASE,
)
_GENDER_WORD = re.compile(
    r"\b(?:(?P<female>female|woman|lady|girl|mahila|ladki)|(?P<male>male|man|gent|boy|purush|ladka)"
    r"|(?P<other>other|transgender|non-?binary))\b",
    re.IGNORECASE,
)
# A lone "M" or "F" is a gender only where a form would put one: "gender: F" or ", F," in a list.
_GENDER_LETTER = re.compile(r"(?:\b(?:gender|sex)\s*[:=-]?\s*|,\s*)(?P<letter>[mf])\s*(?:,|$)", re.IGNORECASE)
_BIRTH_DATE = re.compile(
    r"\b(?:born(?:\s+on)?|d\.?o\.?b\.?|date\s+of\s+birth|birth\s*date|birthday)\s*(?:is\s+|[:=-]\s*)?"
    r"(?P<date>\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?[A-Za-z]{3,9}\.?,?\s+\d{4}|[A-Za-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4})",
    re.IGNORECASE,
)


def _tidy(text: str) -> str:
    """The words up to the first masked stretch, without articles in front or connectors at the end.

    Text that starts with a masked stretch gives nothing: "for [a masked name]" introduces no reason.
    """
    first = _MASKED_GAP.split(text, maxsplit=1)[0]
    return _EDGE_WORDS.sub("", " ".join(first.split())).strip(" -:'\"")


def message_in(text: str, *, hinglish: bool = True) -> Found | None:
    """The text to send (or a note): quoted, after a colon, or after "saying", "that" (or "ki", with `hinglish`:
    only a message's "ki" introduces its text; "lead lost mark karo ki" is no note)."""
    for pattern in (_QUOTED, _AFTER_COLON, _AFTER_WORD if hinglish else _AFTER_WORD_EN):
        match = pattern.search(text)
        if match:
            body = match.group("body").strip().strip("\"'").strip()
            if body:
                return Found(body, match.start("body"), match.end("body"))
    return None


def task_in(text: str, when: WhenMention | None) -> str | None:
    """What a task asks staff to do: the instruction without "remind me to" and without its date words."""
    for start, end in sorted(when.spans if when else (), reverse=True):
        # "... on Thursday": the word that led to the date goes with it.
        lead = _DATE_LEAD.search(text, 0, start)
        text = text[: lead.start() if lead else start] + text[end:]
    body = _TASK_LEAD.sub("", " ".join(text.split())).strip(" ,.;:")
    return body or None


def _has_content(text: str) -> bool:
    return any(word.lower() not in FUNCTION_WORDS | COMMAND_WORDS for word in re.findall(r"[A-Za-z]+", text))


def reason_in(text: str) -> str | None:
    """Why the patient comes, or what a lead is about ("interested in X", "regarding X", "for X").

    Call it once names, phones, dates and specialties are masked, so that "for Karan" is not a reason.
    """
    for pattern in (_REASON, _FOR):
        for match in pattern.finditer(text):
            reason = _tidy(match.group("reason"))
            if reason and _has_content(reason):
                return reason
    return None


def gender_in(text: str) -> str | None:
    """male, female or other, when the instruction says so ("female", "gender: F")."""
    word = _GENDER_WORD.search(text)
    if word:
        return next(name for name in ("female", "male", "other") if word.group(name))
    letter = _GENDER_LETTER.search(text)
    if letter:
        return "female" if letter.group("letter").lower() == "f" else "male"
    return None


def birth_date_in(text: str) -> Found | None:
    """The date of birth as written ("born 3 March 1992" gives "3 March 1992"); the span covers "born"."""
    match = _BIRTH_DATE.search(text)
    return Found(match.group("date"), match.start(), match.end()) if match else None
