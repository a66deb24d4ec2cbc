"""The SLA settings reach every path that opens a ticket: with an overridden table, a WhatsApp bot hand-off
(a real rq worker reading the settings from its environment) and a voice callback (the job on services
built from the overridden settings) are due exactly when the override says."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.fhir.builders import extension_value
from app.fhir.canonical import EXT_TICKET_CATEGORY
from app.fhir.client import FhirClient
from app.fhir.dates import parse_datetime
from app.services import Services, build_services
from tests.bot.support import Chat
from tests.calls.support import event, process
from tests.clinic import make_patient

pytestmark = pytest.mark.integration


def _open_for(ticket: dict[str, Any]) -> timedelta:
    """How long the ticket gives staff: its due time less its creation."""
    due = parse_datetime(ticket["restriction"]["period"]["end"])
    created = parse_datetime(ticket["authoredOn"])
    assert due is not None and created is not None
    return due - created


@pytest.fixture
async def overridden(settings: Settings) -> AsyncIterator[Services]:
    built = build_services(
        settings.model_copy(update={"ticket_sla_minutes": {"callback": 7}}), transcriber=None
    )
    yield built
    await built.aclose()


async def test_a_voice_callback_ticket_is_due_by_the_overridden_sla(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, overridden: Services
) -> None:
    patient = await make_patient(api, staff)

    await process(overridden, event(caller=patient["phone"], intent="callback", summary="Call me back"))

    [ticket] = [
        t
        for t in await fhir.search("Task", {"patient": f"Patient/{patient['id']}"})
        if extension_value(t, EXT_TICKET_CATEGORY) == "callback"
    ]
    assert _open_for(ticket) == timedelta(minutes=7)  # the default is 24 hours


async def test_a_bot_hand_off_ticket_is_due_by_the_overridden_sla(
    api: httpx.AsyncClient,
    staff: dict[str, str],
    fhir: FhirClient,
    settings: Settings,
    demo_clinic: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PRM_TICKET_SLA_MINUTES", '{"handoff": 9}')
    patient = await make_patient(api, staff, preferred_language="en")
    chat = Chat(api, fhir, settings, patient["phone"])
    await chat.say("hi")
    for garbage in ("😀😀😀", "qwzx plf", "x" * 4000):
        await chat.say(garbage)

    await chat.say("yes")

    [ticket] = await fhir.search("Task", {"focus": f"Task/{chat.thread}"})
    assert (extension_value(ticket, EXT_TICKET_CATEGORY), ticket["priority"]) == ("handoff", "urgent")
    assert _open_for(ticket) == timedelta(minutes=9)  # the default is an hour
