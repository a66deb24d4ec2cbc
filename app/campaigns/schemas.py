"""API models of campaigns."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from app.campaigns.analytics import Figures, Report
from app.campaigns.resources import Campaign, Schedule, Variant
from app.inputs import FhirId, InputModel, Instant
from app.messaging.catalog import NAME_PATTERN

Text = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class VariantIn(InputModel):
    """A version of the message: a template of the catalog and the variables every recipient shares
    (patient_name is filled in for each patient)."""

    template: Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
    variables: dict[Annotated[str, StringConstraints(pattern=NAME_PATTERN)], Text] = Field(
        default_factory=dict
    )


class WindowIn(InputModel):
    """Local times (clinic time zone) between which messages are prepared; start after end spans midnight."""

    start: time
    end: time

    @field_validator("start", "end")
    @classmethod
    def _local(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("a local time of the clinic, without an offset (e.g. 10:00)")
        return value


class CampaignIn(InputModel):
    """A campaign: a segment, a channel, one or two variants, a schedule and an optional send window."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    segment: FhirId
    channel: Literal["whatsapp", "sms", "email"]
    variants: list[VariantIn] = Field(min_length=1, max_length=2, description="A, and optionally B")
    split_b: int = Field(default=50, ge=0, le=100, description="Percent of patients who get variant B")
    languages: list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]] = Field(
        default_factory=list, description="Languages to send in (others get English); empty: every one"
    )
    schedule: Schedule = Schedule.ONCE
    start: Instant | None = Field(default=None, description="First (or only) run; default now")
    end: Instant | None = None
    weekdays: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(default_factory=list)
    window: WindowIn | None = None
    attribution_days: int = Field(default=14, ge=0, le=365)

    @model_validator(mode="after")
    def _window(self) -> CampaignIn:
        if self.window is not None and self.window.start == self.window.end:
            raise ValueError("window: start and end must differ")
        return self

    def variant_list(self) -> list[Variant]:
        """The variants, named A and B."""
        return [Variant(n, v.template, dict(v.variables)) for n, v in zip("AB", self.variants, strict=False)]


class WindowOut(BaseModel):
    """The send window as stored: local times of the clinic, HH:MM (JSON Schema's "time" format needs an
    offset, which a clinic-local time has not)."""

    start: str = Field(pattern=r"^\d{2}:\d{2}$", description="Local time HH:MM")
    end: str = Field(pattern=r"^\d{2}:\d{2}$", description="Local time HH:MM")


class VariantOut(BaseModel):
    """A variant as stored."""

    name: str
    template: str
    variables: dict[str, str]


class CampaignOut(BaseModel):
    """A campaign (a prm-campaign CommunicationRequest)."""

    id: str
    name: str
    status: Literal["active", "paused", "completed", "cancelled"]
    segment: str
    channel: str
    variants: list[VariantOut]
    split_b: int
    languages: list[str]
    schedule: Schedule
    start: datetime
    end: datetime | None
    weekdays: list[str]
    window: WindowOut | None
    attribution_days: int

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignOut:
        """The API view."""
        statuses = {"active": "active", "on-hold": "paused", "completed": "completed", "revoked": "cancelled"}
        window = (
            WindowOut(start=f"{campaign.window_start:%H:%M}", end=f"{campaign.window_end:%H:%M}")
            if campaign.window_start and campaign.window_end
            else None
        )
        return cls(
            id=campaign.id,
            name=campaign.name,
            status=statuses.get(campaign.status, "cancelled"),
            segment=campaign.segment_id,
            channel=campaign.channel,
            variants=[
                VariantOut(name=v.name, template=v.template, variables=v.variables) for v in campaign.variants
            ],
            split_b=campaign.split_b,
            languages=list(campaign.languages),
            schedule=campaign.schedule,
            start=campaign.start,
            end=campaign.end,
            weekdays=list(campaign.weekdays),
            window=window,
            attribution_days=campaign.attribution_days,
        )


class SuppressedOut(BaseModel):
    """Recipients left out, by reason."""

    consent: int = Field(description="Opted out of the channel (STOP), or no opt-in at send time")
    dnd: int = Field(description="Opted out of marketing (do not disturb), on any channel")
    quiet_hours: int = Field(description="Waiting now for quiet hours to end (sent when they do)")
    no_number: int


class FiguresOut(BaseModel):
    """The counts of a campaign or of one variant."""

    targeted: int
    suppressed: SuppressedOut
    failed: int
    pending: int
    sent: int
    delivered: int
    read: int
    replied: int
    booked: int

    @classmethod
    def of(cls, figures: Figures) -> FiguresOut:
        """The API view."""
        values = {**figures.__dict__, "suppressed": SuppressedOut(**figures.suppressed)}
        return cls(**values)


class AnalyticsOut(BaseModel):
    """What a campaign's runs did, overall and per variant."""

    campaign: str
    runs: int
    attribution_days: int
    total: FiguresOut
    variants: dict[str, FiguresOut]

    @classmethod
    def of(cls, campaign: Campaign, report: Report) -> AnalyticsOut:
        """The API view."""
        return cls(
            campaign=campaign.id,
            runs=report.runs,
            attribution_days=campaign.attribution_days,
            total=FiguresOut.of(report.total),
            variants={name: FiguresOut.of(f) for name, f in report.variants.items()},
        )


class RunOut(BaseModel):
    """One run of a campaign."""

    id: str
    status: str
    at: datetime | None
