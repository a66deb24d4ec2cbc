"""Messaging: the WhatsApp webhook's acknowledgement at a fixed rate (signature check, de-dup, enqueue),
and the outbound pipeline (prepare -> send job through the sandbox) against the HAPI writes it makes."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import time as clock_time

import httpx
from twilio.request_validator import RequestValidator

from app.config import Settings
from app.consents import service as consents
from app.consents.resources import ConsentSource, Decision
from app.fhir.builders import Actor, AgentKind
from app.fhir.client import FhirClient
from app.logging import configure_logging
from app.messaging.jobs import send_policy
from app.messaging.sending import Outcome, send_message
from app.messaging.service import prepare_message
from app.patients.resources import patient_resource
from app.services import Services, build_services
from bench.support import Timing, measure, measure_side_by_side, report, servers, workers
from tests.support.servers import free_port, start_api

RATE_PER_SECOND = 100
SECONDS = 30
TOKEN = "bench-twilio-auth-token"
PATH = "/webhooks/whatsapp/twilio"
PATIENTS = 10
PIPELINE_RUNS = 100
THROUGHPUT_MESSAGES = 200
WORKERS = 2
# Quiet hours off: the bench measures sending, not waiting for 08:00.
NO_QUIET_HOURS = clock_time(0, 0)


def _form(i: int, run_id: str) -> dict[str, str]:
    return {
        "MessageSid": f"SM{run_id}{i:024d}"[:34],
        "AccountSid": "AC" + "0" * 32,
        "From": f"whatsapp:+9198{i % 100000000:08d}",
        "To": "whatsapp:+14155238886",
        "Body": f"bench message {i}",
        "NumMedia": "0",
    }


async def sequential_acknowledgements(base_url: str, run_id: str, count: int = 300) -> Timing:
    """The same webhook one request at a time: the service time of one acknowledgement, unloaded."""
    validator = RequestValidator(TOKEN)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:

        async def one(i: int) -> None:
            form = _form(i, run_id)
            signature = validator.compute_signature(f"{base_url}{PATH}", form)
            response = await client.post(PATH, data=form, headers={"X-Twilio-Signature": signature})
            response.raise_for_status()

        return await measure("webhook ack, one request at a time", count, one)


async def acknowledgements(base_url: str, run_id: str) -> Timing:
    """POST signed webhooks at RATE_PER_SECOND for SECONDS (open loop) and time each answer."""
    validator = RequestValidator(TOKEN)
    total = RATE_PER_SECOND * SECONDS
    samples: list[float] = [0.0] * total
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:

        async def one(i: int, at: float) -> None:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            form = _form(i, run_id)
            signature = validator.compute_signature(f"{base_url}{PATH}", form)
            started = time.perf_counter()
            response = await client.post(PATH, data=form, headers={"X-Twilio-Signature": signature})
            samples[i] = time.perf_counter() - started
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        start = time.perf_counter() + 0.5
        await asyncio.gather(*(one(i, start + i / RATE_PER_SECOND) for i in range(total)))
    if statuses != {200: total}:
        raise RuntimeError(f"webhook answers were not all 200: {statuses}")
    return Timing(f"webhook ack at {RATE_PER_SECOND}/s for {SECONDS} s (verify, de-dup, enqueue)", samples)


class RecordingTransport(httpx.AsyncBaseTransport):
    """Sends to HAPI and, while `recording`, keeps every write (method, URL, body) for a replay."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.recording = False
        self.writes: list[tuple[str, str, bytes]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Record a write, then send."""
        if self.recording and request.method != "GET":
            self.writes.append((request.method, str(request.url), await request.aread()))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the real transport."""
        await self.inner.aclose()


def _unconditional(method: str, body: bytes) -> bytes:
    """A write without its preconditions (If-None-Exist, If-Match), its creates with fresh identifier
    values: a replay does the same work and never collides with what the PRM looks up by identifier."""
    if not body:
        return body
    resource = json.loads(body)
    entries = resource.get("entry", []) if resource.get("resourceType") == "Bundle" else []
    for entry in entries:
        entry.get("request", {}).pop("ifNoneExist", None)
        entry.get("request", {}).pop("ifMatch", None)
    creates = [e["resource"] for e in entries if e.get("request", {}).get("method") == "POST"]
    if method == "POST" and not entries:
        creates.append(resource)
    for created in creates:
        for identifier in created.get("identifier", []):
            identifier["value"] = f"{identifier.get('value', '')}-replay-{uuid.uuid4().hex[:8]}"
    return json.dumps(resource).encode()


async def _replay(raw: httpx.AsyncClient, writes: list[tuple[str, str, bytes]]) -> None:
    for method, url, body in writes:
        response = await raw.request(
            method,
            url,
            content=_unconditional(method, body),
            headers={"Content-Type": "application/fhir+json"},
        )
        response.raise_for_status()


async def _patients(services: Services, count: int) -> list[str]:
    """Patients who opted in to SMS (business messages need it)."""
    ids = []
    actor = Actor(kind=AgentKind.SYSTEM)
    for _ in range(count):
        phone = f"+9197{uuid.uuid4().int % 10**8:08d}"
        stored = await services.fhir.create(patient_resource(given="Bench", family="Patient", phone=phone))
        await consents.record(
            services.fhir, patient_id=stored["id"], channel="sms", decision=Decision.OPT_IN,
            source=ConsentSource.IMPORT, actors=[actor], recorded_at=services.clock.now(),
        )  # fmt: skip
        ids.append(stored["id"])
    return ids


async def _prepare(services: Services, patient_id: str, i: int) -> str:
    stored = await prepare_message(
        services.fhir, services.state, services.queue, patient_id=patient_id, channel="sms",
        text=f"Bench message {i}", sender=Actor(kind=AgentKind.SYSTEM), at=services.clock.now(),
    )  # fmt: skip
    return str(stored["id"])


async def pipeline_vs_writes(services: Services, recorder: RecordingTransport) -> tuple[Timing, Timing]:
    """One message at a time: prepare + send job (sandbox) vs the same HAPI writes sent straight."""
    patients = await _patients(services, PATIENTS)
    policy = send_policy(services.settings)
    recorded: list[list[tuple[str, str, bytes]]] = []

    async def pipeline(i: int) -> None:
        recorder.writes, recorder.recording = [], True
        communication = await _prepare(services, patients[i % PATIENTS], i)
        outcome = await send_message(
            fhir=services.fhir, queue=services.queue, messenger=services.messenger, policy=policy,
            communication_id=communication, now=services.clock.now(),
        )  # fmt: skip
        recorder.recording = False
        if outcome is not Outcome.SENT:
            raise RuntimeError(f"message {i} was not sent: {outcome}")
        recorded.append(recorder.writes)

    async with httpx.AsyncClient() as raw:

        async def writes(i: int) -> None:
            await _replay(raw, recorded[i])

        prm, baseline = await measure_side_by_side(
            PIPELINE_RUNS,
            ("message: prepare + send job (sandbox), one at a time", pipeline),
            ("the same HAPI writes, straight", writes),
        )
    print(f"\nHAPI writes per message: {len(recorded[-1])} ({', '.join(m for m, _, _ in recorded[-1])})")
    return prm, baseline


async def throughput(services: Services, env: dict[str, str]) -> tuple[float, float]:
    """Messages per second: preparing in one process, then sending with WORKERS workers (sandbox)."""
    patients = await _patients(services, PATIENTS)
    started = time.perf_counter()
    ids = [await _prepare(services, patients[i % PATIENTS], i) for i in range(THROUGHPUT_MESSAGES)]
    prepared_per_second = len(ids) / (time.perf_counter() - started)
    with workers(env, WORKERS):
        first = last = None
        done_at_first = 0
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            done = sum(
                [
                    await services.fhir.count(
                        "Communication", {"_id": ",".join(chunk), "status": "completed"}
                    )
                    for chunk in (ids[i : i + 50] for i in range(0, len(ids), 50))
                ]
            )
            now = time.perf_counter()
            if done and first is None:
                first, done_at_first = now, done
            if done == len(ids):
                last = now
                break
            await asyncio.sleep(0.1)
        if first is None or last is None or last == first:
            raise RuntimeError("the workers did not send every message within 300 s")
    return prepared_per_second, (len(ids) - done_at_first) / (last - first)


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
        "PRM_TWILIO_AUTH_TOKEN": TOKEN,
        "PRM_QUIET_HOURS_START": NO_QUIET_HOURS.isoformat(),
        "PRM_QUIET_HOURS_END": NO_QUIET_HOURS.isoformat(),
    }


