"""Running a campaign: open the run that is due, fan it out in paced batches of patient ids, and prepare
one message per patient through the messaging pipeline (which applies consent, quiet hours and the
session window per recipient when it sends).

Never twice: a run is created once per occurrence (conditional create on its identifier), each message
once per run and patient (conditional create on its message-key), and every job re-reads the campaign,
so a paused or cancelled campaign stops at its next batch. A dispatch round sends the members that have
no message of the run yet and queues the next round after its last batch: the run completes when a
round finds nobody left (or after MAX_ROUNDS, when patients keep failing).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

from app.campaigns.resources import (
    Campaign,
    Run,
    Schedule,
    Status,
    campaign_of,
    left_out,
    message_key,
    run_key,
    run_of,
    run_resource,
)
from app.campaigns.schedule import due_occurrence, window_opens
from app.errors import Conflict, Invalid, MarketingOptedOut, NotFound, OptedOut
from app.fhir.builders import Actor, AgentKind
from app.fhir.canonical import PROFILE_CAMPAIGN, SID_CAMPAIGN_RUN, SID_MESSAGE_KEY
from app.fhir.client import FhirClient, Resource
from app.fhir.errors import FhirNotFound
from app.fhir.query import MAX_PAGE_SIZE
from app.fhir.records import create_with_provenance, update_edited
from app.messaging import catalog
from app.messaging.resources import MARKETING_OPT_OUT
from app.messaging.service import prepare_template_message
from app.messaging.throttle import Reservation, reserve
from app.patients.resources import preferred_language
from app.ports.jobs import Job, JobQueue
from app.ports.state import StateStore
from app.segments import evaluate
from app.segments import service as segments

log = structlog.get_logger(__name__)

SENDER = Actor(kind=AgentKind.SYSTEM)
# A round that still finds members without a message (their preparation keeps failing) is retried this
# many times, then the run completes and the analytics show them as never targeted.
MAX_ROUNDS = 5
# Patients of one batch prepared at a time (each is a dozen HAPI calls on different resources).
PREPARE_CONCURRENCY = 4


@dataclass(frozen=True)
class Pace:
    """How fast runs go out: batches of `batch` patients, `per_second` messages a second per sender
    (the budget every run on that sender shares: app/messaging/throttle.py)."""

    per_second: float
    batch: int
    senders: Mapping[str, str] = field(default_factory=dict)

    @property
    def interval(self) -> timedelta:
        """The time one full batch takes on its sender."""
        return timedelta(seconds=self.batch / self.per_second)

    async def reserve(
        self,
        state: StateStore,
        *,
        channel: str,
        count: int,
        now: datetime,
        ticket: str,
        not_before: datetime | None = None,
    ) -> Reservation:
        """The slot `count` messages on the channel's sender get (after those other runs reserved)."""
        return await reserve(
            state, sender=self.senders.get(channel, f"{channel}:sandbox"), count=count,
            per_second=self.per_second, now=now, ticket=ticket, not_before=not_before,
        )  # fmt: skip


async def open_due_run(
    fhir: FhirClient, queue: JobQueue, campaign: Campaign, *, now: datetime, tz: ZoneInfo
) -> Run | None:
    """Create the campaign's run that is due by `now` (once per occurrence) and queue its dispatch."""
    at = due_occurrence(campaign, now=now, tz=tz)
    if at is None or campaign.status != Status.ACTIVE:
        return None
    stored = await create_with_provenance(
        fhir,
        run_resource(campaign, at=at, created=now),
        actors=[SENDER],
        activity="campaign.run",
        if_none_exist={"identifier": f"{SID_CAMPAIGN_RUN}|{run_key(campaign.id, at)}"},
    )
    run = run_of(stored)
    if run.status == "active":
        await queue.enqueue(Job.DISPATCH_CAMPAIGN_RUN, dispatch_payload(run.id), job_id=dispatch_id(run.id))
    return run


def dispatch_payload(run_id: str, *, round_: int = 0, pass_: str = "0") -> dict[str, object]:
    """What a dispatch job takes: the run, the round and the pass (a resume starts a new pass)."""
    return {"run": run_id, "round": round_, "pass": pass_}


def dispatch_id(run_id: str, *, round_: int = 0, pass_: str = "0") -> str:
    """A dispatch job's id: one per run, pass and round."""
    return f"campaign-dispatch-{run_id}-{pass_}-{round_}"


async def run_due_campaigns(fhir: FhirClient, queue: JobQueue, *, now: datetime, tz: ZoneInfo) -> list[str]:
    """Open every active campaign's due run (the periodic job); the runs' ids."""
    active = await fhir.search(
        "CommunicationRequest", [("_profile", PROFILE_CAMPAIGN), ("status", Status.ACTIVE.value)]
    )
    opened = []
    for resource in active:
        if (run := await open_due_run(fhir, queue, campaign_of(resource), now=now, tz=tz)) is not None:
            opened.append(run.id)
    return opened


