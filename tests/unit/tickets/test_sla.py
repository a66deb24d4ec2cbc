"""The SLA table's lookup: exact category/priority, else the stricter of priority and category, else default."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.tickets.sla import DEFAULT_SLA_MINUTES, due_at, sla_minutes, sla_table


@pytest.mark.parametrize(
    ("category", "priority", "minutes"),
    [
        ("complaint", "urgent", 240),  # exact entry, even though "urgent" alone is 60
        ("complaint", "routine", 24 * 60),  # the category
        ("callback", "routine", 24 * 60),
        ("callback", "stat", 15),  # the stricter of stat (15) and callback (1440)
        ("billing", "routine", 48 * 60),  # nothing but the default
        ("billing", "asap", 30),
        ("emergency", "routine", 15),
    ],
)
def test_lookup_order(category: str, priority: str, minutes: int) -> None:
    assert sla_minutes(category, priority, DEFAULT_SLA_MINUTES) == minutes


def test_overrides_replace_single_entries_and_keep_the_rest() -> None:
    table = sla_table({"callback": 120, "default": 600})

    assert sla_minutes("callback", "routine", table) == 120
    assert sla_minutes("billing", "routine", table) == 600
    assert sla_minutes("complaint", "urgent", table) == 240


def test_due_is_created_plus_the_sla() -> None:
    created = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)

    assert due_at(created, category="complaint", priority="urgent", table=sla_table()) == created + timedelta(
        hours=4
    )
