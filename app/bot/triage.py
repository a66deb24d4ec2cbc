"""Symptom triage (placeholder until bot-nlu lands: a few keywords only)."""

from __future__ import annotations

from dataclasses import dataclass

MAPPING_VERSION = "placeholder-0"
_RED_FLAGS = ("severe chest pain", "can't breathe", "cannot breathe", "unconscious")
_SYMPTOMS = {"chest pain": "cardiology", "rash": "dermatology", "knee pain": "orthopedics"}


@dataclass(frozen=True)
class Triage:
    """What a symptom means for booking: its department, or a red flag."""

    symptom: str
    specialty: str | None
    red_flag: bool
    mapping_version: str


def triage(text: str, *, age: int | None = None) -> Triage | None:
    """The symptom named in `text`, if any."""
    del age
    lowered = text.lower()
    for flag in _RED_FLAGS:
        if flag in lowered:
            return Triage(flag.replace(" ", "-"), None, True, MAPPING_VERSION)
    for words, specialty in _SYMPTOMS.items():
        if words in lowered:
            return Triage(words.replace(" ", "-"), specialty, False, MAPPING_VERSION)
    return None
