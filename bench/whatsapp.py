"""WhatsApp bot: scripted 5-turn bookings by many numbers at once through the running API (signed
webhooks) and 2 workers (conversations/s, turn latency from webhook in to reply recorded, messages lost
or duplicated), the same turns in-process beside the time they spend in HAPI, and an outage: HAPI
stopped for 60 s during a burst of 500 inbound messages, after which every message must be stored once
and answered once. It runs its own HAPI (it stops and restarts it) and Redis."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from app.config import Settings
from app.conformance import load_conformance
from app.demo.seed import load_demo
from app.fhir.canonical import SID_MESSAGE_KEY, SID_TWILIO_MESSAGE
from app.fhir.client import FhirClient
from app.logging import configure_logging
from app.messaging.notifications import CONFIRMATION
from app.patients.resources import patient_resource
from app.ports.inbound import InboundMessage
from app.ports.jobs import Job
from app.ports.messaging import MessageChannel
from app.services import Services, build_services
from bench.support import Timing, report, workers
from tests.support.servers import HAPI_SCRIPT, free_port, start_api, start_redis
from tests.support.twilio import INBOUND_PATH, inbound_form, signed_headers
from workers.registry import JOBS

TOKEN = "bench-twilio-auth-token"
# A patient who knows what they want: greeting, request, re-filter, pick, confirm.
SCRIPT = ("hi", "I need a heart doctor", "afternoon", "{pick}", "yes")
CONVERSATIONS = int(os.environ.get("PRM_BENCH_WA_CONVERSATIONS", "20"))
CONCURRENT = 10
IN_PROCESS_CONVERSATIONS = 4
WORKERS = 2
OUTAGE_MESSAGES = int(os.environ.get("PRM_BENCH_WA_OUTAGE_MESSAGES", "500"))
OUTAGE_NUMBERS = 100
OUTAGE_RATE_PER_SECOND = 20
OUTAGE_SECONDS = 60
POLL_SECONDS = 0.2
TURN_TIMEOUT_SECONDS = 600
# Jobs retry after 10, 60 and 300 s (workers/queue.py): the last retry of a message that failed while
# HAPI was down comes ~6 minutes after it arrived.
RECOVERY_TIMEOUT_SECONDS = 900
HAPI_PORT = int(os.environ.get("PRM_BENCH_WA_HAPI_PORT", "8192"))
HAPI_DATA = Path(os.environ.get("PRM_BENCH_WA_HAPI_DATA", "/tmp/hapi-bench-wa"))
HAPI_START_SECONDS = 900
# A loaded box answers slowly: requests wait rather than fail (the figures show the wait).
FHIR_TIMEOUT_SECONDS = 300


def _env(fhir_url: str, redis_url: str, queue: str, public_url: str) -> dict[str, str]:
    return {
        "PRM_ENVIRONMENT": "test",
        "PRM_FHIR_BASE_URL": fhir_url,
        "PRM_REDIS_URL": redis_url,
        "PRM_QUEUE_NAME": queue,
        "PRM_LOAD_CONFORMANCE_ON_STARTUP": "false",
        "PRM_CHANGE_FEED_SUBSCRIBE_ON_STARTUP": "false",
        "PRM_TRANSCRIPTION_ENGINE": "none",
        "PRM_LOG_LEVEL": "WARNING",
        "PRM_PUBLIC_BASE_URL": public_url,
        "PRM_TWILIO_AUTH_TOKEN": TOKEN,
        "PRM_FHIR_TIMEOUT_SECONDS": str(FHIR_TIMEOUT_SECONDS),
    }


def _settings(fhir_url: str, redis_url: str, queue: str) -> Settings:
    return Settings(
        environment="test", fhir_base_url=fhir_url, redis_url=redis_url, queue_name=queue,
        transcription_engine="none", log_level="WARNING", fhir_timeout_seconds=FHIR_TIMEOUT_SECONDS,
    )  # fmt: skip


class Hapi:
    """The bench's own HAPI (H2 files in HAPI_DATA), which it can stop and start again."""

    def __init__(self, port: int, data: Path) -> None:
        self.port, self.data = port, data
        self.url = f"http://127.0.0.1:{port}/fhir"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait until it answers."""
        self.data.mkdir(parents=True, exist_ok=True)
        log = (self.data.parent / f"{self.data.name}.log").open("ab")
        self.process = subprocess.Popen(
            [str(HAPI_SCRIPT), "start", str(self.port), str(self.data)], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + HAPI_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"HAPI exited with {self.process.returncode}; see {log.name}")
            try:
                if (
                    httpx.get(f"{self.url}/metadata", params={"_summary": "true"}, timeout=5).status_code
                    == 200
                ):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise RuntimeError(f"HAPI did not answer within {HAPI_START_SECONDS} s; see {log.name}")

    def stop(self) -> None:
        """Stop it (SIGTERM: HAPI shuts down cleanly, its data stays)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=120)
        self.process = None


