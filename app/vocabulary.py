"""The PRM's shared words, one definition each: channels, genders and appointment statuses."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """Where a booking came from (ValueSet booking-channel)."""

    WHATSAPP = "whatsapp"
    VOICE = "voice"
    ASSISTANT = "assistant"
    DASHBOARD = "dashboard"
    EHR = "ehr"


class SourceChannel(StrEnum):
    """Where a lead or a ticket came from (ValueSet source-channel): the booking channels and lead sources."""

    WHATSAPP = "whatsapp"
    VOICE = "voice"
    ASSISTANT = "assistant"
    DASHBOARD = "dashboard"
    EHR = "ehr"
    WALK_IN = "walk-in"
    WEBSITE = "website"
    REFERRAL = "referral"
    CAMPAIGN = "campaign"


class ContactChannel(StrEnum):
    """How a patient can be reached (a patient's preference, a consent's scope, a message's medium)."""

    WHATSAPP = "whatsapp"
    SMS = "sms"
    VOICE = "voice"
    EMAIL = "email"


class Gender(StrEnum):
    """FHIR administrative gender."""

    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    UNKNOWN = "unknown"


# Appointments that hold their slot and the patient's time.
ACTIVE_APPOINTMENT_STATUSES = ("pending", "booked", "arrived")
# Appointments still to come: booked, or held and awaiting confirmation.
UPCOMING_APPOINTMENT_STATUSES = ("booked", "pending")
