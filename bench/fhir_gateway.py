"""The FHIR gateway's overhead: create, read and search through `FhirClient` vs raw httpx
straight to HAPI, measured side by side in one run."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from app.fhir.client import FhirClient
from bench.support import measure_side_by_side, report, servers

RUNS = 200
SYSTEM = "urn:prm:bench"


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


def main() -> None:
    """Entry point."""
    with servers() as (fhir_url, _):
        asyncio.run(run(fhir_url))


if __name__ == "__main__":
    main()
