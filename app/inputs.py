"""What every API input accepts: FHIR ids, text without control characters, ISO-8601 times with an
offset, dates the calendar arithmetic can handle. One definition each, used by every schema and route."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from fastapi import Path, Query
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

# The FHIR id grammar (R4 `id`): what HAPI accepts, and nothing that can leave a URL path segment.
FHIR_ID_PATTERN = r"^[A-Za-z0-9\-.]{1,64}$"
_FHIR_ID = re.compile(FHIR_ID_PATTERN)
# Bidirectional overrides and isolates reorder displayed text (a name that reads differently than it is).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Line breaks and tabs are text (a message body); every other control character is not.
_ALLOWED_CONTROLS = frozenset("\t\n\r")
# A staff user as the API keys name them ("reception@clinic").
USER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@+\-]{0,127}$"
# Dates are turned into day ranges and local midnights; these bounds keep that arithmetic in range.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


def control_character(text: str) -> str | None:
    """The first control, format-override or unassigned-surrogate character in `text`, or None."""
    for char in text:
        if char in _ALLOWED_CONTROLS:
            continue
        if char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs"):
            return char
    return None


def _clean(value: Any) -> Any:
    """Refuse control characters anywhere in a string, or in the strings of a list or dict."""
    if isinstance(value, str):
        if (char := control_character(value)) is not None:
            raise ValueError(f"contains the control character U+{ord(char):04X}")
    elif isinstance(value, dict):
        for key, item in value.items():
            _clean(key)
            _clean(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _clean(item)
    return value


def _iso_instant(value: Any) -> Any:
    """Only ISO-8601 text is a time here: a bare number would otherwise be read as a Unix epoch."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or "T" not in value.upper() or value.strip().lstrip("+-").isdigit():
        raise ValueError("must be an ISO-8601 date-time with an offset, e.g. 2026-12-02T10:00:00+05:30")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO-8601 date-time") from None


def _calendar_date(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"must be between {EARLIEST_DATE} and {LATEST_DATE}")
    return value


FhirId = Annotated[
    str,
    Field(pattern=FHIR_ID_PATTERN, min_length=1, max_length=64, description="A FHIR logical id"),
]
# Path and query parameters naming a resource: 422 naming the parameter when they are not an id.
PathId = Annotated[str, Path(pattern=FHIR_ID_PATTERN, max_length=64, description="A FHIR logical id")]
QueryId = Annotated[
    str | None, Query(pattern=FHIR_ID_PATTERN, max_length=64, description="A FHIR logical id")
]
Instant = Annotated[AwareDatetime, BeforeValidator(_iso_instant)]
CalendarDate = Annotated[date, AfterValidator(_calendar_date)]


def is_fhir_id(value: str) -> bool:
    """Whether `value` is a FHIR logical id."""
    return _FHIR_ID.fullmatch(value) is not None


class InputModel(BaseModel):
    """Base of every request body: unknown fields refused, strings stripped, no control characters."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    # Fields a change may leave out but never clear (a patient always has a name and a phone).
    not_null: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _checked(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.not_null:
            raise ValueError("may be left out, but not set to null")
        return _clean(value)
