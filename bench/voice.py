"""Voice agent: the post-call webhook's acknowledgement at 50 events/s (HMAC, parse, de-dup, enqueue),
events processed per second by 2 workers, and one event's processing beside the HAPI requests it
makes, replayed straight (same run)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import SecretStr

from app.calls import tools
from app.calls.rules import CallRules
from app.calls.service import process_call
from app.config import ApiKey, Role, Settings
from app.demo.seed import load_demo
from app.fhir.canonical import SID_VOICE_CALL
from app.fhir.client import FhirClient
from app.ingress.signing import sign
from app.logging import configure_logging
from app.main import create_app
from app.patients.resources import patient_resource
from app.ports.jobs import Job
from app.ports.voice import VoiceEvent
from app.services import Services, build_services
from bench.messaging import RecordingTransport, _unconditional
from bench.support import Timing, measure_side_by_side, report, servers, workers
from tests.support.servers import free_port, start_api

RATE_PER_SECOND = 50
SECONDS = 20
SECRET = "bench-voice-webhook-secret"
PATH = "/webhooks/voice/events"
PATIENTS = 10
PIPELINE_RUNS = 20
THROUGHPUT_EVENTS = 60
TOOL_RUNS = 40
WRITE_RUNS = 15
TOOLS_KEY = "bench-voice-tools-key"
WORKERS = 2


def _event(i: int, run_id: str, caller: str) -> dict[str, Any]:
    """An inquiry call (the record + a ticket): every call takes this path, whatever it asks."""
    started = datetime.now(UTC) - timedelta(minutes=4)
    return {
        "event_id": f"evt_{run_id}_{i}",
        "event": "call.completed",
        "call": {"id": f"call_{run_id}_{i}", "direction": "inbound", "from": caller, "to": "+918000000000",
                 "started_at": started.isoformat(), "ended_at": (started + timedelta(seconds=95)).isoformat(),
                 "duration_seconds": 95, "language": "en-IN", "agent_id": "bench-agent"},
        "recording": {"url": f"https://recordings.bench.example/{run_id}/{i}.mp3", "content_type": "audio/mpeg"},
        "transcript": {"text": "Agent: Sunrise Clinic. Caller: Are you open on Sunday?",
                       "segments": [{"speaker": "caller", "start": 2.0, "end": 4.1, "text": "Are you open on Sunday?"}]},
        "extraction": {"intent": "inquiry", "confidence": 0.9, "summary": "Asked about Sunday hours.",
                       "patient": {"name": None, "phone": caller}, "appointment": None},
    }  # fmt: skip


def _signed(body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    timestamp = str(int(time.time()))
    return raw, {"Content-Type": "application/json", "X-PRM-Timestamp": timestamp,
                 "X-PRM-Signature": sign(SECRET, timestamp, raw)}  # fmt: skip


async def acknowledgements(base_url: str, run_id: str, callers: list[str]) -> Timing:
    """POST signed events at RATE_PER_SECOND for SECONDS (open loop) and time each answer."""
    total = RATE_PER_SECOND * SECONDS
    samples: list[float] = [0.0] * total
    statuses: dict[int, int] = {}
    # Enough connections and patience that a slow answer is measured, not turned into a client error.
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as client:

        async def one(i: int, at: float) -> None:
            raw, headers = _signed(_event(i, run_id, callers[i % len(callers)]))
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            started = time.perf_counter()
            response = await client.post(PATH, content=raw, headers=headers)
            samples[i] = time.perf_counter() - started
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        start = time.perf_counter() + 0.5
        await asyncio.gather(*(one(i, start + i / RATE_PER_SECOND) for i in range(total)))
    if statuses != {202: total}:
        raise RuntimeError(f"webhook answers were not all 202: {statuses}")
    return Timing(
        f"voice event ack at {RATE_PER_SECOND}/s for {SECONDS} s (HMAC, parse, de-dup, enqueue)", samples
    )


class AllRequests(RecordingTransport):
    """Records every request, reads too (a call's processing is as much lookups as writes)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Record, then send."""
        if self.recording:
            self.writes.append((request.method, str(request.url), await request.aread()))
        return await self.inner.handle_async_request(request)


async def _patients(services: Services) -> list[str]:
    """Registered callers (their phones)."""
    phones = []
    for _ in range(PATIENTS):
        phone = f"+9196{uuid.uuid4().int % 10**8:08d}"
        await services.fhir.create(patient_resource(given="Bench", family="Caller", phone=phone))
        phones.append(phone)
    return phones


async def processing_vs_requests(
    services: Services, recorder: AllRequests, callers: list[str]
) -> tuple[Timing, Timing]:
    """One event at a time: the job's work vs the same HAPI requests sent straight, one after the other."""
    run_id = uuid.uuid4().hex[:8]
    rules = CallRules.of(services.settings)
    recorded: list[list[tuple[str, str, bytes]]] = []

    async def job(i: int) -> None:
        recorder.writes, recorder.recording = [], True
        event = VoiceEvent.model_validate(_event(i, run_id, callers[i % len(callers)]))
        outcome = await process_call(services.fhir, services.state, services.directory, event=event,
                                     rules=rules, fetcher=None, now=services.clock.now())  # fmt: skip
        recorder.recording = False
        if len(outcome.outcome) != 1:
            raise RuntimeError(f"event {i} did not become one ticket: {outcome}")
        recorded.append(recorder.writes)

    async with httpx.AsyncClient() as raw:

        async def straight(i: int) -> None:
            for method, url, body in recorded[i]:
                response = await raw.request(method, url, content=_unconditional(method, body),
                                             headers={"Content-Type": "application/fhir+json"})  # fmt: skip
                response.raise_for_status()

        prm, baseline = await measure_side_by_side(
            PIPELINE_RUNS,
            ("call processed: record + ticket (job, one at a time)", job),
            ("the same HAPI requests, straight", straight),
        )
    methods = [m for m, _, _ in recorded[-1]]
    print(f"\nHAPI requests per call: {len(methods)} ({methods.count('GET')} GET, "
          f"{len(methods) - methods.count('GET')} writes)", flush=True)  # fmt: skip
    return prm, baseline


async def throughput(services: Services, env: dict[str, str], callers: list[str]) -> float:
    """Events per second processed by WORKERS workers (queued first, then the workers start)."""
    run_id = uuid.uuid4().hex[:8]
    for i in range(THROUGHPUT_EVENTS):
        event = _event(i, run_id, callers[i % len(callers)])
        await services.queue.enqueue(
            Job.PROCESS_VOICE_EVENT, {"event": event}, job_id=f"voice-{event['event_id']}"
        )
    calls = [f"{SID_VOICE_CALL}|call_{run_id}_{i}" for i in range(THROUGHPUT_EVENTS)]
    with workers(env, WORKERS):
        first = last = None
        done_at_first = 0
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            done = 0
            for chunk in (calls[i : i + 50] for i in range(0, len(calls), 50)):
                done += await services.fhir.count("Communication", {"identifier": ",".join(chunk)})
            now = time.perf_counter()
            if done and first is None:
                first, done_at_first = now, done
            if done == len(calls):
                last = now
                break
            await asyncio.sleep(0.2)
        if first is None or last is None or last == first:
            raise RuntimeError("the workers did not process every event within 600 s")
    return (len(calls) - done_at_first) / (last - first)


class ToolRun:
    """One live tool through the PRM (its HAPI requests recorded) and the same requests straight to HAPI."""

    def __init__(self, recorder: AllRequests, raw: httpx.AsyncClient) -> None:
        self.recorder, self.raw = recorder, raw
        self.recorded: list[list[tuple[str, str, bytes]]] = []

    async def prm(self, call: Awaitable[httpx.Response], expect: int) -> Any:
        """The tool's answer (its HAPI requests kept for the replay)."""
        self.recorder.writes, self.recorder.recording = [], True
        response = await call
        self.recorder.recording = False
        if response.status_code != expect:
            raise RuntimeError(f"live tool answered {response.status_code}: {response.text[:200]}")
        self.recorded.append(self.recorder.writes)
        return response.json()

    async def straight(self, i: int) -> None:
        """The i-th call's HAPI requests, straight (writes without preconditions, creates made unique)."""
        for method, url, body in self.recorded[i]:
            response = await self.raw.request(method, url, content=_unconditional(method, body),
                                              headers={"Content-Type": "application/fhir+json"})  # fmt: skip
            response.raise_for_status()

    def requests(self) -> str:
        """The HAPI requests of the last call, e.g. `2 (GET, GET)`."""
        methods = [m for m, _, _ in self.recorded[-1]]
        return f"{len(methods)} ({', '.join(methods)})"


async def live_tools(fhir_url: str, redis_url: str) -> list[tuple[Timing, Timing, str]]:
    """The live tools on the demo clinic, in-process, each beside its own HAPI requests made straight."""
    settings = Settings(
        environment="test", fhir_base_url=fhir_url, redis_url=redis_url, transcription_engine="none",
        log_level="WARNING", load_conformance_on_startup=False, change_feed_subscribe_on_startup=False,
        rate_limit_per_key="1000000/minute", queue_name=f"bench-voice-tools-{uuid.uuid4().hex[:8]}",
        api_keys=[ApiKey(key=SecretStr(TOOLS_KEY), role=Role.INTEGRATION, user="voice-agent@bench")],
    )  # fmt: skip
    recorder = AllRequests()
    app = create_app(settings, fhir=FhirClient(fhir_url, transport=recorder))
    demo = json.loads((Path(__file__).parents[1] / "app" / "demo" / "directory.json").read_text())
    tomorrow = (datetime.now(ZoneInfo(settings.default_timezone)) + timedelta(days=1)).date().isoformat()
    headers = {"Authorization": f"Bearer {TOOLS_KEY}"}
    results: list[tuple[Timing, Timing, str]] = []
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        await load_demo(
            services.fhir,
            services.directory,
            services.state,
            now=datetime.now(UTC),
            horizon_days=7,
            mrn_prefix=services.settings.mrn_prefix,
        )
        services.directory.invalidate()
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as client,
            httpx.AsyncClient(timeout=60) as raw,
        ):
            # The demo clinic's doctors by id and its patients' phones (a shared HAPI holds many others).
            names = {p["name"] for p in demo["practitioners"]}
            index = await services.directory.get()
            doctors = sorted({r.practitioner_id for r in index.roles if r.practitioner_name in names})
            phones = [p["phone"] for p in demo["patients"]]

            async def timed(name: str, runs: int, call: Callable[[ToolRun, int], Awaitable[Any]]) -> None:
                run = ToolRun(recorder, raw)
                prm, straight = await measure_side_by_side(
                    runs, (f"live tool: {name}", lambda i: call(run, i)), ("straight", run.straight)
                )
                results.append((prm, straight, run.requests()))
                print(f"{prm.name}: p50 {prm.p50_ms:.1f} p95 {p95_ms(prm):.1f} ms; HAPI straight p50 "
                      f"{straight.p50_ms:.1f} p95 {p95_ms(straight):.1f} ms; requests {run.requests()}", flush=True)  # fmt: skip

            async def find(run: ToolRun, i: int) -> Any:
                return await run.prm(client.get("/api/v1/voice/tools/patients", headers=headers,
                                                params={"phone": phones[i % len(phones)]}), 200)  # fmt: skip

            async def doctor_day(run: ToolRun, i: int) -> Any:
                return await run.prm(client.get("/api/v1/voice/tools/slots", headers=headers,
                                                params={"practitioner": doctors[i % len(doctors)], "date": tomorrow}), 200)  # fmt: skip

            specialties = sorted(
                {r.specialty for r in index.roles if r.practitioner_id in doctors and r.specialty}
            )

            async def specialty_part(run: ToolRun, i: int) -> Any:
                return await run.prm(client.get("/api/v1/voice/tools/slots", headers=headers, params={
                    "specialty": specialties[i % len(specialties)], "part_of_day": ("morning", "afternoon")[i % 2]}), 200)  # fmt: skip

            await timed("find the caller by phone", TOOL_RUNS, find)
            await timed("a doctor's free slots tomorrow", TOOL_RUNS, doctor_day)
            await timed("a specialty's free slots, a part of day, coming week", TOOL_RUNS, specialty_part)

            # Free slots at distinct times (a patient cannot hold two at once), soonest first.
            free: dict[str, str] = {}
            for doctor in doctors:
                for slot in await tools.free_slots(services.fhir, services.directory, practitioner_id=doctor,
                                                   specialty=None, day=None, part_of_day=None,
                                                   timezone=ZoneInfo(settings.default_timezone),
                                                   now=datetime.now(UTC)):  # fmt: skip
                    free.setdefault(slot.slot["start"], slot.slot["id"])
            slots = [free[start] for start in sorted(free)]
            if len(slots) < 2 * WRITE_RUNS:
                raise RuntimeError(f"the demo clinic has {len(slots)} free slots, {2 * WRITE_RUNS} needed")
            # A fresh caller per write: the replayed requests leave extra appointments at the same times.
            callers = [(await services.fhir.create(patient_resource(given="Tool", family="Caller",
                        phone=f"+9195{uuid.uuid4().int % 10**8:08d}")))["id"] for _ in range(2 * WRITE_RUNS)]  # fmt: skip
            booked: list[str] = []

            async def hold(run: ToolRun, i: int) -> Any:
                return await run.prm(client.post("/api/v1/voice/tools/holds", headers=headers, json={
                    "slot": slots[2 * i], "patient": callers[2 * i], "seconds": 60}), 201)  # fmt: skip

            async def book(run: ToolRun, i: int) -> Any:
                answer = await run.prm(client.post("/api/v1/voice/tools/appointments", headers=headers, json={
                    "slot": slots[2 * i + 1], "patient": callers[2 * i + 1]}), 201)  # fmt: skip
                booked.append(answer["id"])

            async def cancel(run: ToolRun, i: int) -> Any:
                return await run.prm(client.post(f"/api/v1/voice/tools/appointments/{booked[i]}/cancel",
                                                 headers=headers, json={"patient": callers[2 * i + 1]}), 200)  # fmt: skip

            await timed("hold a slot", WRITE_RUNS, hold)
            await timed("book a slot", WRITE_RUNS, book)
            await timed("cancel the booking", WRITE_RUNS, cancel)
    return results


