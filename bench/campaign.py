"""Campaigns: segment evaluation time, and an N-recipient WhatsApp campaign sent by worker processes
through the sandbox (recipients/s, HAPI writes per recipient) beside the same Communications written
straight to HAPI. The campaign starts once the workers' change feed has caught up with the seeding (that
wait is reported apart). With --max-minutes the campaign is measured until then and reported as far as it got.

    .venv/bin/python -m bench.campaign --recipients 10000 --workers 2 --max-minutes 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import httpx
from redis import Redis

from app.campaigns import service as campaigns
from app.campaigns.resources import Schedule, Variant
from app.config import Settings
from app.fhir.builders import Actor, AgentKind, instant
from app.fhir.client import FhirClient, Resource
from app.logging import configure_logging
from app.ports.jobs import Lane
from app.segments import evaluate
from app.segments import service as segments
from app.segments.resources import Criteria
from app.services import Services, build_services
from bench.support import machine, servers, wait_for_quiet, workers
from tests.segments.support import Seed, seed

NO_QUIET_HOURS = clock_time(0, 0)
TEMPLATE = "health_checkup_invitation"
SIDS = {f"{TEMPLATE}.{lang}": "HX" + digit * 32 for lang, digit in (("en", "a"), ("hi", "b"), ("kn", "c"))}
VARIABLES = {"clinic_name": "Sunrise Clinic", "offer": "a free ECG", "clinic_phone": "+918041234567"}
ACTOR = Actor(kind=AgentKind.STAFF, user="bench@prm")
# Pacing high enough that the workers, not the throttle, set the pace.
PER_SECOND = 1000
BATCH = 50
EVALUATIONS = 5
# The workers' first change-feed sweep comes within this many seconds of their start.
SWEEP_SECONDS = 35
# Feed jobs come in sweeps: quiet means two empty polls this far apart, not a gap between sweeps.
FEED_POLL_SECONDS = 2.0


def _settings(fhir_url: str, redis_url: str, queue: str) -> Settings:
    return Settings(
        environment="test", fhir_base_url=fhir_url, redis_url=redis_url, queue_name=queue,
        transcription_engine="none", log_level="WARNING", fhir_timeout_seconds=120,
        quiet_hours_start=NO_QUIET_HOURS, quiet_hours_end=NO_QUIET_HOURS, twilio_content_sids=SIDS,
        campaign_messages_per_second=PER_SECOND, campaign_batch_size=BATCH,
    )  # fmt: skip


def _env(fhir_url: str, redis_url: str, queue: str) -> dict[str, str]:
    return {
        "PRM_ENVIRONMENT": "test",
        "PRM_FHIR_BASE_URL": fhir_url,
        "PRM_FHIR_TIMEOUT_SECONDS": "120",
        "PRM_REDIS_URL": redis_url,
        "PRM_QUEUE_NAME": queue,
        "PRM_LOAD_CONFORMANCE_ON_STARTUP": "false",
        "PRM_CHANGE_FEED_SUBSCRIBE_ON_STARTUP": "false",
        "PRM_TRANSCRIPTION_ENGINE": "none",
        "PRM_LOG_LEVEL": "WARNING",
        "PRM_QUIET_HOURS_START": NO_QUIET_HOURS.isoformat(),
        "PRM_QUIET_HOURS_END": NO_QUIET_HOURS.isoformat(),
        "PRM_TWILIO_CONTENT_SIDS": json.dumps(SIDS),
        "PRM_CAMPAIGN_MESSAGES_PER_SECOND": str(PER_SECOND),
        "PRM_CAMPAIGN_BATCH_SIZE": str(BATCH),
        "PRM_BOT_ENABLED": "false",
    }


async def _evaluation(services: Services, criteria: Criteria, expected: int, runs: int) -> list[float]:
    tz = ZoneInfo(services.settings.default_timezone)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        members = await evaluate.members(services.fhir, criteria, now=services.clock.now(), tz=tz)
        seconds.append(time.perf_counter() - started)
        if len(members) != expected:
            raise RuntimeError(f"the segment has {len(members)} members, not {expected}")
    return seconds


async def _writes_since(fhir_url: str, since: str) -> int:
    """Resource versions HAPI stored since `since` (every create and update, of every type): the system
    history paged through (HAPI gives a history no total)."""
    count = 0
    async with httpx.AsyncClient(timeout=300) as client:
        url: str | None = f"{fhir_url}/_history"
        params: dict[str, str] | None = {"_since": since, "_count": "1000"}
        while url:
            response = await client.get(url, params=params)
            response.raise_for_status()
            page = response.json()
            count += len(page.get("entry", []))
            url = next((link["url"] for link in page.get("link", []) if link.get("relation") == "next"), None)
            params = None
    return count


async def _sent(fhir: FhirClient, run_id: str) -> int:
    return await fhir.count(
        "Communication", {"based-on": f"CommunicationRequest/{run_id}", "status": "completed"}
    )


async def _caught_up(redis_url: str, queue: str) -> float:
    """Wait until the workers' change feed has worked off what the seeding wrote (the feed and live lanes
    empty on two polls in a row, after the first sweep); seconds waited."""
    store = Redis.from_url(redis_url)
    started = time.perf_counter()
    await asyncio.sleep(SWEEP_SECONDS)
    await asyncio.to_thread(
        wait_for_quiet, store, queue, lanes=(Lane.LIVE, Lane.FEED), poll_seconds=FEED_POLL_SECONDS
    )
    return time.perf_counter() - started


async def _campaign(
    services: Services, segment_id: str, env: dict[str, str], count: int, pool: int, minutes: float
) -> tuple[str, int, float, float]:
    """Create the campaign with `pool` workers running, once they have caught up with the change feed;
    (run id, messages sent, seconds until all were sent or `minutes` ran out, seconds of catching up)."""
    with workers(env, pool):
        catching_up = await _caught_up(env["PRM_REDIS_URL"], env["PRM_QUEUE_NAME"])
        started = time.perf_counter()
        campaign = await campaigns.create(
            services.fhir, services.queue, name="Bench drive", segment_id=segment_id, channel="whatsapp",
            variants=[Variant("A", TEMPLATE, VARIABLES)], split_b=0, languages=(), schedule=Schedule.ONCE,
            start=None, end=None, weekdays=(), window=None, attribution_days=14, content_sids=SIDS,
            actor=ACTOR, now=services.clock.now(), tz=ZoneInfo(services.settings.default_timezone),
        )  # fmt: skip
        run_id = (await campaigns.runs_of(services.fhir, campaign.id))[0].id
        deadline = time.monotonic() + minutes * 60
        while (done := await _sent(services.fhir, run_id)) < count and time.monotonic() < deadline:
            await asyncio.sleep(5)
        return run_id, done, time.perf_counter() - started, catching_up


async def _straight(fhir_url: str, messages: list[Resource], concurrency: int) -> float:
    """The same Communications POSTed straight to HAPI by `concurrency` writers; seconds."""
    bodies = []
    for message in messages:
        copy = {k: v for k, v in message.items() if k not in ("id", "meta", "identifier")}
        copy["meta"] = {"profile": message.get("meta", {}).get("profile", [])}
        bodies.append(copy)
    queue: asyncio.Queue[Resource] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    async with httpx.AsyncClient(base_url=fhir_url, timeout=120) as client:

        async def writer() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                response = await client.post(
                    "/Communication", json=body, headers={"Content-Type": "application/fhir+json"}
                )
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(concurrency)))
        return time.perf_counter() - started


async def run(
    fhir_url: str, redis_url: str, *, recipients: int, pool: int, minutes: float, evaluations: int
) -> None:
    """Measure and print."""
    configure_logging(level="WARNING", json=False)
    queue = f"bench-campaign-{uuid.uuid4().hex[:8]}"
    services = build_services(_settings(fhir_url, redis_url, queue))
    try:
        started = time.perf_counter()
        seeded = await seed(services.fhir, [Seed()] * recipients, at=services.clock.now())
        seeding = time.perf_counter() - started
        criteria = Criteria(search=f"family={seeded.family}", channel_consent="whatsapp")
        timings = await _evaluation(services, criteria, recipients, evaluations)
        segment = await segments.create(
            services.fhir, name="Bench segment", description=None, criteria=criteria, actor=ACTOR,
            now=services.clock.now(), tz=ZoneInfo(services.settings.default_timezone),
        )  # fmt: skip
        since = instant(datetime.now(UTC))
        run_id, done, seconds, catching_up = await _campaign(
            services, segment.id, _env(fhir_url, redis_url, queue), recipients, pool, minutes
        )
        writes = await _writes_since(fhir_url, since)
        sent = await services.fhir.search(
            "Communication", {"based-on": f"CommunicationRequest/{run_id}", "status": "completed"}
        )
        baseline = await _straight(fhir_url, sent, pool)
    finally:
        await services.aclose()
    timings.sort()
    print(f"\n## Campaign ({machine()})\n")
    print(f"seeded {recipients} patients with WhatsApp opt-in in {seeding:.1f} s (transactions of 100)")
    print(
        f"segment evaluation ({recipients} members, Patient search + consent filter), {len(timings)} runs: "
        f"p50 {timings[len(timings) // 2]:.2f} s, max {timings[-1]:.2f} s"
    )
    print(
        f"the workers' change feed caught up with the seeding in {catching_up:.0f} s (before the campaign "
        "started: its batches wait behind the feed, docs/operations.md)"
    )
    finished = "all" if done >= recipients else f"stopped after {minutes:g} min:"
    print(
        f"campaign: {finished} {done} of {recipients} recipients sent by {pool} workers (sandbox) in "
        f"{seconds:.1f} s = {done / seconds:.2f} recipients/s"
    )
    print(
        f"HAPI writes during the campaign (resource versions, _history): {writes} = "
        f"{writes / max(done, 1):.1f} per recipient sent (the straight baseline: 1)"
    )
    print(
        f"the same {len(sent)} Communications POSTed straight to HAPI by {pool} writers: {baseline:.1f} s = "
        f"{len(sent) / baseline:.1f}/s; ratio campaign / straight writes: {seconds / baseline:.1f}x"
    )


def main() -> None:
    """Run against PRM_BENCH_* servers or fresh ones."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--recipients", type=int, default=1000, help="patients in the segment (the issue: 10000)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-minutes", type=float, default=60, help="stop measuring the campaign then")
    parser.add_argument("--evaluations", type=int, default=EVALUATIONS, help="segment evaluations timed")
    args = parser.parse_args()
    with servers() as (fhir_url, redis_url):
        asyncio.run(
            run(
                fhir_url,
                redis_url,
                recipients=args.recipients,
                pool=args.workers,
                minutes=args.max_minutes,
                evaluations=args.evaluations,
            )
        )


if __name__ == "__main__":
    main()
