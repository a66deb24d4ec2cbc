"""The FHIR shape of a consent (profile prm-consent) and how to read one back: contact on one channel
(category contact-channel + the channel extension), or marketing on every channel (category marketing,
provision.purpose HMARKT, no channel), the do-not-disturb list campaigns respect."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from app.fhir.builders import coding, extension, extension_value, instant, meta_profile
from app.fhir.canonical import (
    CONSENT_CATEGORY_CONTACT,
    CONSENT_CATEGORY_MARKETING,
    CONSENT_POLICY_CONTACT,
    CONSENT_SCOPE_PRIVACY,
    CONSENT_SCOPE_SYSTEM,
    CS_ACT_REASON,
    CS_CONSENT_POLICY,
    EXT_CHANNEL,
    EXT_CONSENT_SOURCE,
    PROFILE_CONSENT,
    PURPOSE_MARKETING,
)
from app.fhir.client import Resource
from app.fhir.dates import parse_datetime
from app.vocabulary import ContactChannel


class Decision(StrEnum):
    """A patient's answer for one channel."""

    OPT_IN = "opt-in"
    OPT_OUT = "opt-out"


class Purpose(StrEnum):
    """What a consent is about: contact on one channel, or marketing on all of them."""

    CONTACT = "contact"
    MARKETING = "marketing"


class ConsentSource(StrEnum):
    """How the decision reached the clinic (CodeSystem consent-source)."""

    STAFF = "staff"
    WHATSAPP = "whatsapp"
    SMS = "sms"
    VOICE = "voice"
    REGISTRATION = "registration"
    IMPORT = "import"


# prm-consent's invariant prm-con-1 allows these channels only; email has no consent to record yet.
CONSENT_CHANNELS = (ContactChannel.WHATSAPP, ContactChannel.SMS, ContactChannel.VOICE)
_PROVISION = {Decision.OPT_IN: "permit", Decision.OPT_OUT: "deny"}
# Sorts a consent without a readable dateTime (written by others) before every dated one.
_EPOCH = datetime(1, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ConsentRecord:
    """One stored decision, read back from its Consent."""

    consent_id: str
    channel: str | None  # None: a marketing consent (every channel)
    decision: Decision
    source: str | None
    recorded_at: datetime | None
    last_updated: datetime | None

    @property
    def purpose(self) -> Purpose:
        """Contact on the record's channel, or marketing (no channel)."""
        return Purpose.CONTACT if self.channel is not None else Purpose.MARKETING


def consent_resource(
    *, patient_id: str, channel: str | None, decision: Decision, source: ConsentSource, recorded_at: datetime
) -> Resource:
    """A new prm-consent Consent: permit (opt-in) or deny (opt-out) for contact on one channel, or with
    `channel` None for marketing on every channel."""
    when = instant(recorded_at)
    provision: Resource = {"type": _PROVISION[decision], "period": {"start": when}}
    extensions = [extension(EXT_CONSENT_SOURCE, valueCode=source.value)]
    if channel is None:
        category = CONSENT_CATEGORY_MARKETING
        provision["purpose"] = [coding(CS_ACT_REASON, PURPOSE_MARKETING)]
    else:
        category = CONSENT_CATEGORY_CONTACT
        extensions.insert(0, extension(EXT_CHANNEL, valueCode=channel))
    return {
        "resourceType": "Consent",
        "meta": meta_profile(PROFILE_CONSENT),
        "extension": extensions,
        "status": "active",
        "scope": {"coding": [coding(CONSENT_SCOPE_SYSTEM, CONSENT_SCOPE_PRIVACY)]},
        "category": [{"coding": [coding(CS_CONSENT_POLICY, category)]}],
        "patient": {"reference": f"Patient/{patient_id}"},
        "dateTime": when,
        "policyRule": {"coding": [coding(CS_CONSENT_POLICY, CONSENT_POLICY_CONTACT)]},
        "provision": provision,
    }


def _is_marketing(consent: Resource) -> bool:
    return any(
        c.get("system") == CS_CONSENT_POLICY and c.get("code") == CONSENT_CATEGORY_MARKETING
        for category in consent.get("category") or []
        for c in category.get("coding") or []
    )


def record_of(consent: Resource) -> ConsentRecord | None:
    """The decision a Consent holds, or None when it is not a contact or marketing consent we can read."""
    marketing = _is_marketing(consent)
    channel = None if marketing else extension_value(consent, EXT_CHANNEL)
    provision = consent.get("provision", {}).get("type")
    if not (marketing or isinstance(channel, str)) or provision not in ("permit", "deny"):
        return None
    source = extension_value(consent, EXT_CONSENT_SOURCE)
    return ConsentRecord(
        consent_id=str(consent.get("id", "")),
        channel=channel if isinstance(channel, str) else None,
        decision=Decision.OPT_IN if provision == "permit" else Decision.OPT_OUT,
        source=source if isinstance(source, str) else None,
        recorded_at=parse_datetime(consent.get("dateTime")),
        last_updated=parse_datetime(consent.get("meta", {}).get("lastUpdated")),
    )


def newest_first(consents: Iterable[Resource]) -> list[ConsentRecord]:
    """Readable, active contact and marketing consents, the latest by dateTime then _lastUpdated first."""
    records = [r for c in consents if c.get("status") == "active" and (r := record_of(c)) is not None]
    return sorted(records, key=lambda r: (r.recorded_at or _EPOCH, r.last_updated or _EPOCH), reverse=True)


def current_of(records: Iterable[ConsentRecord]) -> dict[str, ConsentRecord]:
    """The winning contact record per channel (records newest first)."""
    latest: dict[str, ConsentRecord] = {}
    for record in records:
        if record.channel is not None:
            latest.setdefault(record.channel, record)
    return latest


def marketing_of(records: Iterable[ConsentRecord]) -> ConsentRecord | None:
    """The winning marketing record (records newest first); None: never asked, marketing is allowed."""
    return next((r for r in records if r.purpose is Purpose.MARKETING), None)