def _services(fhir_url: str, redis_url: str, queue: str, fhir: FhirClient | None = None) -> Services:
    settings = Settings(
        environment="test", fhir_base_url=fhir_url, redis_url=redis_url, queue_name=queue,
        transcription_engine="none", log_level="WARNING",
        quiet_hours_start=NO_QUIET_HOURS, quiet_hours_end=NO_QUIET_HOURS,
    )  # fmt: skip
    return build_services(settings, fhir=fhir)


async def run(fhir_url: str, redis_url: str) -> None:
    """Measure and print."""
    configure_logging(level="WARNING", json=False)
    port, run_id = free_port(), uuid.uuid4().hex[:8]
    api = start_api(_env(fhir_url, redis_url, f"bench-ack-{run_id}", port), port)
    try:
        sequential = await sequential_acknowledgements(api.url, run_id[::-1])
        ack = await acknowledgements(api.url, run_id)
    finally:
        api.stop()
    recorder = RecordingTransport()
    single = _services(
        fhir_url, redis_url, f"bench-single-{run_id}", FhirClient(fhir_url, transport=recorder)
    )
    try:
        prm, baseline = await pipeline_vs_writes(single, recorder)
    finally:
        await single.aclose()
    queue = f"bench-send-{run_id}"
    many = _services(fhir_url, redis_url, queue)
    try:
        prepared, sent = await throughput(many, _env(fhir_url, redis_url, queue, port))
    finally:
        await many.aclose()
    report("Messaging", [(prm, baseline)], [sequential, ack])
    print(
        f"\n{THROUGHPUT_MESSAGES} messages: prepared at {prepared:.1f}/s (one process, sequential); "
        f"sent at {sent:.1f}/s by {WORKERS} workers (sandbox messenger)."
    )


def main() -> None:
    """Run against PRM_BENCH_* servers or fresh ones."""
    with servers() as (fhir_url, redis_url):
        asyncio.run(run(fhir_url, redis_url))


if __name__ == "__main__":
    main()
