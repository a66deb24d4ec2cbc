"""The published voice contract stays the code's: the JSON Schema file is the event model's, and every
example payload in the docs (one per intent) is valid for both."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs
import pytest

from app.ports.voice import VoiceEvent, VoiceIntent

DOCS = Path(__file__).parents[3] / "docs" / "webhooks"
SCHEMA = json.loads((DOCS / "voice-event.schema.json").read_text())


def test_the_schema_file_is_the_models_schema() -> None:
    published = {k: v for k, v in SCHEMA.items() if not k.startswith("$") or k == "$defs"}
    generated = VoiceEvent.model_json_schema(by_alias=True)

    assert {k: v for k, v in published.items() if k != "title"} == {
        k: v for k, v in generated.items() if k != "title"
    }


@pytest.mark.parametrize("intent", list(VoiceIntent))
def test_each_intent_has_an_example_valid_for_the_model_and_the_schema(intent: VoiceIntent) -> None:
    example = json.loads((DOCS / "voice-examples" / f"{intent.value}.json").read_text())

    event = VoiceEvent.model_validate(example)

    assert event.extraction is not None and event.extraction.intent is intent
    jsonschema_rs.validate(SCHEMA, example)


def test_the_schema_rejects_what_the_model_rejects() -> None:
    example = json.loads((DOCS / "voice-examples" / "inquiry.json").read_text())
    del example["call"]["from"]

    with pytest.raises(jsonschema_rs.ValidationError):
        jsonschema_rs.validate(SCHEMA, example)
