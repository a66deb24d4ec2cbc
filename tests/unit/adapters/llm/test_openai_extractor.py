"""OpenAIExtractor against a faked OpenAI-compatible server (respx), and FallbackExtractor around it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import respx
import structlog

from adapters.llm.fake import FakeExtractor
from adapters.llm.fallback import FallbackExtractor
from adapters.llm.openai_extractor import OpenAIExtractor, strict_json_schema
from app.logging import configure_logging
from app.ports.nlu import ExtractedEntities, Extraction, ExtractionContext, ExtractionFailed, Intent

BASE_URL = "https://llm.test/v1"
MODEL = "gpt-test-mini"
TIMEOUT_SECONDS = 2.0
TUESDAY_9AM = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Asia/Kolkata"))
CONTEXT = ExtractionContext(
    now=TUESDAY_9AM,
    practitioner_names=("Rajiv Sharma", "Meera Iyer"),
    patient_names=("Ananya Reddy",),
    specialty_codes=("cardiology", "dermatology"),
)
INSTRUCTION = "Book Ananya Reddy 9844111173 with Dr Rajiv Sharma 10AM tomorrow"
GOOD_ANSWER = {
    "intent": "book_appointment",
    "entities": {
        "patient_phone": "9844111173",
        "patient_name": "Ananya Reddy",
        "practitioner_name": "Rajiv Sharma",
        "specialty": None,
        "when": "10AM tomorrow",
        "reason": None,
        "message": None,
        "gender": None,
        "birth_date": None,
    },
}
OFFLINE_ANSWER = Extraction(intent=Intent.BOOK_APPOINTMENT, entities=ExtractedEntities(when="10AM tomorrow"))


def completion(
    content: str | None, *, refusal: str | None = None, finish_reason: str = "stop"
) -> dict[str, Any]:
    """A chat completion as the API returns it."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_764_561_600,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "finish_reason": finish_reason,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
            }
        ],
        "usage": {"prompt_tokens": 900, "completion_tokens": 60, "total_tokens": 960},
    }


@pytest.fixture
def llm() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
def extractor() -> OpenAIExtractor:
    return OpenAIExtractor(api_key="sk-test", model=MODEL, base_url=BASE_URL, timeout_seconds=TIMEOUT_SECONDS)


def answer_with(llm: respx.MockRouter, **response: Any) -> respx.Route:
    return llm.post("/chat/completions").mock(return_value=httpx.Response(**response))


def sent_body(route: respx.Route) -> dict[str, Any]:
    return json.loads(route.calls.last.request.content)  # type: ignore[no-any-return]