async def _patients(fhir: FhirClient, count: int) -> list[tuple[str, str]]:
    """Registered patients (phone, id): the bot greets them by name and goes straight to the request."""
    patients = []
    for _ in range(count):
        phone = f"+9196{uuid.uuid4().int % 10**8:08d}"
        stored = await fhir.create(patient_resource(given="Bench", family="Patient", phone=phone))
        patients.append((phone, str(stored["id"])))
    return patients


async def _stored(fhir: FhirClient, sid: str) -> list[dict[str, Any]]:
    """The inbound Communications stored for one Twilio message (one, if nothing was duplicated)."""
    return await fhir.search("Communication", {"identifier": f"{SID_TWILIO_MESSAGE}|{sid}"})


async def _replies(fhir: FhirClient, inbound_id: str) -> list[dict[str, Any]]:
    """The bot's first reply to one message (created once: its key is the message's and its place)."""
    return await fhir.search(
        "Communication", {"identifier": f"{SID_MESSAGE_KEY}|bot/{inbound_id}/0", "_count": "5"}
    )


async def _confirmations(fhir: FhirClient, patient_id: str) -> list[dict[str, Any]]:
    """The confirmations of the patient's bookings: the bot answers its booking with the appointment's
    own message (keyed by the appointment version), not a line of its own."""
    found = []
    for appointment in await fhir.search(
        "Appointment", {"patient": f"Patient/{patient_id}", "status": "booked"}
    ):
        key = f"appointment/{appointment['id']}/{appointment['meta']['versionId']}/{CONFIRMATION}"
        found += await fhir.search("Communication", {"identifier": f"{SID_MESSAGE_KEY}|{key}"})
    return found


async def _recorded_at(fhir: FhirClient, reply: dict[str, Any]) -> float:
    """When the reply was first written (its version 1), as a wall-clock timestamp."""
    first = await fhir.vread("Communication", reply["id"], "1")
    return datetime.fromisoformat(first["meta"]["lastUpdated"]).timestamp()


@dataclass
class Tally:
    """Posted messages counted in HAPI: stored and answered exactly once, or not."""

    messages: int = 0
    stored_once: int = 0
    stored_more: int = 0
    lost: int = 0
    answered_once: int = 0
    answered_more: int = 0
    unanswered: int = 0

    def line(self) -> str:
        """One line for the report."""
        return (
            f"{self.messages} messages: stored once {self.stored_once}, stored twice or more "
            f"{self.stored_more}, lost {self.lost}; answered once {self.answered_once}, answered twice "
            f"or more {self.answered_more}, unanswered {self.unanswered}"
        )


async def _tally(fhir: FhirClient, sids: list[str], confirming: dict[str, str] | None = None) -> Tally:
    """Count each posted message's stored copies and answers (`confirming`: the messages that confirm a
    booking, by patient id, whose answer is the booking's confirmation)."""
    tally = Tally(messages=len(sids))
    for sid in sids:
        stored = await _stored(fhir, sid)
        tally.lost += not stored
        tally.stored_once += len(stored) == 1
        tally.stored_more += len(stored) > 1
        replies = [r for s in stored for r in await _replies(fhir, s["id"])]
        if not replies and sid in (confirming or {}):
            replies = await _confirmations(fhir, (confirming or {})[sid])
        tally.unanswered += not replies
        tally.answered_once += len(replies) == 1
        tally.answered_more += len(replies) > 1
    return tally


