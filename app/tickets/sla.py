"""Service-level agreement of tickets: how long staff have to resolve one, by category and priority.

The table maps keys to minutes: `"<category>/<priority>"` (most specific), `"<priority>"`, `"<category>"`
and `"default"`. Lookup: the exact `category/priority` entry if there is one; otherwise the stricter
(shorter) of the priority's and the category's entries; otherwise `default`. Settings
(`PRM_TICKET_SLA_MINUTES`) override single entries of DEFAULT_SLA_MINUTES.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

DEFAULT_SLA_MINUTES: dict[str, int] = {
    "stat": 15,
    "asap": 30,
    "urgent": 60,
    "emergency": 15,
    "complaint/urgent": 4 * 60,
    "complaint": 24 * 60,
    "callback": 24 * 60,
    "handoff": 60,
    "default": 48 * 60,
}


def sla_table(overrides: Mapping[str, int] | None = None) -> dict[str, int]:
    """The defaults with a deployment's overrides."""
    return {**DEFAULT_SLA_MINUTES, **(overrides or {})}


def sla_minutes(category: str, priority: str, table: Mapping[str, int]) -> int:
    """Minutes to resolve a ticket of this category and priority (lookup order in the module docstring)."""
    exact = table.get(f"{category}/{priority}")
    if exact is not None:
        return exact
    candidates = [table[key] for key in (priority, category) if key in table]
    return min(candidates) if candidates else table.get("default", DEFAULT_SLA_MINUTES["default"])


def due_at(created: datetime, *, category: str, priority: str, table: Mapping[str, int]) -> datetime:
    """When a ticket created at `created` is due."""
    return created + timedelta(minutes=sla_minutes(category, priority, table))
