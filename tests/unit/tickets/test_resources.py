"""Reading tickets written by anyone, the workflow of a change, and escalation, without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.errors import Invalid, InvalidTransition
from app.fhir.client import Resource
from app.tickets import resources as res
from app.tickets.jobs import escalate
from app.tickets.resources import TicketStatus
from app.tickets.service import TicketChanges, _apply

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def ticket(**overrides: Any) -> Resource:
    task = res.ticket_resource(
        patient_ref="Patient/p1", category="callback", description="Call back", due=NOW + timedelta(hours=1),
        owner=None, created=NOW,
    )  # fmt: skip
    return {**task, "id": "t1", **overrides}


def test_a_minimal_task_written_by_someone_else_reads_without_errors() -> None:
    read = res.ticket_of({"resourceType": "Task", "id": "x", "status": "cancelled", "note": [{"text": "hi"}]})

    assert (read.status, read.category, read.priority, read.due, read.patient) == (
        TicketStatus.CLOSED, None, "routine", None, None,
    )  # fmt: skip
    assert [(c.author, c.time, c.text) for c in read.comments] == [(None, None, "hi")]
    assert read.overdue(NOW) is False


def test_comments_read_oldest_first_whatever_their_stored_order() -> None:
    notes = [
        {"authorString": "b", "time": "2026-11-28T12:00:00+05:30", "text": "second"},
        {"authorString": "a", "time": "2026-11-28T11:00:00+05:30", "text": "first"},
    ]

    assert [c.text for c in res.ticket_of(ticket(note=notes)).comments] == ["first", "second"]


def test_a_refused_transition_names_the_allowed_ones_and_changes_nothing() -> None:
    task = ticket()
    res.set_status(task, TicketStatus.CLOSED)
    before = dict(task)

    with pytest.raises(InvalidTransition) as refused:
        _apply(task, TicketChanges(status=TicketStatus.ON_HOLD), now=NOW, sla=None)

    assert refused.value.allowed == ("open",)
    assert task == before


def test_resolving_needs_a_note_and_reopening_restarts_the_sla_clock() -> None:
    task = ticket()
    with pytest.raises(Invalid) as missing:
        _apply(task, TicketChanges(status=TicketStatus.RESOLVED), now=NOW, sla=None)
    assert missing.value.field == "resolution"

    assert _apply(task, TicketChanges(status=TicketStatus.RESOLVED, resolution="done"), now=NOW, sla=None)
    assert (task["status"], task["statusReason"]) == ("completed", {"text": "done"})

    later = NOW + timedelta(days=2)
    assert _apply(task, TicketChanges(status=TicketStatus.OPEN), now=later, sla={"callback": 30})
    read = res.ticket_of(task)
    assert (read.status, read.resolution, read.due) == (
        TicketStatus.OPEN,
        None,
        later + timedelta(minutes=30),
    )


def test_an_unchanged_ticket_is_not_written() -> None:
    task = ticket()

    assert _apply(task, TicketChanges(status=TicketStatus.OPEN), now=NOW, sla=None) is False


def test_escalation_raises_the_priority_one_step_once_per_breach() -> None:
    task = ticket(priority="urgent")

    assert escalate(task) is True
    assert task["priority"] == "asap"
    assert res.ticket_of(task).escalated
    assert escalate(task) is False
    assert task["priority"] == "asap"

    res.set_due(task, NOW + timedelta(hours=3))  # a new breach (after a reopen)
    assert escalate(task) is True
    assert task["priority"] == "stat"
    res.set_due(task, NOW + timedelta(hours=4))
    assert escalate(task) is True  # stat stays stat, the breach is still marked
    assert task["priority"] == "stat"


def test_a_writer_that_only_changed_task_status_is_believed() -> None:
    task = ticket(status="completed")  # businessStatus still says open

    assert res.status_of(task) is TicketStatus.RESOLVED
    assert res.status_of(ticket()) is TicketStatus.OPEN
