"""pass^k of the assistant's LLM path: the labelled instructions (../shared/eval and
tests/assistant/eval_examples.jsonl) interpreted k times each through the API with an OpenAI-compatible
extractor (no offline fallback, so every failure of the model counts), scored as tests/assistant/test_eval.py
scores them.

pass^1 is the mean share of runs an example passes; pass^k the share of examples that pass all k runs
(tau-bench's pass^k with n = k). Unconfirmed writes count the FHIR resources written while only
interpreting (Provenance naming the harness's user): it must be 0.

With PRM_OPENAI_API_KEY (and PRM_OPENAI_BASE_URL / PRM_OPENAI_MODEL) set, a real endpoint answers;
otherwise `SimulatedModel` answers through respx, as in CI: it reads the redacted prompt with the offline
rules and answers in the strict schema, so the whole remote path (prompt, redaction, JSON, restoration)
runs without a network.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import respx
from pydantic import SecretStr

from adapters.llm.offline.extractor import extract
from app.config import ApiKey, Role, Settings
from app.fhir.client import FhirClient
from app.language.phones import normalize_phone
from app.main import create_app
from app.ports.nlu import ExtractionContext
from bench.support import seed_demo, servers

ROOT = Path(__file__).parents[1]
EXAMPLE_FILES = (
    ROOT.parent / "shared" / "eval" / "assistant-examples.jsonl",
    ROOT / "tests" / "assistant" / "eval_examples.jsonl",
)
K = 5
KEY = "bench-passk-key"
USER = "bench-passk"
SIMULATED_BASE_URL = "https://llm.simulated.test/v1"
ENTITY_KEYS = ("patient_phone", "patient_name", "practitioner_name", "specialty", "start", "date", "message")
TEXT_KEYS = ("patient_name", "practitioner_name", "message")
DEMO_HORIZON_DAYS = 14


def examples() -> list[dict[str, Any]]:
    """The labelled instructions, each text once (the two files overlap)."""
    seen: dict[str, dict[str, Any]] = {}
    for path in EXAMPLE_FILES:
        if path.exists():
            for line in path.read_text().splitlines():
                if line.strip():
                    example = json.loads(line)
                    seen.setdefault(example["text"], example)
    return list(seen.values())


def _same(key: str, got: Any, want: Any) -> bool:
    if key == "start":
        return got is not None and datetime.fromisoformat(got) == datetime.fromisoformat(want)
    if key in TEXT_KEYS:
        return isinstance(got, str) and got.strip().lower() == str(want).strip().lower()
    return bool(got == want)


def score(plan: dict[str, Any], expect: dict[str, Any]) -> dict[str, bool]:
    """Per scored key (../shared/eval/README.md): did the plan get it right."""
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


@dataclass
class PassK:
    """Per example: how many of the k runs passed; and what interpreting wrote."""

    k: int
    passed: Counter[str] = field(default_factory=Counter)
    by_intent: dict[str, str] = field(default_factory=dict)
    unconfirmed_writes: int = 0

    @property
    def pass_1(self) -> float:
        """Mean share of runs passed."""
        return sum(self.passed[i] for i in self.by_intent) / (self.k * len(self.by_intent))

    @property
    def pass_k(self) -> float:
        """Share of examples passed in every run."""
        return sum(self.passed[i] == self.k for i in self.by_intent) / len(self.by_intent)

    def lines(self) -> list[str]:
        """The report, per intent too."""
        out = [
            f"pass^1 = {self.pass_1:.3f}   pass^{self.k} = {self.pass_k:.3f}   "
            f"examples = {len(self.by_intent)}   unconfirmed writes = {self.unconfirmed_writes}"
        ]
        for intent in sorted(set(self.by_intent.values())):
            ids = [i for i, v in self.by_intent.items() if v == intent]
            always = sum(self.passed[i] == self.k for i in ids)
            out.append(f"  {intent:24} pass^{self.k} {always}/{len(ids)}")
        return out


async def written_since(fhir: FhirClient, since: datetime, *, user: str) -> int:
    """Writes by `user` since `since`: every PRM write records a Provenance naming its staff user, and
    the harness only interprets, so each one is an unconfirmed write (others' writes do not count)."""
    records = await fhir.search("Provenance", {"_lastUpdated": f"ge{since.isoformat()}"})
    by_user = [
        r
        for r in records
        if any(a.get("who", {}).get("identifier", {}).get("value") == user for a in r.get("agent", []))
    ]
    return len(by_user)


async def run_passk(
    api: httpx.AsyncClient,
    headers: dict[str, str],
    fhir: FhirClient,
    labelled: list[dict[str, Any]],
    *,
    k: int = K,
) -> PassK:
    """Interpret every example k times; never confirm."""
    result = PassK(k=k)
    started = datetime.now(UTC)
    for _ in range(k):
        for example in labelled:
            result.by_intent[example["id"]] = example["expect"]["intent"]
            response = await api.post(
                "/api/v1/assistant/interpret",
                json={"text": example["text"], "now": example["now"]},
                headers=headers,
            )
            if response.status_code == 200 and all(score(response.json(), example["expect"]).values()):
                result.passed[example["id"]] += 1
    result.unconfirmed_writes = await written_since(fhir, started, user=USER)
    return result


_NOW = re.compile(
    r"Now, in the clinic's time zone: \w+, (?P<date>[\d-]+), (?P<time>[\d:]+) \([^,]*, UTC(?P<offset>[+-]\d{4})\)"
)
_DOCTORS = re.compile(r"The clinic's doctors: (?P<names>.*)")
_PLACEHOLDER = re.compile(r"\[(?P<kind>PHONE|PATIENT)_(?P<n>\d+)\]")


class SimulatedModel:
    """An OpenAI-compatible chat endpoint (for respx) that reads the redacted instruction with the offline
    rules: placeholders stand in as a made-up phone or name and are answered back as placeholders."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        """A chat completion whose content is the strict-schema extraction."""
        body = json.loads(request.content)
        system, user = body["messages"][0]["content"], body["messages"][1]["content"]
        now = _NOW.search(system)
        doctors = _DOCTORS.search(system)
        assert now and doctors, "the system prompt names the time and the doctors"
        offset = now["offset"]
        context = ExtractionContext(
            now=datetime.fromisoformat(f"{now['date']}T{now['time']}{offset[:3]}:{offset[3:]}"),
            practitioner_names=tuple(n.strip() for n in doctors["names"].split(",")),
        )
        stand_ins: dict[str, str] = {}

        def stand_in(match: re.Match[str]) -> str:
            n = int(match["n"])
            value = f"90000 0000{n}" if match["kind"] == "PHONE" else f"Placeholder {'ABCDEFGH'[n % 8]}ee"
            stand_ins[match[0]] = value
            return value

        extraction = extract(_PLACEHOLDER.sub(stand_in, user), context).model_dump(mode="json")
        e164 = {normalize_phone(v, region="IN"): p for p, v in stand_ins.items() if "PHONE" in p}
        for step in [extraction, *extraction["then"]]:
            for key, value in step["entities"].items():
                if isinstance(value, str):
                    value = e164.get(value, value)
                    for placeholder, written in stand_ins.items():
                        value = value.replace(written, placeholder)
                step["entities"][key] = value
        content = json.dumps(extraction)
        return httpx.Response(
            200,
            json={
                "id": "chatcmpl-simulated",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": content},
                    }
                ],
            },
        )


def settings_for(fhir_url: str, redis_url: str, **overrides: Any) -> Settings:
    """The app's settings: the configured model, or the simulated one; never the offline fallback."""
    key = os.environ.get("PRM_OPENAI_API_KEY")
    values: dict[str, Any] = {
        "environment": "test",
        "fhir_base_url": fhir_url,
        "redis_url": redis_url,
        "load_conformance_on_startup": False,
        "change_feed_subscribe_on_startup": False,
        "log_level": "WARNING",
        "rate_limit_per_key": "1000000/minute",
        "api_keys": [ApiKey(key=SecretStr(KEY), role=Role.STAFF, user=USER)],
        "llm_fallback_to_offline": False,
        "openai_api_key": SecretStr(key or "sk-simulated"),
        "openai_base_url": os.environ.get("PRM_OPENAI_BASE_URL") if key else SIMULATED_BASE_URL,
        **overrides,
    }
    return Settings(**values)


async def run(fhir_url: str, redis_url: str, *, k: int = K) -> PassK:
    """Seed the demo clinic, then measure and print."""
    settings = settings_for(fhir_url, redis_url)
    await seed_demo(settings, horizon_days=DEMO_HORIZON_DAYS)
    app = create_app(settings)
    fhir = FhirClient(fhir_url, timeout_seconds=120)
    with respx.mock(assert_all_called=False) as router:
        if not os.environ.get("PRM_OPENAI_API_KEY"):
            router.post(f"{SIMULATED_BASE_URL}/chat/completions").mock(side_effect=SimulatedModel())
        router.route().pass_through()
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as api,
        ):
            began = time.perf_counter()
            result = await run_passk(api, {"Authorization": f"Bearer {KEY}"}, fhir, examples(), k=k)
            seconds = time.perf_counter() - began
    await fhir.aclose()
    endpoint = settings.openai_base_url or "OpenAI"
    print(f"Assistant pass^k over {endpoint} (model {settings.openai_model}), k = {k}")
    for line in result.lines():
        print(line)
    interprets = k * len(result.by_intent)
    print(f"{interprets} interprets in {seconds:.1f} s ({1000 * seconds / interprets:.0f} ms each)")
    return result


def main() -> None:
    """Entry point."""
    with servers() as (fhir_url, redis_url):
        asyncio.run(run(fhir_url, redis_url))


if __name__ == "__main__":
    main()
