"""Tagging a patient through the assistant adds the tag to the ones the patient has (the service replaces
the whole list), and saying a tag the patient already has changes nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.assistant.test_breadth import interpret, local, written
from tests.factories import person_name, phone

pytestmark = pytest.mark.integration


async def test_a_tag_is_added_to_the_patients_tags_and_a_repeated_one_changes_nothing(
    api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    number = phone()
    registered = await api.post(
        "/api/v1/patients",
        json={"name": person_name(), "phone": number, "tags": ["chronic-care"]},
        headers=staff,
    )
    assert registered.status_code == 201, registered.text
    patient = registered.json()

    plan = await interpret(api, staff, f"tag {local(number)} as VIP")

    assert plan["intent"] == "update_patient"
    assert plan["form"]["tags"]["value"] == ["chronic-care", "vip"]
    assert await written(api, staff, plan) == [f"Patient/{patient['id']}"]
    stored = (await api.get(f"/api/v1/patients/{patient['id']}", headers=staff)).json()
    assert stored["tags"] == ["chronic-care", "vip"]

    again = await interpret(api, staff, f"add the vip tag to {local(number)}")
    assert "tags" not in again["form"]
    assert any("already tagged vip" in note for note in again["notes"])
    assert again["executable"] is False
