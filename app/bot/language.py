"""Language detection (placeholder until bot-nlu lands: scripts and a few Hinglish words)."""

from __future__ import annotations

import re

_HINGLISH = {"kal", "haan", "nahi", "chahiye", "subah", "shaam", "mujhe", "hai", "kya"}


def detect_language(text: str) -> str | None:
    """ "en", "hi" (Devanagari or Hinglish) or "kn"; None when the text says nothing."""
    if re.search(r"[\u0c80-\u0cff]", text):
        return "kn"
    if re.search(r"[\u0900-\u097f]", text):
        return "hi"
    words = re.findall(r"[a-z]+", text.lower())
    if any(w in _HINGLISH for w in words):
        return "hi"
    if len(words) >= 2 or (words and len(words[0]) > 3 and words[0] not in {"okay"}):
        return "en"
    return None
