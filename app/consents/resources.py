"""The FHIR shape of a contact consent (profile prm-consent) and how to read one back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from app.fhir.builders import coding, extension, extension_value, instant, meta_profile
from app.fhir.canonical import (
    CONSENT_CATEGORY_CONTACT,
    CONSENT_POLICY_CONTACT,
    CONSENT_SCOPE_PRIVACY,
    CONSENT_SCOPE_SYSTEM,
    CS_CONSENT_POLICY,
    EXT_CHANNEL,
    EXT_CONSENT_SOURCE,
    PROFILE_CONSENT,
)
from app.fhir.client import Resource
from app.fhir.dates import parse_datetime
from app.vocabulary import ContactChannel


class Decision(StrEnum):
    """A patient's answer for one channel."""

    OPT_IN = "opt-in"
    OPT_OUT = "opt-out"


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
    channel: str
    decision: Decision
    source: str | None
    recorded_at: datetime | None
    last_updated: datetime | None


def consent_resource(
    *, patient_id: str, channel: str, decision: Decision, source: ConsentSource, recorded_at: datetime
) -> Resource:
    """A new prm-consent Consent: permit (opt-in) or deny (opt-out) for contact on one channel."""
    when = instant(recorded_at)
    return {
        "resourceType": "Consent",
        "meta": meta_profile(PROFILE_CONSENT),
        "extension": [
            extension(EXT_CHANNEL, valueCode=channel),
            extension(EXT_CONSENT_SOURCE, valueCode=source.value),
        ],
        "status": "active",
        "scope": {"coding": [coding(CONSENT_SCOPE_SYSTEM, CONSENT_SCOPE_PRIVACY)]},
        "category": [{"coding": [coding(CS_CONSENT_POLICY, CONSENT_CATEGORY_CONTACT)]}],
        "patient": {"reference": f"Patient/{patient_id}"},
        "dateTime": when,
        "policyRule": {"coding": [coding(CS_CONSENT_POLICY, CONSENT_POLICY_CONTACT)]},
        "provision": {"type": _PROVISION[decision], "period": {"start": when}},
    }


def record_of(consent: Resource) -> ConsentRecord | None:
    """The decision a Consent holds, or None when it is not a contact consent we can read."""
    channel = extension_value(consent, EXT_CHANNEL)
    provision = consent.get("provision", {}).get("type")
    if not isinstance(channel, str) or provision not in ("permit", "deny"):
        return None
    source = extension_value(consent, EXT_CONSENT_SOURCE)
    return ConsentRecord(
        consent_id=str(consent.get("id", "")),
        channel=channel,
        decision=Decision.OPT_IN if provision == "permit" else Decision.OPT_OUT,
        source=source if isinstance(source, str) else None,
        recorded_at=parse_datetime(consent.get("dateTime")),
        last_updated=parse_datetime(consent.get("meta", {}).get("lastUpdated")),
    )


def newest_first(consents: Iterable[Resource]) -> list[ConsentRecord]:
    """Readable, active contact consents, the latest by dateTime then _lastUpdated first."""
    records = [r for c in consents if c.get("status") == "active" and (r := record_of(c)) is not None]
    return sorted(records, key=lambda r: (r.recorded_at or _EPOCH, r.last_updated or _EPOCH), reverse=True)


def current_of(records: Iterable[ConsentRecord]) -> dict[str, ConsentRecord]:
    """The winning record per channel (records newest first)."""
    latest: dict[str, ConsentRecord] = {}
    for record in records:
        latest.setdefault(record.channel, record)
    return latest