async def _current(fhir: FhirClient, run_id: str) -> tuple[Run, Campaign] | None:
    """The run and its campaign, if the run is still going."""
    try:
        run = run_of(await fhir.read("CommunicationRequest", run_id))
        campaign = campaign_of(await fhir.read("CommunicationRequest", run.campaign_id))
    except FhirNotFound:
        return None
    return (run, campaign) if run.status == "active" else None


async def dispatch_run(
    fhir: FhirClient,
    state: StateStore,
    queue: JobQueue,
    *,
    run_id: str,
    round_: int,
    pass_: str,
    now: datetime,
    tz: ZoneInfo,
    pace: Pace,
) -> str:
    """One round of a run: reserve the members' time on the sender, queue their batches in it, and the
    next round at its end (the members without a message yet)."""
    found = await _current(fhir, run_id)
    if found is None:
        return "done"
    run, campaign = found
    if campaign.status == Status.CANCELLED:
        await _finish(fhir, run, status="revoked")
        return "cancelled"
    if campaign.status != Status.ACTIVE:
        return "paused"
    if (opens := window_opens(now, start=campaign.window_start, end=campaign.window_end, tz=tz)) is not None:
        job_id = f"{dispatch_id(run_id, round_=round_, pass_=pass_)}-{int(opens.timestamp())}"
        await queue.enqueue(
            Job.DISPATCH_CAMPAIGN_RUN,
            dispatch_payload(run_id, round_=round_, pass_=pass_),
            job_id=job_id,
            at=opens,
        )
        return "waiting-for-window"
    segment = await segments.get(fhir, campaign.segment_id)
    members = await evaluate.members(fhir, segment.criteria, now=now, tz=tz)
    remaining = sorted(set(members) - await messaged(fhir, run_id))
    if not remaining or round_ >= MAX_ROUNDS:
        await _finish(fhir, run, status="completed")
        if campaign.schedule is Schedule.ONCE:
            await set_status(fhir, campaign.id, Status.COMPLETED, expect=(Status.ACTIVE,), actor=SENDER)
        log.info("campaign.run.completed", run=f"CommunicationRequest/{run_id}", left=len(remaining))
        return "completed"
    batches = math.ceil(len(remaining) / pace.batch)
    this_round = dispatch_id(run_id, round_=round_, pass_=pass_)
    slot = await pace.reserve(
        state, channel=campaign.channel, count=len(remaining), now=now, ticket=this_round
    )
    for index in range(batches):
        patients = remaining[index * pace.batch : (index + 1) * pace.batch]
        at = slot.start + pace.interval * index
        await queue.enqueue(
            Job.SEND_CAMPAIGN_BATCH,
            {"run": run_id, "patients": patients},
            job_id=f"campaign-batch-{run_id}-{pass_}-{round_}-{index}",
            at=at if at > now else None,
        )
    await queue.enqueue(
        Job.DISPATCH_CAMPAIGN_RUN,
        dispatch_payload(run_id, round_=round_ + 1, pass_=pass_),
        job_id=dispatch_id(run_id, round_=round_ + 1, pass_=pass_),
        at=slot.end,
    )
    log.info(
        "campaign.run.dispatched",
        run=f"CommunicationRequest/{run_id}",
        patients=len(remaining),
        batches=batches,
    )
    return "dispatched"


async def messaged(fhir: FhirClient, run_id: str) -> set[str]:
    """The patients the run already has a message (sent or not) for."""
    found = await fhir.search(
        "Communication",
        [
            ("based-on", f"CommunicationRequest/{run_id}"),
            ("_elements", "subject"),
            ("_count", str(MAX_PAGE_SIZE)),
        ],
    )
    refs = (str((c.get("subject") or {}).get("reference", "")) for c in found)
    return {r.removeprefix("Patient/") for r in refs if r.startswith("Patient/")}


