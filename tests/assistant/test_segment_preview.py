"""A segment's size asked of the assistant: the same count the segments API gives, nothing to confirm, and
an unknown segment asked about rather than guessed."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.assistant.test_breadth import interpret
from tests.factories import phone

pytestmark = pytest.mark.integration


async def test_a_segment_question_answers_its_size_and_writes_nothing(
    api: httpx.AsyncClient, staff: dict[str, str], admin: dict[str, str]
) -> None:
    family = "Segmentson" + "".join(chr(ord("a") + b % 26) for b in uuid.uuid4().bytes[:6])
    for given in ("Asha", "Meera", "Kiran"):
        registered = await api.post(
            "/api/v1/patients", json={"name": f"{given} {family}", "phone": phone()}, headers=staff
        )
        assert registered.status_code == 201, registered.text
    created = await api.post(
        "/api/v1/segments",
        json={"name": f"{family} family", "criteria": {"search": f"family={family}"}},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    segment = created.json()
    counted = (await api.get(f"/api/v1/segments/{segment['id']}/count", headers=admin)).json()["count"]
    assert counted == 3

    plan = await interpret(api, staff, f"how many patients are in the {family} family segment?")

    assert plan["intent"] == "preview_segment"
    assert plan["requires_confirmation"] is False
    assert plan["results"] == [{"segment": f"Group/{segment['id']}", "name": f"{family} family", "count": 3}]
    assert "selects 3 patients" in plan["summary"]

    unknown = await interpret(api, staff, "size of the zzqx unheard segment")
    assert unknown["intent"] == "preview_segment"
    assert unknown["results"] == []
    assert "I know no segment 'zzqx unheard'" in " ".join(unknown["clarifications"])
