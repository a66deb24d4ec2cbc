"""The FHIR gateway's overhead: create, read and search through `FhirClient` vs raw httpx
straight to HAPI; and the `/fhir` reverse proxy (the API under a real uvicorn on loopback) vs
HAPI directly, read and search. Each pair measured side by side (alternating) in one run."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable

import httpx

from app.fhir.client import FhirClient
from bench.support import measure, measure_side_by_side, report, servers
from tests.support.live import serve_process

RUNS = 200
# A realistic page: what an EHR syncing appointments or a dashboard list reads at once.
PAGE_SIZE = 50
SYSTEM = "urn:prm:bench"
BENCH_KEY = "bench-integration-key"


def _org(i: int, tag: str) -> dict[str, object]:
    return {
        "resourceType": "Organization",
        "name": f"bench {tag} {i}",
        "identifier": [{"system": SYSTEM, "value": f"{tag}-{i}"}],
    }


async def run(fhir_url: str) -> None:
    """Measure and print."""
    tag = uuid.uuid4().hex[:8]
    gateway = FhirClient(fhir_url)
    raw = httpx.AsyncClient(base_url=fhir_url + "/", headers={"Accept": "application/fhir+json"})
    headers = {"Content-Type": "application/fhir+json", "Prefer": "return=representation"}
    gateway_ids: list[str] = []
    raw_ids: list[str] = []

    async def gateway_create(i: int) -> None:
        gateway_ids.append((await gateway.create(_org(i, f"g{tag}")))["id"])

    async def raw_create(i: int) -> None:
        response = await raw.post("Organization", json=_org(i, f"r{tag}"), headers=headers)
        response.raise_for_status()
        raw_ids.append(response.json()["id"])

    async def gateway_read(i: int) -> None:
        await gateway.read("Organization", gateway_ids[i])

    async def raw_read(i: int) -> None:
        (await raw.get(f"Organization/{raw_ids[i]}")).raise_for_status()

    async def gateway_search(i: int) -> None:
        await gateway.search("Organization", {"identifier": f"{SYSTEM}|g{tag}-{i}"})

    async def raw_search(i: int) -> None:
        (await raw.get("Organization", params={"identifier": f"{SYSTEM}|r{tag}-{i}"})).raise_for_status()

    # Warm both paths (HAPI's first requests are slow) before measuring.
    await gateway.search("Organization", {"_count": "1"})
    await raw.get("Organization", params={"_count": "1"})
    pairs = []
    for name, prm_op, raw_op in [
        ("create", gateway_create, raw_create),
        ("read", gateway_read, raw_read),
        ("search by identifier", gateway_search, raw_search),
    ]:
        pairs.append(
            await measure_side_by_side(RUNS, (f"{name} (gateway)", prm_op), (f"{name} (raw httpx)", raw_op))
        )
    report(f"FHIR gateway vs raw httpx to HAPI, {RUNS} sequential requests each", pairs)
    await gateway.aclose()
    await raw.aclose()


async def run_proxy(fhir_url: str, api_port: int) -> None:
    """`/fhir` through the PRM (uvicorn, loopback) vs HAPI directly: read and search, alternating."""
    tag = uuid.uuid4().hex[:8]
    direct = httpx.AsyncClient(base_url=fhir_url + "/")
    proxy = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{api_port}/fhir/", headers={"Authorization": f"Bearer {BENCH_KEY}"}
    )
    ids = []
    for i in range(RUNS):
        response = await direct.post(
            "Organization", json=_org(i, f"p{tag}"), headers={"Content-Type": "application/fhir+json"}
        )
        response.raise_for_status()
        ids.append(response.json()["id"])

    def reader(client: httpx.AsyncClient) -> Callable[[int], Awaitable[None]]:
        async def read(i: int) -> None:
            (await client.get(f"Organization/{ids[i]}")).raise_for_status()

        return read

    def searcher(client: httpx.AsyncClient) -> Callable[[int], Awaitable[None]]:
        async def search(i: int) -> None:
            params = {"identifier": f"{SYSTEM}|p{tag}-{i}"}
            (await client.get("Organization", params=params)).raise_for_status()

        return search

    def pager(client: httpx.AsyncClient) -> Callable[[int], Awaitable[None]]:
        async def page(_: int) -> None:
            params = {"identifier": f"{SYSTEM}|", "_count": str(PAGE_SIZE)}
            (await client.get("Organization", params=params)).raise_for_status()

        return page

    for client in (proxy, direct):  # warm both paths
        (await client.get("Organization", params={"_count": "1"})).raise_for_status()
    pairs = [
        await measure_side_by_side(
            RUNS, ("read (/fhir proxy)", reader(proxy)), ("read (HAPI direct)", reader(direct))
        ),
        await measure_side_by_side(
            RUNS,
            ("search by identifier (/fhir proxy)", searcher(proxy)),
            ("search (HAPI direct)", searcher(direct)),
        ),
        await measure_side_by_side(
            RUNS,
            (f"search, a page of {PAGE_SIZE} (/fhir proxy)", pager(proxy)),
            (f"search, a page of {PAGE_SIZE} (HAPI direct)", pager(direct)),
        ),
    ]

    async def health(_: int) -> None:
        (await proxy.get(f"http://127.0.0.1:{api_port}/health")).raise_for_status()

    # The API's own floor: a request that never reaches HAPI (routing, middleware, request log).
    floor = await measure("GET /health (the API's floor, no HAPI)", RUNS, health)
    report(
        f"/fhir reverse proxy (uvicorn, loopback) vs HAPI directly, {RUNS} sequential requests each",
        pairs,
        [floor],
    )
    await proxy.aclose()
    await direct.aclose()


def main() -> None:
    """Entry point."""
    with servers() as (fhir_url, redis_url):
        asyncio.run(run(fhir_url))
        # The API in its own process, as deployed: a thread in this process would share its GIL.
        env = {
            "PRM_ENVIRONMENT": "test",
            "PRM_FHIR_BASE_URL": fhir_url,
            "PRM_REDIS_URL": redis_url,
            "PRM_LOAD_CONFORMANCE_ON_STARTUP": "false",
            "PRM_LOG_LEVEL": "WARNING",
            "PRM_API_KEYS": json.dumps([{"key": BENCH_KEY, "role": "integration", "user": "bench"}]),
            # A benchmark measures the proxy, not the per-key rate limit it would hit within a second.
            "PRM_RATE_LIMIT_PER_KEY": "1000000/minute",
        }
        with serve_process(env) as port:
            asyncio.run(run_proxy(fhir_url, port))


if __name__ == "__main__":
    main()
