"""The per-sender timeline: reservations follow each other at the rate, a replayed ticket gets its slot again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from adapters.clock import FakeClock
from adapters.memory_state import InMemoryStateStore
from app.config import Settings
from app.messaging.throttle import reserve, senders

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


async def test_reservations_on_one_sender_follow_each_other_and_other_senders_are_free() -> None:
    state = InMemoryStateStore(FakeClock(NOW))
    first, second = await asyncio.gather(
        reserve(state, sender="whatsapp:+1", count=20, per_second=2, now=NOW, ticket="a"),
        reserve(state, sender="whatsapp:+1", count=10, per_second=2, now=NOW, ticket="b"),
    )
    slots = sorted([first, second], key=lambda r: r.start)
    assert slots[0].start == NOW and slots[1].start == slots[0].end
    assert {s.end - s.start for s in slots} == {timedelta(seconds=10), timedelta(seconds=5)}
    other = await reserve(state, sender="sms:+1", count=5, per_second=1, now=NOW, ticket="c")
    assert other.start == NOW and other.end == NOW + timedelta(seconds=5)


async def test_a_replayed_ticket_gets_its_slot_and_a_later_one_starts_no_earlier_than_asked() -> None:
    state = InMemoryStateStore(FakeClock(NOW))
    slot = await reserve(state, sender="s", count=4, per_second=1, now=NOW, ticket="job-1")
    assert await reserve(state, sender="s", count=4, per_second=1, now=NOW, ticket="job-1") == slot
    late = NOW + timedelta(hours=3)
    nextday = await reserve(
        state, sender="s", count=4, per_second=1, now=NOW, ticket="job-2", not_before=late
    )
    assert nextday.start == late
    after = await reserve(state, sender="s", count=1, per_second=1, now=NOW + timedelta(hours=4), ticket="j3")
    assert after.start == NOW + timedelta(hours=4)  # a timeline in the past does not hold anyone back


def test_the_sender_is_the_from_address_with_twilio_and_the_sandbox_otherwise() -> None:
    base = Settings(environment="test")
    assert senders(base)["whatsapp"] == "whatsapp:sandbox"
    twilio = base.model_copy(
        update={
            "messaging_provider": "twilio",
            "twilio_whatsapp_from": "+918000000001",
            "twilio_sms_from": "+1555",
        }
    )
    assert senders(twilio) == {
        "whatsapp": "whatsapp:+918000000001", "sms": "sms:+1555", "email": "email:sandbox",
    }  # fmt: skip