def objects_in(schema: Any) -> Iterator[dict[str, Any]]:
    """Every object schema, however deeply nested."""
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            yield schema
        for value in schema.values():
            yield from objects_in(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from objects_in(item)


def keys_in(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            yield key
            yield from keys_in(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from keys_in(item)


# -- the schema ----------------------------------------------------------------------------------


def test_the_schema_is_what_openai_strict_mode_accepts() -> None:
    schema = strict_json_schema(Extraction)

    objects = list(objects_in(schema))
    assert len(objects) == 4  # Extraction, a `then` step, and the entities of each, all inlined
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert sorted(obj["required"]) == sorted(obj["properties"])
    assert not {"$ref", "$defs", "default", "title"} & set(keys_in(schema))
    assert schema["properties"]["intent"]["enum"] == [intent.value for intent in Intent]
    entities = schema["properties"]["entities"]["properties"]
    assert set(entities) == set(ExtractedEntities.model_fields)
    for field in entities.values():
        assert {"type": "null"} in field["anyOf"]


# -- the request ---------------------------------------------------------------------------------


async def test_the_request_sends_strict_json_schema_the_model_and_the_text_only_as_user_message(
    llm: respx.MockRouter, extractor: OpenAIExtractor
) -> None:
    route = answer_with(llm, status_code=200, json=completion(json.dumps(GOOD_ANSWER)))

    await extractor.extract(INSTRUCTION, context=CONTEXT)

    body = sent_body(route)
    assert body["model"] == MODEL
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    schema = response_format["json_schema"]["schema"]
    assert schema == strict_json_schema(Extraction)
    assert all(obj["additionalProperties"] is False for obj in objects_in(schema))
    system, user = body["messages"]
    assert system["role"] == "system"
    prompt = system["content"]
    assert "Rajiv Sharma" in prompt and "Meera Iyer" in prompt
    assert "Tuesday, 2026-12-01, 09:00" in prompt
    assert "- cardiology:" in prompt and "- orthopedics:" not in prompt
    # The patient's name and phone leave as placeholders (tests/unit/adapters/llm/test_redact.py).
    assert user == {
        "role": "user",
        "content": "Book [PATIENT_1] [PHONE_1] with Dr Rajiv Sharma 10AM tomorrow",
    }
    assert "Ananya" not in prompt and "9844111173" not in prompt


async def test_a_good_answer_becomes_an_extraction(llm: respx.MockRouter, extractor: OpenAIExtractor) -> None:
    answer_with(llm, status_code=200, json=completion(json.dumps(GOOD_ANSWER)))

    extraction = await extractor.extract(INSTRUCTION, context=CONTEXT)

    assert extraction == Extraction.model_validate(GOOD_ANSWER)
    assert extraction.intent is Intent.BOOK_APPOINTMENT
    assert extraction.entities.when == "10AM tomorrow"


# -- failures ------------------------------------------------------------------------------------

FAILURES: dict[str, tuple[dict[str, Any], str]] = {
    "refusal": (
        {"status_code": 200, "json": completion(None, refusal="I can't help with that.")},
        "the language model refused to extract this instruction",
    ),
    "malformed_json": (
        {"status_code": 200, "json": completion('{"intent": "book_appointment", "entities": {')},
        "the language model's answer is not valid JSON",
    ),
    "schema_mismatch": (
        {"status_code": 200, "json": completion(json.dumps({**GOOD_ANSWER, "intent": "delete_everything"}))},
        "the language model's answer does not match the extraction schema at: intent",
    ),
    "length": (
        {"status_code": 200, "json": completion('{"intent": "book_app', finish_reason="length")},
        "the language model's answer was cut off (token limit)",
    ),
    "empty": (
        {"status_code": 200, "json": {**completion(None), "choices": []}},
        "the language model returned no answer",
    ),
    "rate_limited": (
        {"status_code": 429, "headers": {"retry-after": "7"}, "json": {"error": {"message": "slow down"}}},
        "the language model is rate limited (HTTP 429); retry after 7 s",
    ),
    "server_error": (
        {"status_code": 503, "json": {"error": {"message": "overloaded"}}},
        "the language model answered HTTP 503",
    ),
    "invalid_response": (
        {"status_code": 200, "text": "<html>Bad Gateway</html>", "headers": {"content-type": "text/html"}},
        "the language model's server did not answer with a chat completion",
    ),
    "auth": (
        {"status_code": 401, "json": {"error": {"message": "bad key"}}},
        "the language model refused our API key (HTTP 401)",
    ),
}


@pytest.mark.parametrize("reason", list(FAILURES))
async def test_a_bad_answer_raises_extraction_failed_with_a_clear_message(
    llm: respx.MockRouter, extractor: OpenAIExtractor, reason: str
) -> None:
    response, message = FAILURES[reason]
    answer_with(llm, **response)

    with pytest.raises(ExtractionFailed) as failed:
        await extractor.extract(INSTRUCTION, context=CONTEXT)

    assert str(failed.value) == message
    assert getattr(failed.value, "reason", None) == reason
    assert "Ananya" not in str(failed.value)


async def test_a_timeout_raises_extraction_failed(llm: respx.MockRouter, extractor: OpenAIExtractor) -> None:
    llm.post("/chat/completions").mock(side_effect=httpx.ReadTimeout("read timed out"))

    with pytest.raises(ExtractionFailed, match=r"did not answer within 2 s"):
        await extractor.extract(INSTRUCTION, context=CONTEXT)


async def test_a_connection_error_raises_extraction_failed(
    llm: respx.MockRouter, extractor: OpenAIExtractor
) -> None:
    llm.post("/chat/completions").mock(side_effect=httpx.ConnectError("connection refused"))

    with pytest.raises(ExtractionFailed, match="could not connect to the language model"):
        await extractor.extract(INSTRUCTION, context=CONTEXT)


async def test_the_logs_carry_no_instruction_text(llm: respx.MockRouter, extractor: OpenAIExtractor) -> None:
    answer_with(llm, status_code=200, json=completion(json.dumps(GOOD_ANSWER)))
    # An app built earlier in the session may have set the level to WARNING (levels are global).
    configure_logging(level="INFO")

    with structlog.testing.capture_logs() as logs:
        await extractor.extract(INSTRUCTION, context=CONTEXT)

    assert [entry["event"] for entry in logs] == ["assistant.extractor.openai.completed"]
    assert "Ananya" not in repr(logs) and "9844111173" not in repr(logs)


# -- FallbackExtractor ---------------------------------------------------------------------------


@pytest.mark.parametrize("reason", [*FAILURES, "timeout"])
async def test_the_fallback_answers_when_the_model_fails(
    llm: respx.MockRouter, extractor: OpenAIExtractor, reason: str
) -> None:
    if reason == "timeout":
        llm.post("/chat/completions").mock(side_effect=httpx.ReadTimeout("read timed out"))
    else:
        answer_with(llm, **FAILURES[reason][0])
    offline = FakeExtractor(OFFLINE_ANSWER)

    with structlog.testing.capture_logs() as logs:
        extraction = await FallbackExtractor(extractor, offline).extract(INSTRUCTION, context=CONTEXT)

    assert extraction == OFFLINE_ANSWER
    assert [call.text for call in offline.calls] == [INSTRUCTION]
    fallback = [entry for entry in logs if entry["event"] == "assistant.extractor.fallback"]
    assert fallback == [
        {
            "event": "assistant.extractor.fallback",
            "log_level": "warning",
            "reason": reason,
            "primary": "OpenAIExtractor",
            "fallback": "FakeExtractor",
        }
    ]
    assert INSTRUCTION not in repr(logs)


async def test_the_fallback_is_not_asked_when_the_model_answers(
    llm: respx.MockRouter, extractor: OpenAIExtractor
) -> None:
    answer_with(llm, status_code=200, json=completion(json.dumps(GOOD_ANSWER)))
    offline = FakeExtractor(OFFLINE_ANSWER)

    extraction = await FallbackExtractor(extractor, offline).extract(INSTRUCTION, context=CONTEXT)

    assert extraction.intent is Intent.BOOK_APPOINTMENT and extraction.entities.patient_name == "Ananya Reddy"
    assert offline.calls == []


async def test_the_fallbacks_own_failure_propagates() -> None:
    primary = FakeExtractor(ExtractionFailed("model down"))
    fallback = FakeExtractor(ExtractionFailed("an instruction has at most 1000 characters"))

    with pytest.raises(ExtractionFailed, match="at most 1000 characters"):
        await FallbackExtractor(primary, fallback).extract(INSTRUCTION, context=CONTEXT)


async def test_the_fake_extractor_answers_in_order_and_records_calls() -> None:
    fake = FakeExtractor(OFFLINE_ANSWER, ExtractionFailed("queued failure"))

    assert await fake.extract("one", context=CONTEXT) == OFFLINE_ANSWER
    with pytest.raises(ExtractionFailed, match="queued failure"):
        await fake.extract("two", context=CONTEXT)
    with pytest.raises(AssertionError, match="no answer queued"):
        await fake.extract("three", context=CONTEXT)
    assert [call.text for call in fake.calls] == ["one", "two", "three"]
