"""Phone numbers: every phone the PRM stores or searches is E.164 (default region from settings)."""

from __future__ import annotations

import phonenumbers

# No valid number, written with its country code or nationally, has fewer digits (+683 4002, Niue).
MIN_PHONE_DIGITS = 7


class InvalidPhone(ValueError):
    """The text is not a valid phone number."""


def normalize_phone(raw: str, *, region: str = "IN") -> str:
    """E.164 form of a phone written any common way ("098441-11173", "+91 98441 11173")."""
    text = raw.strip()
    if not text or len(text) > 32:
        raise InvalidPhone("not a phone number")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid phone number for its region")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phones_in_text(text: str, *, region: str = "IN") -> list[tuple[str, str]]:
    """Every valid phone number written in free text, as (the text as written, E.164)."""
    if sum(ch.isdigit() for ch in text) < MIN_PHONE_DIGITS:
        return []  # the matcher is the extractor's slowest step; most instructions name no phone
    return [
        (match.raw_string, phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164))
        for match in phonenumbers.PhoneNumberMatcher(text, region)
    ]
