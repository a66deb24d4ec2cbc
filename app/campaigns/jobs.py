"""The campaigns' background work: open due runs (periodic), dispatch a run, prepare one batch."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from app.campaigns import runs
from app.config import Settings
from app.fhir.client import FhirClient
from app.messaging import throttle
from app.ports.jobs import JobQueue
from app.ports.state import StateStore


def pace_of(settings: Settings) -> runs.Pace:
    """The campaigns' batch size and send rate per sender (shared by every run on that sender)."""
    return runs.Pace(
        per_second=settings.campaign_messages_per_second,
        batch=settings.campaign_batch_size,
        senders=throttle.senders(settings),
    )


async def run_due_campaigns(*, fhir: FhirClient, queue: JobQueue, now: datetime, timezone: str) -> list[str]:
    """Open the run every active campaign has due by now (each once); their ids."""
    return await runs.run_due_campaigns(fhir, queue, now=now, tz=ZoneInfo(timezone))


async def dispatch_campaign_run(
    *,
    fhir: FhirClient,
    state: StateStore,
    queue: JobQueue,
    now: datetime,
    timezone: str,
    pace: runs.Pace,
    run: str,
    round: int = 0,
    **payload: str,
) -> str:
    """One round of a run: batches of the members not messaged yet in the sender's next free slot, then
    the next round (the payload's `pass` tells a resumed run's jobs from the first ones)."""
    return await runs.dispatch_run(
        fhir,
        state,
        queue,
        run_id=run,
        round_=round,
        pass_=str(payload.get("pass", "0")),
        now=now,
        tz=ZoneInfo(timezone),
        pace=pace,
    )


async def send_campaign_batch(
    *,
    fhir: FhirClient,
    state: StateStore,
    queue: JobQueue,
    now: datetime,
    timezone: str,
    window_hours: int,
    pace: runs.Pace,
    run: str,
    patients: list[str],
) -> dict[str, int]:
    """Prepare the run's message to each patient of a batch (none twice)."""
    return await runs.send_batch(
        fhir,
        state,
        queue,
        run_id=run,
        patients=patients,
        now=now,
        tz=ZoneInfo(timezone),
        window_hours=window_hours,
        pace=pace,
    )
