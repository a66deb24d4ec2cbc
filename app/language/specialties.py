"""The clinic's specialties: the PRM's lower-case codes, their SNOMED CT equivalents and the words
staff and patients use for them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

# A typo'd specialty word ("crdiology") must score at least this (0-100) to count as a match.
FUZZY_SPECIALTY_CUTOFF = 85


@dataclass(frozen=True)
class Specialty:
    """One specialty: our code, its display, the SNOMED CT practice-setting code, and synonyms."""

    code: str
    display: str
    snomed: str
    synonyms: tuple[str, ...]


SPECIALTIES: tuple[Specialty, ...] = (
    Specialty(
        "cardiology",
        "Cardiology",
        "394579002",
        ("cardiology", "cardiologist", "cardiac", "heart doctor", "heart specialist", "heart", "cardio"),
    ),
    Specialty(
        "orthopedics",
        "Orthopedics",
        "394801008",
        (
            "orthopedics",
            "orthopaedics",
            "orthopedic",
            "orthopaedic",
            "ortho",
            "orthopedician",
            "bone doctor",
            "bone specialist",
            "joint specialist",
            "bones",
        ),
    ),
    Specialty(
        "dermatology",
        "Dermatology",
        "394582007",
        ("dermatology", "dermatologist", "derma", "skin doctor", "skin specialist", "skin"),
    ),
    Specialty(
        "pediatrics",
        "Pediatrics",
        "394537008",
        (
            "pediatrics",
            "paediatrics",
            "pediatric",
            "paediatric",
            "pediatrician",
            "paediatrician",
            "child specialist",
            "child doctor",
            "children's doctor",
            "kids doctor",
            "baby doctor",
            "peds",
            "paeds",
        ),
    ),
    Specialty(
        "gynecology",
        "Gynecology",
        "394586005",
        (
            "gynecology",
            "gynaecology",
            "gynecologist",
            "gynaecologist",
            "gynaec",
            "gynec",
            "gyno",
            "obgyn",
            "women's doctor",
            "lady doctor",
            "gynae",
            "ob-gyn",
        ),
    ),
    Specialty(
        "ent",
        "ENT (Ear, Nose and Throat)",
        "418960008",
        (
            "ent",
            "e.n.t",
            "ear nose throat",
            "ear, nose and throat",
            "ear nose and throat",
            "otolaryngology",
            "otolaryngologist",
            "ent specialist",
            "ent doctor",
            "ear doctor",
            "ent surgeon",
        ),
    ),
    Specialty(
        "endocrinology",
        "Endocrinology",
        "394583002",
        (
            "endocrinology",
            "endocrinologist",
            "endo",
            "diabetes doctor",
            "diabetologist",
            "diabetes specialist",
            "thyroid doctor",
            "hormone specialist",
            "sugar doctor",
        ),
    ),
    Specialty(
        "general-medicine",
        "General Medicine",
        "394802001",
        (
            "general medicine",
            "general-medicine",
            "general physician",
            "physician",
            "gp",
            "family doctor",
            "general practitioner",
            "internal medicine",
            "internist",
            "general doctor",
        ),
    ),
)

BY_CODE: dict[str, Specialty] = {s.code: s for s in SPECIALTIES}
_SYNONYM_TO_CODE: dict[str, str] = {syn: s.code for s in SPECIALTIES for syn in s.synonyms}
# Longest synonyms first, so "heart doctor" wins over "heart".
_SYNONYM_PATTERN = re.compile(
    r"(?<![\w-])("
    + "|".join(re.escape(s) for s in sorted(_SYNONYM_TO_CODE, key=len, reverse=True))
    + r")(?![\w-])",
    re.IGNORECASE,
)


def specialty_code(text: str) -> str | None:
    """The specialty code a word or phrase names ("Cardiologist", "crdiology", "bone doctor"), or None."""
    phrase = " ".join(text.lower().replace("\u2019", "'").split())
    if not phrase:
        return None
    if phrase in _SYNONYM_TO_CODE:
        return _SYNONYM_TO_CODE[phrase]
    # Short words are too easy to confuse ("gp" ~ "go"): only longer words get typo tolerance.
    if len(phrase) < 5:
        return None
    best = process.extractOne(
        phrase, list(_SYNONYM_TO_CODE), scorer=fuzz.ratio, score_cutoff=FUZZY_SPECIALTY_CUTOFF
    )
    return _SYNONYM_TO_CODE[best[0]] if best else None


def specialties_in_text(text: str) -> list[tuple[str, str]]:
    """Every specialty named in free text, as (the words as written, code), in order of appearance."""
    found = [(m.group(0), _SYNONYM_TO_CODE[m.group(0).lower()]) for m in _SYNONYM_PATTERN.finditer(text)]
    if found:
        return found
    # No exact synonym: try each longer word for a typo ("crdiology").
    for word in re.findall(r"[A-Za-z][A-Za-z-]{4,}", text):
        code = specialty_code(word)
        if code:
            found.append((word, code))
    return found
