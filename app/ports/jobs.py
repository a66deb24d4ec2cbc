"""Background work: the JobQueue port and the one list of jobs the workers run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class QueueUnavailable(Exception):
    """The job queue (Redis) cannot take work right now; callers answer 503 so senders retry."""


class Job(StrEnum):
    """Every job a worker can run; the registry in `workers/registry.py` maps each to its function."""

    EXTEND_SLOT_HORIZONS = "extend_slot_horizons"
    RELEASE_EXPIRED_HOLDS = "release_expired_holds"
    HANDLE_CHANGE = "handle_change"
    SWEEP_CHANGES = "sweep_changes"
    SEND_MESSAGE = "send_message"  # one outbound Communication, by id
    RECEIVE_MESSAGE = "receive_message"  # one inbound message (app.ports.inbound.InboundMessage)
    RECORD_DELIVERY_STATUS = "record_delivery_status"  # one provider delivery report (DeliveryReport)
    REQUEUE_PENDING_SENDS = "requeue_pending_sends"  # messages whose send job was lost
    SEND_DUE_REMINDERS = "send_due_reminders"  # appointment reminders due by now
    ESCALATE_OVERDUE_TICKETS = "escalate_overdue_tickets"  # tickets past their SLA due time
    LOSE_CANCELLED_OPPORTUNITIES = "lose_cancelled_opportunities"  # leads cancelled and never rebooked
    PROCESS_VOICE_EVENT = "process_voice_event"  # one post-call event (app.ports.voice.VoiceEvent)
    RUN_JOURNEY_ACTIONS = "run_journey_actions"  # journey stage actions due by now
    ANSWER_MESSAGE = "answer_message"  # the WhatsApp bot's turn on one stored inbound Communication
    REMIND_HIGH_RISK = "remind_high_risk"  # extra reminders for appointments at high no-show risk
    OPEN_CARE_GAP_TICKETS = "open_care_gap_tickets"  # an outreach ticket per care gap found
    OFFER_NEW_SLOTS = "offer_new_slots"  # slots opened by new hours, offered to the waitlist (one range)
    START_INTAKE = "start_intake"  # the WhatsApp bot asks a patient an intake questionnaire (journey action)
    ROLL_UP_ANALYTICS_DAY = "roll_up_analytics_day"  # one report kind's closed day, after a change to it
    ROLL_UP_ANALYTICS = "roll_up_analytics"  # every report kind over closed days (nightly: yesterday)
    RUN_DUE_CAMPAIGNS = "run_due_campaigns"  # open the run each active campaign has due
    DISPATCH_CAMPAIGN_RUN = "dispatch_campaign_run"  # one round of a campaign run: paced batches
    SEND_CAMPAIGN_BATCH = "send_campaign_batch"  # prepare a run's message to a batch of patient ids


class Lane(StrEnum):
    """The queue a job waits in. Workers take jobs from the lanes in this order, strictly: care before
    marketing, so a bulk import's change-feed backlog or a campaign never delays a patient's turn."""

    LIVE = "live"  # someone is waiting: an inbound message, the bot's turn, a send, a call's events
    FEED = "feed"  # the change feed and periodic upkeep (reminders, holds, tickets, journeys)
    BULK = "bulk"  # campaigns and report roll-ups: they wait behind the care the change feed carries


# Every job's lane (a unit test checks the table covers every Job).
JOB_LANES: dict[Job, Lane] = {
    Job.RECEIVE_MESSAGE: Lane.LIVE,
    Job.ANSWER_MESSAGE: Lane.LIVE,
    Job.PROCESS_VOICE_EVENT: Lane.LIVE,
    Job.SEND_MESSAGE: Lane.LIVE,
    Job.RECORD_DELIVERY_STATUS: Lane.LIVE,
    Job.START_INTAKE: Lane.LIVE,
    Job.RELEASE_EXPIRED_HOLDS: Lane.LIVE,
    Job.SEND_DUE_REMINDERS: Lane.LIVE,
    Job.HANDLE_CHANGE: Lane.FEED,
    Job.SWEEP_CHANGES: Lane.FEED,
    Job.EXTEND_SLOT_HORIZONS: Lane.FEED,
    Job.REQUEUE_PENDING_SENDS: Lane.FEED,
    Job.ESCALATE_OVERDUE_TICKETS: Lane.FEED,
    Job.LOSE_CANCELLED_OPPORTUNITIES: Lane.FEED,
    Job.RUN_JOURNEY_ACTIONS: Lane.FEED,
    Job.REMIND_HIGH_RISK: Lane.FEED,
    Job.OFFER_NEW_SLOTS: Lane.FEED,
    Job.OPEN_CARE_GAP_TICKETS: Lane.BULK,
    Job.ROLL_UP_ANALYTICS_DAY: Lane.BULK,
    Job.ROLL_UP_ANALYTICS: Lane.BULK,
    Job.RUN_DUE_CAMPAIGNS: Lane.BULK,
    Job.DISPATCH_CAMPAIGN_RUN: Lane.BULK,
    Job.SEND_CAMPAIGN_BATCH: Lane.BULK,
}


@dataclass(frozen=True)
class FailedJob:
    """A job that exhausted its retries (no payload: it may carry PHI)."""

    id: str
    name: str
    enqueued_at: datetime | None
    failed_at: datetime | None
    error_type: str
    attempts: int


class JobQueue(Protocol):
    """Background work: jobs take ids or small JSON, re-read state and are idempotent."""

    async def enqueue(
        self, job: Job, payload: dict[str, Any], *, job_id: str | None = None, at: datetime | None = None
    ) -> str:
        """Queue `job` with `payload` (to run at `at`, if given); a repeated `job_id` is not queued
        twice. Returns the job id."""
        ...

    async def failed_jobs(self, *, limit: int = 50) -> list[FailedJob]:
        """Jobs that failed after their last retry, newest first."""
        ...
