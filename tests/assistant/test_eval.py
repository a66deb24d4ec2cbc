"""The labelled staff instructions (../shared/eval, copied into tests/assistant/eval_examples.jsonl)
through /api/v1/assistant/interpret with the offline extractor, against the demo clinic in the
real HAPI. Scoring follows ../shared/eval/README.md; every example must pass."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx
import pytest

from bench.assistant_passk import score

pytestmark = pytest.mark.integration
EXAMPLES = [
    json.loads(line)
    for line in (Path(__file__).parent / "eval_examples.jsonl").read_text().splitlines()
    if line
]


async def test_every_labelled_example_is_interpreted_right(
    api: httpx.AsyncClient, staff: dict[str, str], demo_clinic: None
) -> None:
    per_field: Counter[str] = Counter()
    right_fields: Counter[str] = Counter()
    failures = []
    for example in EXAMPLES:
        response = await api.post(
            "/api/v1/assistant/interpret",
            json={"text": example["text"], "now": example["now"]},
            headers=staff,
        )
        assert response.status_code == 200, response.text
        marks = score(response.json(), example["expect"])
        for key, ok in marks.items():
            per_field[key] += 1
            right_fields[key] += ok
        if not all(marks.values()):
            failures.append(
                (example["id"], {k: v for k, v in marks.items() if not v}, response.json()["entities"])
            )
    correct = len(EXAMPLES) - len(failures)
    print(f"\nassistant eval: {correct}/{len(EXAMPLES)} examples fully right ({correct / len(EXAMPLES):.0%})")  # noqa: T201
    for key in per_field:
        print(f"  {key:20} {right_fields[key]}/{per_field[key]}")  # noqa: T201
    assert failures == []
