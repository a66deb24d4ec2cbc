"""PHI minimisation: what a remote model receives holds no phone number or patient name, and the
extraction comes back with them restored (OpenAI-compatible server faked with respx)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from adapters.llm.fake import FakeExtractor
from adapters.llm.openai_extractor import OpenAIExtractor
from adapters.llm.redact import PhiStaysLocal, redact
from app.ports.nlu import ExtractedEntities, Extraction, Intent
from tests.unit.adapters.llm.test_openai_extractor import BASE_URL, CONTEXT, MODEL, completion

COMPOUND = "register Ravi Kumar +91 98450 12345 and book him with Dr Meera Iyer on Friday 11am, call Ananya Reddy on 9844111173"


@pytest.fixture
def llm() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def extractor() -> Any:
    extractor = OpenAIExtractor(api_key="sk-test", model=MODEL, base_url=BASE_URL, timeout_seconds=2.0)
    yield extractor
    await extractor.aclose()


def test_phones_and_patient_names_become_placeholders_and_doctors_stay() -> None:
    redaction = redact(COMPOUND, CONTEXT)

    assert "98450" not in redaction.text and "9844111173" not in redaction.text
    assert "Ravi" not in redaction.text and "Ananya" not in redaction.text
    assert "Dr Meera Iyer" in redaction.text
    assert redaction.originals == {
        "[PATIENT_1]": "Ravi Kumar",
        "[PHONE_1]": "+91 98450 12345",
        "[PATIENT_2]": "Ananya Reddy",
        "[PHONE_2]": "9844111173",
    }


async def test_the_request_body_holds_no_phi_and_the_extraction_gets_it_back(
    llm: respx.MockRouter, extractor: OpenAIExtractor
) -> None:
    answer = {
        "intent": "register_patient",
        "entities": {"patient_name": "[PATIENT_1]", "patient_phone": "[PHONE_1]"},
        "then": [
            {
                "intent": "book_appointment",
                "entities": {"practitioner_name": "Meera Iyer", "when": "Friday 11am", "message": None},
            }
        ],
        "confidence": 0.9,
    }
    route = llm.post("/chat/completions").mock(
        return_value=httpx.Response(200, json=completion(json.dumps(answer)))
    )

    extraction = await extractor.extract(COMPOUND, context=CONTEXT)

    body = route.calls.last.request.content.decode()
    for phi in ("Ravi", "Kumar", "Ananya", "Reddy", "98450", "12345", "9844111173"):
        assert phi not in body
    assert "[PATIENT_1]" in body and "Meera Iyer" in body
    assert extraction.entities.patient_name == "Ravi Kumar"
    assert extraction.entities.patient_phone == "+91 98450 12345"
    assert [s.intent for s in extraction.steps()] == [Intent.REGISTER_PATIENT, Intent.BOOK_APPOINTMENT]
    assert extraction.confidence == 0.9


async def test_with_phi_kept_local_text_with_phi_never_reaches_the_remote_model() -> None:
    remote = FakeExtractor(default=Extraction(intent=Intent.LIST_APPOINTMENTS))
    local = FakeExtractor(default=Extraction(intent=Intent.FIND_PATIENT, entities=ExtractedEntities()))
    router = PhiStaysLocal(remote, local)

    with_phi = await router.extract("find 9844111173", context=CONTEXT)
    without = await router.extract("show Dr Meera Iyer's appointments tomorrow", context=CONTEXT)

    assert with_phi.intent is Intent.FIND_PATIENT
    assert without.intent is Intent.LIST_APPOINTMENTS
    assert [c.text for c in remote.calls] == ["show Dr Meera Iyer's appointments tomorrow"]
    assert [c.text for c in local.calls] == ["find 9844111173"]


def test_the_composition_root_keeps_phi_local_only_when_told() -> None:
    from pydantic import SecretStr

    from app.config import Settings
    from app.services import build_extractor

    remote = Settings(environment="test", openai_api_key=SecretStr("sk-test"), llm_phi="redact")
    local = Settings(environment="test", openai_api_key=SecretStr("sk-test"), llm_phi="offline")

    assert not isinstance(build_extractor(remote), PhiStaysLocal)
    assert isinstance(build_extractor(local), PhiStaysLocal)
