"""The options a message offers, kept on its Communication (message-choices) and read back."""

from __future__ import annotations

import json

from app.fhir.builders import Actor, AgentKind
from app.fhir.canonical import EXT_MESSAGE_CHOICES
from app.messaging.resources import message_of, outbound_message
from app.ports.messaging import Choice, ChoiceList

OPTIONS = ChoiceList(
    body="Free times with Dr. Rao:",
    button="चुनें",
    choices=(
        Choice("slot-a", "2 दिसंबर, 10:30 AM", "Dr. Rao (Whitefield)"),
        Choice("slot-b", "3 December", None),
    ),
)


def message(choices: ChoiceList | None = OPTIONS) -> dict:
    return outbound_message(
        channel="whatsapp",
        thread_id="task-1",
        patient_id="p-1",
        text="Free times with Dr. Rao:\n1. ...\n2. ...",
        sender=Actor(kind=AgentKind.WHATSAPP_BOT),
        choices=choices,
    )


def test_the_options_round_trip_in_order_with_their_language() -> None:
    stored = json.loads(json.dumps(message()))

    assert message_of(stored).choices == OPTIONS
    [ext] = [e for e in stored["extension"] if e["url"] == EXT_MESSAGE_CHOICES]
    assert [p["url"] for p in ext["extension"]] == ["body", "button", "options"]


def test_a_message_without_options_or_with_unreadable_ones_has_none() -> None:
    broken = message()
    [ext] = [e for e in broken["extension"] if e["url"] == EXT_MESSAGE_CHOICES]
    ext["extension"][2]["valueString"] = "{not json"
    empty = message(ChoiceList("Pick", "Choose", ()))

    assert message_of(message(None)).choices is None
    assert message_of(broken).choices is None
    assert message_of(empty).choices is None