async def send_batch(
    fhir: FhirClient,
    state: StateStore,
    queue: JobQueue,
    *,
    run_id: str,
    patients: list[str],
    now: datetime,
    tz: ZoneInfo,
    window_hours: int,
    pace: Pace,
) -> dict[str, int]:
    """Prepare the run's message to each patient of the batch (none twice); counts by outcome."""
    counts = {"prepared": 0, "left-out": 0, "done-already": 0, "gone": 0}
    found = await _current(fhir, run_id)
    if found is None or found[1].status != Status.ACTIVE:
        return counts
    run, campaign = found
    if (opens := window_opens(now, start=campaign.window_start, end=campaign.window_end, tz=tz)) is not None:
        # Past the window's end: the batch takes a new slot on the sender from the window's next opening.
        job_id = f"campaign-batch-{run_id}-{patients[0] if patients else ''}-{int(opens.timestamp())}"
        slot = await pace.reserve(
            state, channel=campaign.channel, count=len(patients), now=now, ticket=job_id, not_before=opens
        )
        await queue.enqueue(
            Job.SEND_CAMPAIGN_BATCH, {"run": run_id, "patients": patients}, job_id=job_id, at=slot.start
        )
        return counts
    keys = [f"{SID_MESSAGE_KEY}|{message_key(run_id, p)}" for p in patients]
    existing = await fhir.search("Communication", [("identifier", ",".join(keys)), ("_elements", "subject")])
    done = {str((c.get("subject") or {}).get("reference", "")).removeprefix("Patient/") for c in existing}
    counts["done-already"] = len([p for p in patients if p in done])
    gate = asyncio.Semaphore(PREPARE_CONCURRENCY)

    async def one(patient_id: str) -> str:
        async with gate:
            return await _prepare_one(
                fhir,
                state,
                queue,
                run=run,
                campaign=campaign,
                patient_id=patient_id,
                now=now,
                window_hours=window_hours,
            )

    for outcome in await asyncio.gather(*(one(p) for p in patients if p not in done)):
        counts[outcome] += 1
    log.info(
        "campaign.batch.sent",
        run=f"CommunicationRequest/{run_id}",
        **{k.replace("-", "_"): v for k, v in counts.items()},
    )
    return counts


async def _prepare_one(
    fhir: FhirClient,
    state: StateStore,
    queue: JobQueue,
    *,
    run: Run,
    campaign: Campaign,
    patient_id: str,
    now: datetime,
    window_hours: int,
) -> str:
    """One patient's message (marketing: a marketing opt-out stops it too): prepared, or left out (opted
    out of the channel or of marketing, no address) as a not-done Communication."""
    try:
        patient = await fhir.read("Patient", patient_id)
    except FhirNotFound:
        return "gone"
    variant = campaign.variant_for(patient_id)
    preferred = catalog.choose_language(preferred_language(patient))
    language = (
        preferred if not campaign.languages or preferred in campaign.languages else catalog.DEFAULT_LANGUAGE
    )
    try:
        await prepare_template_message(
            fhir,
            state,
            queue,
            template=variant.template,
            variables={**variant.variables, "patient_name": first_name(patient)},
            sender=SENDER,
            at=now,
            channel=campaign.channel,
            patient_id=patient_id,
            based_on=[f"CommunicationRequest/{run.id}"],
            key=message_key(run.id, patient_id),
            window_hours=window_hours,
            language=language,
            marketing=True,
            patient=patient,
        )
        return "prepared"
    except MarketingOptedOut:
        reason = MARKETING_OPT_OUT
    except OptedOut:
        reason = "opted-out"
    except (Invalid, NotFound):
        reason = "no-address"  # no phone or email for the channel: the only refusal a valid campaign meets
    await create_with_provenance(
        fhir,
        left_out(run=run, channel=campaign.channel, patient_id=patient_id, reason=reason),
        actors=[SENDER],
        activity="campaign.left-out",
        if_none_exist={"identifier": f"{SID_MESSAGE_KEY}|{message_key(run.id, patient_id)}"},
    )
    return "left-out"


def first_name(patient: Resource) -> str:
    """How the message greets the patient: a given name, else the name's text (patients without one: 'there')."""
    for name in patient.get("name", []):
        if given := [g for g in name.get("given", []) if isinstance(g, str) and g.strip()]:
            return given[0]
        if isinstance(name.get("text"), str) and name["text"].strip():
            return str(name["text"]).split()[0]
    return "there"


async def _finish(fhir: FhirClient, run: Run, *, status: str) -> None:
    await set_status(fhir, run.id, status, expect=("active",), actor=SENDER)


async def set_status(
    fhir: FhirClient, request_id: str, status: str, *, expect: tuple[str, ...], actor: Actor
) -> Resource:
    """Move a campaign or run from one of the `expect`ed statuses to `status` (else leave it as it is)."""
    resource = await fhir.read("CommunicationRequest", request_id)

    def edit(r: Resource) -> bool:
        if r.get("status") not in expect:
            return False
        r["status"] = status
        return True

    return await update_edited(
        fhir,
        resource,
        edit,
        on_conflict=Conflict(f"CommunicationRequest/{request_id} is being changed by someone else"),
        actors=[actor],
        activity=f"campaign.{status}",
    )
