"""API models of the reports (the JSON bodies; `Accept: text/csv` gets the same figures as CSV)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class _Report(BaseModel):
    """The period every report covers: local days of the clinic's time zone, both ends included."""

    start: date
    end: date
    timezone: str
    total: int


class AppointmentDay(BaseModel):
    """One local day's appointments."""

    date: date
    total: int
    by_status: dict[str, int]
    by_channel: dict[str, int]
    by_department: dict[str, int]
    by_practitioner: dict[str, int]
    by_location: dict[str, int]


class AppointmentsReport(_Report):
    """Appointments by status, booking channel, department, practitioner and location, per day and in all.
    `cancellation_rate`: cancelled of those booked; `no_show_rate`: no-shows of the visits with a known outcome."""

    by_status: dict[str, int]
    by_channel: dict[str, int]
    by_department: dict[str, int]
    by_practitioner: dict[str, int]
    by_location: dict[str, int]
    cancellation_rate: float | None
    no_show_rate: float | None
    days: list[AppointmentDay]


class FunnelStage(BaseModel):
    """How many leads reached a stage."""

    stage: str
    reached: int


class SourceConversion(BaseModel):
    """Leads of one source channel; converted = booked or won."""

    source: str
    total: int
    converted: int
    won: int
    lost: int
    conversion_rate: float | None


class LeadsReport(_Report):
    """Leads created in the period: current stages, the funnel and conversion by source."""

    by_stage: dict[str, int]
    funnel: list[FunnelStage]
    by_source: list[SourceConversion]
    conversion_rate: float | None


class Sla(BaseModel):
    """Tickets with a due time: resolved by it (met), not (breached: resolved late or still open past it),
    or open and not yet due (pending); compliance = met / (met + breached)."""

    with_due: int
    met: int
    breached: int
    pending: int
    compliance_rate: float | None


class TicketsReport(_Report):
    """Tickets opened in the period."""

    by_category: dict[str, int]
    by_priority: dict[str, int]
    by_status: dict[str, int]
    sla: Sla
    resolved: int
    median_hours_to_resolve: float | None


class ChannelMessages(BaseModel):
    """Messages on one channel; the rates are of the outbound ones."""

    channel: str
    inbound: int
    outbound: int
    delivered: int
    read: int
    failed: int
    delivery_rate: float | None
    read_rate: float | None


class MessagesReport(_Report):
    """Messages sent or received in the period, by channel."""

    by_channel: list[ChannelMessages]


class CallsReport(_Report):
    """Voice calls in the period by direction and outcome (`status` or `status:reason`)."""

    by_direction: dict[str, int]
    by_outcome: dict[str, int]
