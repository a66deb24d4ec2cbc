"""Dialogue state: stored as JSON with a TTL, fresh when absent, expired or unreadable."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.clock import FakeClock
from adapters.memory_state import InMemoryStateStore
from app.bot.dialogue import Dialogue, dialogue_key, load, save


async def test_a_saved_dialogue_loads_back_not_fresh() -> None:
    clock = FakeClock(datetime(2026, 12, 1, tzinfo=UTC))
    state = InMemoryStateStore(clock)
    dialogue = Dialogue(language="hi", patient_id="p1")
    dialogue.ask("book", "slot", offered=["s1", "s2"])

    await save(state, "whatsapp", "+919800000001", dialogue, ttl_seconds=60)
    loaded = await load(state, "whatsapp", "+919800000001")

    assert loaded == Dialogue(
        language="hi", patient_id="p1", flow="book", step="slot", data={"offered": ["s1", "s2"]}, fresh=False
    )
    clock.advance(seconds=61)
    assert (await load(state, "whatsapp", "+919800000001")).fresh  # expired: a polite restart


async def test_absent_or_unreadable_state_is_a_fresh_dialogue() -> None:
    state = InMemoryStateStore(FakeClock(datetime(2026, 12, 1, tzinfo=UTC)))
    await state.set(dialogue_key("whatsapp", "+919800000002"), "{not json")

    assert (await load(state, "whatsapp", "+919800000001")).fresh
    assert await load(state, "whatsapp", "+919800000002") == Dialogue()


def test_the_key_does_not_contain_the_number() -> None:
    assert "9800000001" not in dialogue_key("whatsapp", "+919800000001")


def test_finish_keeps_who_and_language() -> None:
    dialogue = Dialogue(language="kn", patient_id="p1", flow="book", step="confirm", data={"chosen": "s"})

    dialogue.finish()

    assert dialogue == Dialogue(language="kn", patient_id="p1")
