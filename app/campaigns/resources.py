"""The FHIR shape of a campaign (CommunicationRequest, profile prm-campaign), of its runs (prm-campaign-run,
basedOn the campaign) and of a recipient left out before a message existed (a `not-done` Communication).

A campaign: status active | on-hold (paused) | completed (its one run is done) | revoked (cancelled);
recipient the segment (Group); medium and the channel extension its channel; occurrencePeriod.start its
first run; the `campaign` extension its name, template and variables per variant, schedule and window.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, time
from enum import StrEnum
from typing import Any

from app.fhir.builders import coding, extension, extension_value, instant, meta_profile
from app.fhir.canonical import (
    CS_ACT_REASON,
    CS_CHANNEL,
    CS_MESSAGE_STATUS_REASON,
    EXT_CAMPAIGN,
    EXT_CHANNEL,
    PROFILE_CAMPAIGN,
    PROFILE_CAMPAIGN_RUN,
    PROFILE_COMMUNICATION,
    PURPOSE_MARKETING,
    SID_CAMPAIGN_RUN,
    SID_MESSAGE_KEY,
)
from app.fhir.client import Resource
from app.fhir.dates import parse_datetime


class Schedule(StrEnum):
    """When a campaign runs: once (at its start), every day or on weekdays at its start's local time."""

    ONCE = "once"
    DAILY = "daily"
    WEEKLY = "weekly"


class Status(StrEnum):
    """A campaign's CommunicationRequest.status."""

    ACTIVE = "active"
    PAUSED = "on-hold"
    COMPLETED = "completed"
    CANCELLED = "revoked"


FINISHED = (Status.COMPLETED, Status.CANCELLED)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Variant:
    """One version of the message: a template and the variables every recipient shares."""

    name: str
    template: str
    variables: dict[str, str]


@dataclass(frozen=True)
class Campaign:
    """A stored campaign."""

    id: str
    name: str
    status: str
    channel: str
    segment_id: str
    variants: tuple[Variant, ...]
    split_b: int
    languages: tuple[str, ...]
    schedule: Schedule
    start: datetime
    end: datetime | None
    weekdays: tuple[str, ...]
    window_start: time | None
    window_end: time | None
    attribution_days: int
    created: datetime | None

    def variant_for(self, patient_id: str) -> Variant:
        """The patient's variant: a stable hash of campaign and patient, the same on every run."""
        if len(self.variants) == 1:
            return self.variants[0]
        digest = hashlib.sha256(f"{self.id}:{patient_id}".encode()).digest()
        return (
            self.variants[1] if int.from_bytes(digest[:4], "big") % 100 < self.split_b else self.variants[0]
        )


@dataclass(frozen=True)
class Run:
    """One run of a campaign."""

    id: str
    campaign_id: str
    status: str
    at: datetime | None


def _parts(campaign: Campaign) -> list[Resource]:
    a = campaign.variants[0]
    parts: list[Resource] = [
        {"url": "name", "valueString": campaign.name},
        {"url": "template", "valueString": a.template},
        {"url": "variables", "valueString": json.dumps(a.variables, ensure_ascii=False)},
    ]
    if len(campaign.variants) > 1:
        b = campaign.variants[1]
        parts += [
            {"url": "templateB", "valueString": b.template},
            {"url": "variablesB", "valueString": json.dumps(b.variables, ensure_ascii=False)},
            {"url": "splitB", "valueInteger": campaign.split_b},
        ]
    parts += [{"url": "language", "valueCode": code} for code in campaign.languages]
    parts.append({"url": "schedule", "valueCode": campaign.schedule.value})
    parts += [{"url": "weekday", "valueCode": day} for day in campaign.weekdays]
    if campaign.window_start and campaign.window_end:
        parts += [
            {"url": "windowStart", "valueTime": campaign.window_start.isoformat()},
            {"url": "windowEnd", "valueTime": campaign.window_end.isoformat()},
        ]
    parts.append({"url": "attributionDays", "valueInteger": campaign.attribution_days})
    return parts


def campaign_resource(campaign: Campaign) -> Resource:
    """The prm-campaign CommunicationRequest of a campaign (its id, if any, is left out)."""
    period = {"start": instant(campaign.start)}
    if campaign.end:
        period["end"] = instant(campaign.end)
    resource: Resource = {
        "resourceType": "CommunicationRequest",
        "meta": meta_profile(PROFILE_CAMPAIGN),
        "extension": [
            extension(EXT_CHANNEL, valueCode=campaign.channel),
            {"url": EXT_CAMPAIGN, "extension": _parts(campaign)},
        ],
        "status": campaign.status,
        "medium": [{"coding": [coding(CS_CHANNEL, campaign.channel)]}],
        "occurrencePeriod": period,
        "recipient": [{"reference": f"Group/{campaign.segment_id}"}],
    }
    if campaign.created:
        resource["authoredOn"] = instant(campaign.created)
    return resource