class Driver:
    """Posts signed webhooks to the API and waits for the bot's answers in HAPI."""

    def __init__(self, client: httpx.AsyncClient, fhir: FhirClient, public_url: str) -> None:
        self.client, self.fhir, self.public_url = client, fhir, public_url
        self.sids: list[str] = []
        self.confirming: dict[str, str] = {}  # MessageSid -> patient id, for the turns that confirm

    async def post(self, phone: str, text: str) -> tuple[str, float]:
        """One inbound message as Twilio posts it; its MessageSid and when it was posted."""
        form = inbound_form(sender=phone, text=text)
        headers = signed_headers(TOKEN, f"{self.public_url}{INBOUND_PATH}", form)
        posted = time.time()
        response = await self.client.post(INBOUND_PATH, data=form, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"webhook answered {response.status_code}")
        self.sids.append(form["MessageSid"])
        return form["MessageSid"], posted

    async def answered(self, sid: str, *, timeout: float, patient_id: str | None = None) -> dict[str, Any]:
        """Wait for the message to be stored and answered: the bot's first reply, or (`patient_id`: a turn
        that confirms a booking) the booking's confirmation."""
        deadline = time.monotonic() + timeout
        inbound_id: str | None = None
        while time.monotonic() < deadline:
            if inbound_id is None and (stored := await _stored(self.fhir, sid)):
                inbound_id = str(stored[0]["id"])
            if inbound_id and (found := await _replies(self.fhir, inbound_id)):
                return found[0]
            if inbound_id and patient_id and (found := await _confirmations(self.fhir, patient_id)):
                return found[0]
            await asyncio.sleep(POLL_SECONDS)
        raise RuntimeError(f"message {sid} was not answered within {timeout:.0f} s")


async def conversations(driver: Driver, patients: list[tuple[str, str]]) -> tuple[Timing, float, int]:
    """Every phone runs SCRIPT (CONCURRENT at a time); turn latencies, conversations/s, bookings."""
    latencies: list[float] = []
    booked = 0
    gate = asyncio.Semaphore(CONCURRENT)

    async def one(index: int, phone: str, patient_id: str) -> None:
        nonlocal booked
        async with gate:
            for n, line in enumerate(SCRIPT):
                sid, posted = await driver.post(phone, line.format(pick=index % 5 + 1))
                confirming = patient_id if n == len(SCRIPT) - 1 else None
                if confirming:
                    driver.confirming[sid] = confirming
                reply = await driver.answered(sid, timeout=TURN_TIMEOUT_SECONDS, patient_id=confirming)
                latencies.append(await _recorded_at(driver.fhir, reply) - posted)
            if await driver.fhir.count(
                "Appointment", {"patient": f"Patient/{patient_id}", "status": "booked"}
            ):
                booked += 1

    started = time.perf_counter()
    await asyncio.gather(*(one(i, phone, patient) for i, (phone, patient) in enumerate(patients)))
    elapsed = time.perf_counter() - started
    name = f"bot turn, webhook in -> reply recorded ({CONCURRENT} conversations at once, {WORKERS} workers)"
    return Timing(name, latencies), len(patients) / elapsed, booked


class TimingTransport(httpx.AsyncBaseTransport):
    """Sends to HAPI, adding up the requests and the time spent waiting for them."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests = 0
        self.seconds = 0.0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Time one request (its body read too)."""
        started = time.perf_counter()
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.seconds += time.perf_counter() - started
        self.requests += 1
        return response

    async def aclose(self) -> None:
        """Close the real transport."""
        await self.inner.aclose()


async def in_process(services: Services, timer: TimingTransport) -> tuple[Timing, Timing, list[int]]:
    """The receive and bot jobs of SCRIPT in this process, beside the time their HAPI requests took."""
    patients = await _patients(services.fhir, IN_PROCESS_CONVERSATIONS)
    turns: list[float] = []
    hapi: list[float] = []
    requests: list[int] = []
    for index, (phone, _) in enumerate(patients):
        for line in SCRIPT:
            message = InboundMessage(
                provider_id="SM" + uuid.uuid4().hex, channel=MessageChannel.WHATSAPP, sender=phone,
                recipient=None, text=line.format(pick=index % 5 + 1), received_at=services.clock.now(),
            )  # fmt: skip
            timer.requests, timer.seconds = 0, 0.0
            started = time.perf_counter()
            stored = await JOBS[Job.RECEIVE_MESSAGE](services, message.to_payload())
            await JOBS[Job.ANSWER_MESSAGE](services, {"communication": stored["id"], "button": None})  # type: ignore[index]
            turns.append(time.perf_counter() - started)
            hapi.append(timer.seconds)
            requests.append(timer.requests)
    return (
        Timing("bot turn in-process (receive job + bot job)", turns),
        Timing("the same turn's HAPI requests (time waiting for HAPI)", hapi),
        requests,
    )


