"""Offline extraction latency over both labelled sets (the shared examples and the breadth set), per
instruction, without servers: `python -m bench.extraction`."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from adapters.llm.offline import OfflineExtractor
from app.demo.seed import demo_directory
from app.ports.nlu import ExtractionContext
from bench.support import measure, report

LABELLED = Path(__file__).parents[1] / "tests" / "assistant"
ROUNDS = 20


def examples(name: str) -> list[dict[str, str]]:
    """The labelled instructions of one set."""
    return [json.loads(line) for line in (LABELLED / name).read_text().splitlines() if line]


async def run() -> None:
    """Measure and print."""
    data = demo_directory()
    extractor = OfflineExtractor()
    timings = []
    for name in ("eval_examples.jsonl", "eval_breadth.jsonl"):
        found = examples(name)
        contexts = [
            ExtractionContext(
                now=datetime.fromisoformat(e["now"]).astimezone(ZoneInfo("Asia/Kolkata")),
                practitioner_names=tuple(p["name"] for p in data["practitioners"]),
                patient_names=tuple(p["name"] for p in data["patients"]),
            )
            for e in found
        ]

        async def extract(
            i: int, found: list[dict[str, str]] = found, contexts: list[ExtractionContext] = contexts
        ) -> None:
            await extractor.extract(found[i % len(found)]["text"], context=contexts[i % len(found)])

        await extract(0)  # warm the regex and name caches
        timings.append(
            await measure(
                f"offline extraction, {name} ({len(found)} x {ROUNDS})", ROUNDS * len(found), extract
            )
        )
    report("Offline extraction", [], timings)


if __name__ == "__main__":
    asyncio.run(run())
