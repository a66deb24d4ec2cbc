"""Assistant latency over the labelled examples: the offline extractor alone, and the whole
interpret (extraction + resolution against HAPI) through the API, side by side in one run."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from pydantic import SecretStr

from adapters.llm.offline import OfflineExtractor
from app.config import ApiKey, Role, Settings
from app.demo.seed import demo_directory
from app.main import create_app
from app.ports.nlu import ExtractionContext
from bench.support import measure, report, seed_demo, servers

EXAMPLES = [
    json.loads(line)
    for line in (Path(__file__).parents[1] / "tests" / "assistant" / "eval_examples.jsonl")
    .read_text()
    .splitlines()
    if line
]
ROUNDS = 10
KEY = "bench-staff-key"
DEMO_HORIZON_DAYS = 14


async def run(fhir_url: str, redis_url: str) -> None:
    """Measure and print."""
    settings = Settings(
        environment="test",
        fhir_base_url=fhir_url,
        redis_url=redis_url,
        load_conformance_on_startup=False,
        log_level="WARNING",
        # A benchmark measures the API, not the per-key rate limit it would hit within a second.
        rate_limit_per_key="1000000/minute",
        api_keys=[ApiKey(key=SecretStr(KEY), role=Role.STAFF, user="bench")],
    )
    await seed_demo(settings, horizon_days=DEMO_HORIZON_DAYS)
    data = demo_directory()
    extractor = OfflineExtractor()
    runs = ROUNDS * len(EXAMPLES)

    async def extract_only(i: int) -> None:
        example = EXAMPLES[i % len(EXAMPLES)]
        context = ExtractionContext(
            now=datetime.fromisoformat(example["now"]).astimezone(ZoneInfo("Asia/Kolkata")),
            practitioner_names=tuple(p["name"] for p in data["practitioners"]),
            patient_names=tuple(p["name"] for p in data["patients"]),
        )
        await extractor.extract(example["text"], context=context)

    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bench") as api,
    ):

        async def interpret(i: int) -> None:
            example = EXAMPLES[i % len(EXAMPLES)]
            response = await api.post(
                "/api/v1/assistant/interpret",
                json={"text": example["text"], "now": example["now"]},
                headers={"Authorization": f"Bearer {KEY}"},
            )
            assert response.status_code == 200, response.text

        await interpret(0)  # warm the directory and patient-name caches
        extraction = await measure("offline extraction only", runs, extract_only)
        whole = await measure("interpret: extraction + resolution against HAPI (API)", runs, interpret)
    report(f"Assistant, {len(EXAMPLES)} labelled examples x {ROUNDS}", [(whole, extraction)])


def main() -> None:
    """Entry point."""
    with servers() as (fhir_url, redis_url):
        asyncio.run(run(fhir_url, redis_url))


if __name__ == "__main__":
    main()
