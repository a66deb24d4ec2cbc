"""STOP/START keywords: exact words in English, Hindi/Hinglish and Kannada, whatever the case, spacing
or punctuation; nothing else."""

from __future__ import annotations

import pytest

from app.messaging.keywords import Keyword, keyword_of, normalise


@pytest.mark.parametrize(
    "text",
    ["STOP", "stop", " Stop. ", "STOP!!", "StopAll", "UNSUBSCRIBE", "end", "Quit", "🛑 STOP 🛑",
     "रुको", "रुको!", "बंद करो", "बंद  करो।", "band", "Band Karo", "BAND-KARO", "ನಿಲ್ಲಿಸಿ", "nillisi", "Nillisi."],
)  # fmt: skip
def test_opt_out_keywords(text: str) -> None:
    assert keyword_of(text) is Keyword.OPT_OUT


@pytest.mark.parametrize(
    "text", ["START", "start", "Unstop", "subscribe!", "शुरू", "shuru", "ಪ್ರಾರಂಭಿಸಿ", " Prarambhisi "]
)
def test_opt_in_keywords(text: str) -> None:
    assert keyword_of(text) is Keyword.OPT_IN


@pytest.mark.parametrize(
    "text",
    [None, "", "   ", "cancel", "CANCEL", "yes", "Yes please", "stop it", "please stop", "S T O P",
     "stop the reminder for tomorrow", "I want to cancel my appointment", "start time?", "stopp", "startup",
     "रुको मत", "1", "stop" * 100],
)  # fmt: skip
def test_everything_else_is_not_a_keyword(text: str | None) -> None:
    assert keyword_of(text) is None


def test_normalising_keeps_indic_vowel_signs_and_drops_invisible_joiners() -> None:
    assert normalise("ನಿಲ್ಲಿಸಿ") == "ನಿಲ್ಲಿಸಿ"  # the vowel signs are combining marks: kept
    assert normalise("st\u200dop") == "stop"  # a zero-width joiner does not split the word
    assert normalise("  Band,\tKARO! ") == "band karo"
