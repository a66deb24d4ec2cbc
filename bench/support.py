"""Shared by the benchmarks: the servers to measure against, timing and printing."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from redis import Redis

from app.config import Settings
from app.conformance import load_conformance
from app.demo.seed import load_demo
from app.ports.jobs import Lane
from app.services import build_services
from tests.support.servers import Server, start_hapi, start_redis
from tests.support.transport import CountingTransport as CountingTransport
from workers.queue import backlog


@dataclass(frozen=True)
class Timing:
    """Latencies (seconds) of one measured operation."""

    name: str
    samples: list[float]

    @property
    def p50_ms(self) -> float:
        """Median latency in milliseconds."""
        return statistics.median(self.samples) * 1000

    @property
    def p99_ms(self) -> float:
        """99th percentile latency in milliseconds."""
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000

    @property
    def per_second(self) -> float:
        """Sequential throughput."""
        return len(self.samples) / sum(self.samples)


async def measure(name: str, runs: int, operation: Callable[[int], Awaitable[object]]) -> Timing:
    """Run `operation(i)` `runs` times sequentially and time each call."""
    samples = []
    for i in range(runs):
        started = time.perf_counter()
        await operation(i)
        samples.append(time.perf_counter() - started)
    return Timing(name, samples)


async def measure_side_by_side(
    runs: int,
    first: tuple[str, Callable[[int], Awaitable[object]]],
    second: tuple[str, Callable[[int], Awaitable[object]]],
) -> tuple[Timing, Timing]:
    """Time two operations alternately, so warm-up and drift affect both alike."""
    samples: tuple[list[float], list[float]] = ([], [])
    for i in range(runs):
        for (_, operation), times in zip((first, second), samples, strict=True):
            started = time.perf_counter()
            await operation(i)
            times.append(time.perf_counter() - started)
    return Timing(first[0], samples[0]), Timing(second[0], samples[1])


def machine() -> str:
    """What the figures were measured on."""
    return f"{os.cpu_count()} cores, {os.uname().sysname} {os.uname().machine}"


def report(title: str, pairs: list[tuple[Timing, Timing]], singles: Sequence[Timing] = ()) -> None:
    """Print a table: each PRM path beside its straight-to-HAPI baseline, and the ratio."""
    print(f"\n## {title}  ({machine()})\n")
    print("| operation | p50 ms | p99 ms | ops/s | baseline p50 ms | baseline p99 ms | ratio (p50) |")
    print("|---|---|---|---|---|---|---|")
    for prm, raw in pairs:
        print(
            f"| {prm.name} | {prm.p50_ms:.1f} | {prm.p99_ms:.1f} | {prm.per_second:.0f} | "
            f"{raw.p50_ms:.1f} | {raw.p99_ms:.1f} | {prm.p50_ms / raw.p50_ms:.2f}x |"
        )
    for single in singles:
        print(
            f"| {single.name} | {single.p50_ms:.1f} | {single.p99_ms:.1f} | {single.per_second:.0f} | | | |"
        )


@contextmanager
def workers(env: dict[str, str], count: int) -> Iterator[None]:
    """`count` worker processes (`python -m workers`) with `env`, stopped (warm, then killed) on exit."""
    started = [
        subprocess.Popen([sys.executable, "-m", "workers"], env={**os.environ, **env},
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(count)
    ]  # fmt: skip
    try:
        yield
    finally:
        for worker in started:
            worker.terminate()
        for worker in started:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a long periodic job holds the warm shutdown
                worker.kill()


def wait_for_quiet(
    store: Redis, queue: str, *, lanes: tuple[Lane, ...] = tuple(Lane), poll_seconds: float
) -> float:
    """Wait until no job is queued or being worked in `lanes` on two polls in a row; when it first was
    (perf_counter)."""
    first_empty: float | None = None
    while True:
        now = time.perf_counter()
        if backlog(store, queue, lanes):
            first_empty = None
        elif first_empty is None:
            first_empty = now
        else:
            return first_empty
        time.sleep(poll_seconds)


@contextmanager
def servers() -> Iterator[tuple[str, str]]:
    """(FHIR base URL, Redis URL): PRM_BENCH_FHIR_BASE_URL / PRM_BENCH_REDIS_URL, or fresh ones."""
    started: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="prm-bench-") as tmp:
        fhir = os.environ.get("PRM_BENCH_FHIR_BASE_URL")
        if not fhir:
            hapi = start_hapi(Path(tmp))
            started.append(hapi)
            fhir = hapi.url
        redis = os.environ.get("PRM_BENCH_REDIS_URL")
        if not redis:
            server = start_redis(Path(tmp) / "redis")
            started.append(server)
            redis = server.url
        asyncio.run(load_profiles(fhir))
        try:
            yield fhir, redis
        finally:
            for server in started:
                server.stop()


async def seed_demo(settings: Settings, *, horizon_days: int) -> None:
    """The demo clinic (directory, patients, `horizon_days` of slots) in the HAPI `settings` name."""
    services = build_services(settings)
    try:
        await load_demo(
            services.fhir,
            services.directory,
            services.state,
            now=services.clock.now(),
            horizon_days=horizon_days,
            mrn_prefix=settings.mrn_prefix,
        )
    finally:
        await services.aclose()


async def load_profiles(fhir_url: str) -> None:
    """HAPI enforces the PRM profiles on write, so they must be there first (idempotent)."""
    services = build_services(Settings(environment="test", fhir_base_url=fhir_url, fhir_timeout_seconds=120))
    try:
        await load_conformance(services.fhir)
    finally:
        await services.aclose()
