"""Campaign analytics, read from HAPI: every message of the campaign's runs, the replies on their threads
and the campaign-sourced opportunities booked within the attribution window, per variant.

Definitions (docs/campaigns.md): targeted = members a run has a message for; suppressed = left out for
consent (opted out of the channel, or no opt-in at send time), do not disturb (opted out of
marketing), no number, or waiting for quiet hours to end (on-hold
now); failed = refused for another reason (the provider rejected it); sent = completed; delivered and
read from the delivery status; replied = the patient wrote on the thread after it was sent; booked = the
patient has an opportunity with source `campaign` at stage booked or won, opened within
`attribution_days` after the send.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.campaigns.resources import Campaign
from app.fhir.builders import code_in, instant
from app.fhir.canonical import CS_OPPORTUNITY_STAGE, PROFILE_OPPORTUNITY
from app.fhir.client import FhirClient, Resource
from app.fhir.dates import parse_datetime
from app.fhir.query import MAX_PAGE_SIZE
from app.messaging.resources import MARKETING_OPT_OUT, Message, message_of

# Threads per reply search (the query string stays short).
THREADS_PER_SEARCH = 50
CONSENT_REASONS = ("opted-out", "no-consent")
BOOKED_STAGES = ("booked", "won")


@dataclass
class Figures:
    """The counts of one variant, or of the whole campaign."""

    targeted: int = 0
    suppressed: dict[str, int] = field(
        default_factory=lambda: {"consent": 0, "dnd": 0, "quiet_hours": 0, "no_number": 0}
    )
    failed: int = 0
    pending: int = 0
    sent: int = 0
    delivered: int = 0
    read: int = 0
    replied: int = 0
    booked: int = 0


@dataclass(frozen=True)
class Report:
    """A campaign's figures, overall and per variant, over its runs."""

    runs: int
    total: Figures
    variants: dict[str, Figures]


async def report(fhir: FhirClient, campaign: Campaign, *, run_ids: list[str]) -> Report:
    """Count what the campaign's runs did."""
    messages = [
        message_of(c)
        for batch in await asyncio.gather(*(_messages_of(fhir, run_id) for run_id in run_ids))
        for c in batch
    ]
    replied = await _replied(fhir, messages)
    booked = await _booked(fhir, messages, days=campaign.attribution_days)
    total = Figures()
    variants = {v.name: Figures() for v in campaign.variants}
    for message in messages:
        patient = message.patient_id or ""
        variant = campaign.variant_for(patient).name
        for figures in (total, variants[variant]):
            _count(figures, message, replied=message.id in replied, booked=message.id in booked)
    return Report(runs=len(run_ids), total=total, variants=variants)


def _count(figures: Figures, message: Message, *, replied: bool, booked: bool) -> None:
    figures.targeted += 1
    if message.status == "not-done":
        if message.reason in CONSENT_REASONS:
            figures.suppressed["consent"] += 1
        elif message.reason == MARKETING_OPT_OUT:
            figures.suppressed["dnd"] += 1
        elif message.reason == "no-address":
            figures.suppressed["no_number"] += 1
        else:
            figures.failed += 1
    elif message.status == "on-hold":
        figures.suppressed["quiet_hours"] += 1
    elif message.status == "completed":
        figures.sent += 1
        figures.delivered += message.delivery_status in ("delivered", "read")
        figures.read += message.delivery_status == "read"
        figures.replied += replied
        figures.booked += booked
    else:
        figures.pending += 1


async def _messages_of(fhir: FhirClient, run_id: str) -> list[Resource]:
    return await fhir.search(
        "Communication", [("based-on", f"CommunicationRequest/{run_id}"), ("_count", str(MAX_PAGE_SIZE))]
    )


async def _replied(fhir: FhirClient, messages: list[Message]) -> set[str]:
    """The sent messages the patient answered on the same thread."""
    sent: dict[str, tuple[str, datetime]] = {
        m.thread_id: (m.id, m.sent_at) for m in messages if m.sent_at and m.thread_id
    }
    threads = sorted(sent)
    answered: set[str] = set()
    for start in range(0, len(threads), THREADS_PER_SEARCH):
        chunk = threads[start : start + THREADS_PER_SEARCH]
        earliest = min(sent[t][1] for t in chunk)
        inbound = await fhir.search(
            "Communication",
            [
                ("conversation-thread", ",".join(chunk)),
                ("received", f"gt{instant(earliest)}"),
                ("_count", str(MAX_PAGE_SIZE)),
            ],
        )
        for reply in map(message_of, inbound):
            message_id, sent_at = sent.get(reply.thread_id or "", ("", None))
            if sent_at is not None and reply.sent_at is not None and reply.sent_at > sent_at:
                answered.add(message_id)
    return answered


async def _booked(fhir: FhirClient, messages: list[Message], *, days: int) -> set[str]:
    """The sent messages followed within `days` by a booked campaign-sourced opportunity of the patient."""
    sent = [m for m in messages if m.sent_at and m.patient_id]
    if not sent or days <= 0:
        return set()
    earliest = min(m.sent_at for m in sent if m.sent_at is not None)
    leads = await fhir.search(
        "Task",
        [
            ("_profile", PROFILE_OPPORTUNITY),
            ("source-channel", "campaign"),
            ("authored-on", f"ge{instant(earliest)}"),
            ("_count", str(MAX_PAGE_SIZE)),
        ],
    )
    times: dict[str, list[datetime]] = {}
    for lead in leads:
        patient = str((lead.get("for") or {}).get("reference", "")).removeprefix("Patient/")
        stage = code_in(lead.get("businessStatus"), CS_OPPORTUNITY_STAGE)
        authored = parse_datetime(lead.get("authoredOn"))
        if stage in BOOKED_STAGES and authored is not None:
            times.setdefault(patient, []).append(authored)
    window = timedelta(days=days)
    return {
        m.id
        for m in sent
        if m.sent_at is not None
        and any(m.sent_at <= t <= m.sent_at + window for t in times.get(m.patient_id or "", []))
    }
