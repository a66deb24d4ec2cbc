"""Consent use cases: whether a patient agreed to be contacted on a channel, and to be sent marketing.

Every decision is a NEW Consent; earlier ones are kept unchanged (status stays `active`) as the
history, and the latest by `dateTime`, then `_lastUpdated`, wins. Nothing is ever set `inactive`,
so recording is a single create with no race on older resources, and every reader (`current`,
`may_contact`, `opt_out_of`) applies the same latest-wins rule. Marketing (campaigns) is
one more decision across channels: an opt-out of it (do not disturb) stops campaigns only, while a
channel's opt-out (STOP) stops everything on that channel, marketing included.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog

from app.consents.resources import (
    CONSENT_CHANNELS,
    ConsentRecord,
    ConsentSource,
    Decision,
    Purpose,
    consent_resource,
    current_of,
    marketing_of,
    newest_first,
    record_of,
)
from app.errors import Invalid
from app.fhir.builders import Actor
from app.fhir.client import FhirClient
from app.fhir.records import create_with_provenance, require
from app.vocabulary import ContactChannel

log = structlog.get_logger(__name__)


def _recordable(channel: str) -> str:
    if channel not in CONSENT_CHANNELS:
        allowed = ", ".join(c.value for c in CONSENT_CHANNELS)
        raise Invalid("channel", f"consents are recorded for {allowed}, not {channel!r}")
    return channel


async def history(fhir: FhirClient, *, patient_id: str) -> list[ConsentRecord]:
    """Every contact and marketing decision of the patient, newest first."""
    consents = await fhir.search("Consent", {"patient": f"Patient/{patient_id}", "status": "active"})
    return newest_first(consents)


async def overview(fhir: FhirClient, *, patient_id: str) -> list[ConsentRecord]:
    """A known patient's decisions, newest first; NotFound for an unknown patient."""
    await require(fhir, "Patient", patient_id, what="Patient")
    return await history(fhir, patient_id=patient_id)


async def current(fhir: FhirClient, *, patient_id: str) -> dict[str, Decision | None]:
    """The winning decision per contact channel (None: never asked)."""
    latest = current_of(await history(fhir, patient_id=patient_id))
    return {c.value: (latest[c.value].decision if c.value in latest else None) for c in ContactChannel}


async def marketing(fhir: FhirClient, *, patient_id: str) -> Decision | None:
    """The winning marketing decision (None: never asked; campaigns then follow the channel's consent)."""
    latest = marketing_of(await history(fhir, patient_id=patient_id))
    return latest.decision if latest else None


async def record(
    fhir: FhirClient,
    *,
    patient_id: str,
    channel: str | None,
    decision: Decision,
    source: ConsentSource,
    actors: Sequence[Actor],
    recorded_at: datetime,
) -> ConsentRecord:
    """Record a decision for a channel, or with `channel` None for marketing, as a new Consent (with
    Provenance); earlier ones stay as history."""
    if channel is not None:
        _recordable(channel)
    await require(fhir, "Patient", patient_id, what="Patient")
    resource = consent_resource(
        patient_id=patient_id, channel=channel, decision=decision, source=source, recorded_at=recorded_at
    )
    stored = await create_with_provenance(fhir, resource, actors=actors, activity="consent.record")
    log.info(
        "consent.recorded",
        patient=f"Patient/{patient_id}",
        consent=f"Consent/{stored.get('id')}",
        channel=channel or Purpose.MARKETING.value,
        decision=decision.value,
    )
    written = record_of(stored)
    assert written is not None  # we just wrote a readable one
    return written


async def ensure(
    fhir: FhirClient,
    *,
    patient_id: str,
    channel: str,
    decision: Decision,
    source: ConsentSource,
    actors: Sequence[Actor],
    recorded_at: datetime,
) -> ConsentRecord | None:
    """Record a decision unless it is already the current one (imports, seeds); the new record or None."""
    if (await current(fhir, patient_id=patient_id)).get(_recordable(channel)) == decision:
        return None
    return await record(
        fhir,
        patient_id=patient_id,
        channel=channel,
        decision=decision,
        source=source,
        actors=actors,
        recorded_at=recorded_at,
    )


def allows(decision: Decision | None, *, business_initiated: bool) -> bool:
    """The contact rule: business-initiated messages need an opt-in; replies only need no opt-out."""
    if business_initiated:
        return decision == Decision.OPT_IN
    return decision != Decision.OPT_OUT


async def may_contact(fhir: FhirClient, *, patient_id: str, channel: str, business_initiated: bool) -> bool:
    """Whether the clinic may message the patient on the channel now."""
    decision = (await current(fhir, patient_id=patient_id)).get(channel)
    return allows(decision, business_initiated=business_initiated)


def opt_out_among(records: Sequence[ConsentRecord], *, channel: str, marketing: bool) -> Purpose | None:
    """Which opt-out stops a message on the channel (records newest first): the channel's (STOP) first,
    then, for a marketing message, the marketing one; None when neither does."""
    latest = current_of(records).get(channel)
    if latest is not None and latest.decision == Decision.OPT_OUT:
        return Purpose.CONTACT
    chosen = marketing_of(records) if marketing else None
    return Purpose.MARKETING if chosen is not None and chosen.decision == Decision.OPT_OUT else None


async def opt_out_of(fhir: FhirClient, *, patient_id: str, channel: str, marketing: bool) -> Purpose | None:
    """Which of the patient's opt-outs stops a message on the channel (one search), if any."""
    return opt_out_among(await history(fhir, patient_id=patient_id), channel=channel, marketing=marketing)