def _time(value: object) -> time | None:
    try:
        return time.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _variables(value: object) -> dict[str, str]:
    try:
        loaded = json.loads(str(value or "{}"))
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def campaign_of(resource: Resource) -> Campaign:
    """A stored prm-campaign read back."""
    parts: dict[str, list[Any]] = {}
    ext: Resource = next((e for e in resource.get("extension", []) if e.get("url") == EXT_CAMPAIGN), {})
    for part in ext.get("extension", []):
        value = next((v for k, v in part.items() if k.startswith("value")), None)
        parts.setdefault(str(part.get("url")), []).append(value)

    def one(name: str) -> Any:
        return (parts.get(name) or [None])[0]

    variants = [Variant("A", str(one("template") or ""), _variables(one("variables")))]
    if one("templateB"):
        variants.append(Variant("B", str(one("templateB")), _variables(one("variablesB"))))
    period = resource.get("occurrencePeriod") or {}
    recipient = str(((resource.get("recipient") or [{}])[0]).get("reference", ""))
    return Campaign(
        id=str(resource.get("id", "")),
        name=str(one("name") or ""),
        status=str(resource.get("status", "")),
        channel=str(extension_value(resource, EXT_CHANNEL) or ""),
        segment_id=recipient.removeprefix("Group/"),
        variants=tuple(variants),
        split_b=int(one("splitB") or 0),
        languages=tuple(str(c) for c in parts.get("language", [])),
        schedule=Schedule(one("schedule") or Schedule.ONCE),
        start=parse_datetime(period.get("start")) or datetime.min,
        end=parse_datetime(period.get("end")),
        weekdays=tuple(str(d) for d in parts.get("weekday", [])),
        window_start=_time(one("windowStart")),
        window_end=_time(one("windowEnd")),
        attribution_days=int(one("attributionDays") or 0),
        created=parse_datetime(resource.get("authoredOn")),
    )


def run_key(campaign_id: str, at: datetime) -> str:
    """A run's identifier: one per campaign and scheduled time (UTC, to the minute)."""
    return f"{campaign_id}/{at.astimezone(UTC):%Y%m%dT%H%M}"


def run_resource(campaign: Campaign, *, at: datetime, created: datetime) -> Resource:
    """A new prm-campaign-run of the campaign for its occurrence `at`."""
    return {
        "resourceType": "CommunicationRequest",
        "meta": meta_profile(PROFILE_CAMPAIGN_RUN),
        "extension": [extension(EXT_CHANNEL, valueCode=campaign.channel)],
        "identifier": [{"system": SID_CAMPAIGN_RUN, "value": run_key(campaign.id, at)}],
        "basedOn": [{"reference": f"CommunicationRequest/{campaign.id}"}],
        "status": "active",
        "medium": [{"coding": [coding(CS_CHANNEL, campaign.channel)]}],
        "occurrenceDateTime": instant(at),
        "authoredOn": instant(created),
        "recipient": [{"reference": f"Group/{campaign.segment_id}"}],
    }


def run_of(resource: Resource) -> Run:
    """A stored run read back."""
    based_on = str(((resource.get("basedOn") or [{}])[0]).get("reference", ""))
    return Run(
        id=str(resource.get("id", "")),
        campaign_id=based_on.removeprefix("CommunicationRequest/"),
        status=str(resource.get("status", "")),
        at=parse_datetime(resource.get("occurrenceDateTime")),
    )


def message_key(run_id: str, patient_id: str) -> str:
    """The message-key of a run's message to a patient: at most one each."""
    return f"campaign-run/{run_id}/{patient_id}"


def left_out(*, run: Run, channel: str, patient_id: str, reason: str) -> Resource:
    """A `not-done` Communication for a recipient the campaign could not message (opted out, no number),
    so the run counts them and a replay does not try again."""
    return {
        "resourceType": "Communication",
        "meta": meta_profile(PROFILE_COMMUNICATION),
        "extension": [extension(EXT_CHANNEL, valueCode=channel)],
        "identifier": [{"system": SID_MESSAGE_KEY, "value": message_key(run.id, patient_id)}],
        "basedOn": [{"reference": f"CommunicationRequest/{run.id}"}],
        "status": "not-done",
        "statusReason": {"coding": [coding(CS_MESSAGE_STATUS_REASON, reason)]},
        "category": [{"coding": [coding(CS_ACT_REASON, PURPOSE_MARKETING)]}],
        "medium": [{"coding": [coding(CS_CHANNEL, channel)]}],
        "subject": {"reference": f"Patient/{patient_id}"},
        "recipient": [{"reference": f"Patient/{patient_id}"}],
    }
