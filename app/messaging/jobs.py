"""Background work of messaging: send one prepared message; re-queue the ones whose send job was lost."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

from app.config import Settings
from app.fhir.builders import instant
from app.fhir.canonical import PROFILE_COMMUNICATION
from app.fhir.client import FhirClient
from app.messaging import sending
from app.messaging.rules import SendPolicy, quiet_hours_end
from app.messaging.sending import send_job_id
from app.ports.jobs import Job, JobQueue
from app.ports.messaging import Messenger

log = structlog.get_logger(__name__)

# A message still in preparation (or on hold after quiet hours) this long after its last write lost
# its send job.
PENDING_GRACE_SECONDS = 60
# Older ones are left alone: their job ran out of retries (rq's failed-job list shows them).
PENDING_LOOKBACK_HOURS = 24


def send_policy(settings: Settings) -> SendPolicy:
    """The sending rules the settings configure."""
    return SendPolicy(
        timezone=ZoneInfo(settings.default_timezone),
        quiet_start=settings.quiet_hours_start,
        quiet_end=settings.quiet_hours_end,
        window_hours=settings.session_window_hours,
        content_sids=settings.twilio_content_sids,
    )


async def send_message(
    *,
    fhir: FhirClient,
    queue: JobQueue,
    messenger: Messenger,
    policy: SendPolicy,
    communication: str,
    now: datetime,
) -> str:
    """Send one prepared Communication by id (nothing happens if it was sent, refused or claimed)."""
    outcome = await sending.send_message(
        fhir=fhir, queue=queue, messenger=messenger, policy=policy, communication_id=communication, now=now
    )
    return outcome.value


async def requeue_pending_sends(
    *, fhir: FhirClient, queue: JobQueue, policy: SendPolicy, now: datetime
) -> int:
    """Queue the send job of every message left in preparation (its enqueue failed), and, once quiet
    hours are over, of every message still on hold (its deferred job ran early or was lost); a job
    already queued, running or done under the same id is not queued again. How many were found."""
    quiet = quiet_hours_end(now, start=policy.quiet_start, end=policy.quiet_end, tz=policy.timezone)
    pending = await fhir.search(
        "Communication",
        [
            ("_profile", PROFILE_COMMUNICATION),
            ("status", "preparation" if quiet else "preparation,on-hold"),
            ("_lastUpdated", f"lt{instant(now - timedelta(seconds=PENDING_GRACE_SECONDS))}"),
            ("_lastUpdated", f"gt{instant(now - timedelta(hours=PENDING_LOOKBACK_HOURS))}"),
        ],
    )
    for message in pending:
        job_id = send_job_id(message["id"])
        if message.get("status") == "on-hold":
            job_id = f"{job_id}-resume-{now.astimezone(policy.timezone):%Y%m%d}"
        await queue.enqueue(Job.SEND_MESSAGE, {"communication": message["id"]}, job_id=job_id)
    if pending:
        log.info("job.pending_sends.requeued", messages=len(pending))
    return len(pending)
