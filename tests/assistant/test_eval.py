"""The labelled staff instructions (../shared/eval, copied into tests/assistant/eval_examples.jsonl)
through /api/v1/assistant/interpret with the offline extractor, against the demo clinic in the
real HAPI. Scoring follows ../shared/eval/README.md; every example must pass."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration
EXAMPLES = [
    json.loads(line)
    for line in (Path(__file__).parent / "eval_examples.jsonl").read_text().splitlines()
    if line
]
ENTITY_KEYS = ("patient_phone", "patient_name", "practitioner_name", "specialty", "start", "date", "message")
TEXT_KEYS = ("patient_name", "practitioner_name", "message")


def _same(key: str, got: Any, want: Any) -> bool:
    if key == "start":
        return got is not None and datetime.fromisoformat(got) == datetime.fromisoformat(want)
    if key in TEXT_KEYS:
        return isinstance(got, str) and got.strip().lower() == str(want).strip().lower()
    return bool(got == want)


def score(plan: dict[str, Any], expect: dict[str, Any]) -> dict[str, bool]:
    """Per scored key: did the plan get it right."""
    marks = {"intent": plan["intent"] == expect["intent"]}
    for key in ENTITY_KEYS:
        if key in expect:
            marks[key] = _same(key, plan["entities"].get(key), expect[key])
    if "needs_clarification_or" in expect:
        asked = bool(plan["clarifications"]) and plan["resolved"]["practitioner"] is None
        resolved = all(
            _same(k, plan["entities"].get(k), v) for k, v in expect["needs_clarification_or"].items()
        )
        marks["practitioner_one_of"] = asked or resolved
    if expect.get("needs_clarification"):
        marks["needs_clarification"] = (
            bool(plan["clarifications"] or plan["missing"]) and not plan["executable"]
        )
    return marks


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