async def outage(hapi: Hapi, services: Services, driver: Driver) -> tuple[Tally, float]:
    """A burst of OUTAGE_MESSAGES from OUTAGE_NUMBERS new numbers; HAPI stopped for OUTAGE_SECONDS in it."""
    numbers = [f"+9195{uuid.uuid4().int % 10**8:08d}" for _ in range(OUTAGE_NUMBERS)]
    driver.sids = []
    stopped_at = 0.0
    for i in range(OUTAGE_MESSAGES):
        if i == OUTAGE_MESSAGES // 5:
            hapi.stop()
            stopped_at = time.monotonic()
        await driver.post(numbers[i % OUTAGE_NUMBERS], f"hello {i // OUTAGE_NUMBERS}")
        await asyncio.sleep(1 / OUTAGE_RATE_PER_SECOND)
    await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped_at)))
    print(f"HAPI was down {time.monotonic() - stopped_at:.0f} s; starting it again", flush=True)
    await asyncio.to_thread(hapi.start)
    restarted_at = time.monotonic()
    pending = list(driver.sids)
    deadline = restarted_at + RECOVERY_TIMEOUT_SECONDS
    while pending and time.monotonic() < deadline:
        still = []
        for sid in pending:
            stored = await _stored(services.fhir, sid)
            if not stored or not await _replies(services.fhir, stored[0]["id"]):
                still.append(sid)
        pending = still
        if pending:
            await asyncio.sleep(5)
    return await _tally(services.fhir, driver.sids), time.monotonic() - restarted_at


async def run(hapi: Hapi, redis_url: str) -> None:
    """Measure and print."""
    configure_logging(level="WARNING", json=False)
    queue = f"bench-bot-{uuid.uuid4().hex[:8]}"
    timer = TimingTransport()
    services = build_services(
        _settings(hapi.url, redis_url, queue),
        fhir=FhirClient(hapi.url, transport=timer, timeout_seconds=FHIR_TIMEOUT_SECONDS),
    )
    try:
        await load_conformance(services.fhir)
        await load_demo(
            services.fhir,
            services.directory,
            services.state,
            now=datetime.now(UTC),
            horizon_days=14,
            mrn_prefix=services.settings.mrn_prefix,
        )
        turn, hapi_time, requests = await in_process(services, timer)
        report("WhatsApp bot, in-process", [(turn, hapi_time)])
        print(
            f"\nHAPI requests per turn (in-process): median {sorted(requests)[len(requests) // 2]}, "
            f"max {max(requests)}.",
            flush=True,
        )
        patients = await _patients(services.fhir, CONVERSATIONS)
        port = free_port()
        public_url = f"http://127.0.0.1:{port}"
        env = _env(hapi.url, redis_url, f"{queue}-live", public_url)
        api = start_api(env, port)
        try:
            with workers(env, WORKERS):
                async with httpx.AsyncClient(base_url=public_url, timeout=30) as client:
                    driver = Driver(client, services.fhir, public_url)
                    live, per_second, booked = await conversations(driver, patients)
                    live_tally = await _tally(services.fhir, driver.sids, driver.confirming)
                    report("WhatsApp bot, live", [], [live])
                    print(
                        f"\n{CONVERSATIONS} scripted 5-turn conversations ({CONCURRENT} at once, {WORKERS} "
                        f"workers): {per_second:.3f} conversations/s, {booked} ended with a booking.\n"
                        f"{live_tally.line()}",
                        flush=True,
                    )
                    if os.environ.get("PRM_BENCH_SKIP_OUTAGE"):
                        return
                    result, recovered = await outage(hapi, services, driver)
        finally:
            api.stop()
    finally:
        await services.aclose()
    print(
        f"\nHAPI stopped {OUTAGE_SECONDS} s during a burst of {OUTAGE_MESSAGES} inbound messages from "
        f"{OUTAGE_NUMBERS} new numbers ({OUTAGE_RATE_PER_SECOND}/s):\n{result.line()}; all answered "
        f"{recovered:.0f} s after HAPI answered again."
    )


def main() -> None:
    """Run against a HAPI and Redis of its own (HAPI_DATA is wiped first unless PRM_BENCH_WA_FRESH=0)."""
    if os.environ.get("PRM_BENCH_WA_FRESH") != "0":
        shutil.rmtree(HAPI_DATA, ignore_errors=True)
    subprocess.run([str(HAPI_SCRIPT), "build"], check=True)
    hapi = Hapi(HAPI_PORT, HAPI_DATA)
    with tempfile.TemporaryDirectory(prefix="prm-bench-wa-") as tmp:
        redis = start_redis(Path(tmp) / "redis")
        try:
            hapi.start()
            asyncio.run(run(hapi, redis.url))
        finally:
            hapi.stop()
            redis.stop()


if __name__ == "__main__":
    main()