def p95_ms(timing: Timing) -> float:
    """95th percentile latency in milliseconds (the live tools' goal is < 300 ms)."""
    ordered = sorted(timing.samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000


def _env(fhir_url: str, redis_url: str, queue: str, port: int) -> dict[str, str]:
    return {
        "PRM_ENVIRONMENT": "test",
        "PRM_FHIR_BASE_URL": fhir_url,
        "PRM_REDIS_URL": redis_url,
        "PRM_QUEUE_NAME": queue,
        "PRM_LOAD_CONFORMANCE_ON_STARTUP": "false",
        "PRM_CHANGE_FEED_SUBSCRIBE_ON_STARTUP": "false",
        "PRM_TRANSCRIPTION_ENGINE": "none",
        "PRM_LOG_LEVEL": "WARNING",
        "PRM_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "PRM_VOICE_WEBHOOK_SECRET": SECRET,
    }


def _services(fhir_url: str, redis_url: str, queue: str, fhir: FhirClient | None = None) -> Services:
    settings = Settings(environment="test", fhir_base_url=fhir_url, redis_url=redis_url, queue_name=queue,
                        transcription_engine="none", log_level="WARNING")  # fmt: skip
    return build_services(settings, fhir=fhir)


async def run(fhir_url: str, redis_url: str) -> None:
    """Measure and print."""
    configure_logging(level="WARNING", json=False)
    port, run_id = free_port(), uuid.uuid4().hex[:8]
    setup = _services(fhir_url, redis_url, f"bench-voice-setup-{run_id}")
    try:
        callers = await _patients(setup)
    finally:
        await setup.aclose()
    # The acknowledged events go to a queue nobody works: this part measures the request path alone.
    api = start_api(_env(fhir_url, redis_url, f"bench-voice-ack-{run_id}", port), port)
    try:
        ack = await acknowledgements(api.url, run_id, callers)
    finally:
        api.stop()
    print(f"\n{ack.name}: p50 {ack.p50_ms:.1f} ms, p99 {ack.p99_ms:.1f} ms", flush=True)
    recorder = AllRequests()
    single = _services(
        fhir_url, redis_url, f"bench-voice-single-{run_id}", FhirClient(fhir_url, transport=recorder)
    )
    try:
        prm, baseline = await processing_vs_requests(single, recorder, callers)
    finally:
        await single.aclose()
    report("Voice agent: one call's processing beside its HAPI requests", [(prm, baseline)])
    queue = f"bench-voice-work-{run_id}"
    many = _services(fhir_url, redis_url, queue)
    try:
        processed = await throughput(many, _env(fhir_url, redis_url, queue, port), callers)
    finally:
        await many.aclose()
    report("Voice agent", [(prm, baseline)], [ack])
    print(
        f"\n{THROUGHPUT_EVENTS} events processed at {processed:.1f}/s by {WORKERS} workers (record + ticket each)."
    )


async def run_tools(fhir_url: str, redis_url: str) -> None:
    """The live tools alone: p50/p95/p99 through the PRM beside their HAPI requests straight."""
    configure_logging(level="WARNING", json=False)
    print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
    results = await live_tools(fhir_url, redis_url)
    print(f"load average after: {os.getloadavg()[0]:.1f}\n")
    print(
        "| live tool (demo clinic) | PRM p50 / p95 / p99 ms | HAPI straight p50 / p95 / p99 ms | ratio p50 / p95 | HAPI requests |"
    )
    print("|---|---|---|---|---|")
    for prm, raw, requests in results:
        print(f"| {prm.name.removeprefix('live tool: ')} | {prm.p50_ms:.1f} / {p95_ms(prm):.1f} / {prm.p99_ms:.1f} | "
              f"{raw.p50_ms:.1f} / {p95_ms(raw):.1f} / {raw.p99_ms:.1f} | "
              f"{prm.p50_ms / raw.p50_ms:.2f}x / {p95_ms(prm) / p95_ms(raw):.2f}x | {requests} |")  # fmt: skip


def main() -> None:
    """Run against PRM_BENCH_* servers or fresh ones (`--tools` or `--pipeline`: that part alone)."""
    args = sys.argv[1:]
    with servers() as (fhir_url, redis_url):
        if "--tools" not in args:
            asyncio.run(run(fhir_url, redis_url))
        if "--pipeline" not in args:
            asyncio.run(run_tools(fhir_url, redis_url))


if __name__ == "__main__":
    main()
