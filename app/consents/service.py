"""Consent use cases: whether a patient agreed to be contacted on a channel.

Every decision is a NEW Consent; earlier ones are kept unchanged (status stays `active`) as the
history, and the latest by `dateTime`, then `_lastUpdated`, wins. Nothing is ever set `inactive`,
so recording is a single create with no race on older resources, and every reader (`current`,
`opted_out`, `may_contact`) applies the same latest-wins rule.
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
    consent_resource,
    current_of,
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
    """Every contact decision of the patient, newest first."""
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


async def record(
    fhir: FhirClient,
    *,
    patient_id: str,
    channel: str,
    decision: Decision,
    source: ConsentSource,
    actors: Sequence[Actor],
    recorded_at: datetime,
) -> ConsentRecord:
    """Record a decision as a new Consent (with Provenance); earlier ones stay as history."""
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
        channel=channel,
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


async def opted_out(fhir: FhirClient, *, patient_id: str, channel: str) -> bool:
    """Whether the patient's winning decision for the channel is an opt-out."""
    return (await current(fhir, patient_id=patient_id)).get(channel) == Decision.OPT_OUT
