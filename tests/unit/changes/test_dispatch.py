"""The handler registry and the ingress helpers, with in-memory state and a recording queue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.clock import FakeClock
from adapters.memory_events import InMemoryEventBus
from adapters.memory_state import InMemoryStateStore
from app.changes.model import Change, ChangeKind
from app.changes.registry import ChangeContext, HandlerRegistry, watched_types
from app.ingress import bearer_matches, enqueue_once
from app.ports.jobs import FailedJob, Job, QueueUnavailable
from app.ports.state import StateUnavailable

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


class RecordingQueue:
    """Records enqueues; `fail` makes the next ones raise QueueUnavailable."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Job, dict[str, Any], str | None]] = []
        self.fail = False

    async def enqueue(
        self, job: Job, payload: dict[str, Any], *, job_id: str | None = None, at: datetime | None = None
    ) -> str:
        if self.fail:
            raise QueueUnavailable("down")
        self.jobs.append((job, payload, job_id))
        return job_id or "x"

    async def failed_jobs(self, *, limit: int = 50) -> list[FailedJob]:
        return []


def _context(state: InMemoryStateStore, queue: RecordingQueue) -> ChangeContext:
    return ChangeContext(
        fhir=None,  # type: ignore[arg-type]
        queue=queue,
        state=state,
        now=NOW,
        events=InMemoryEventBus(),
    )


async def test_a_failing_handler_does_not_stop_the_others_and_is_reported() -> None:
    handlers, seen = HandlerRegistry(), []

    async def first(change: Change, *, context: ChangeContext) -> None:
        seen.append(("first", change.reference))

    async def broken(change: Change, *, context: ChangeContext) -> None:
        raise RuntimeError("bug")

    async def last(change: Change, *, context: ChangeContext) -> None:
        seen.append(("last", change.reference))

    for handler in (first, broken, last):
        handlers.register("Appointment", handler)
    handlers.register("Appointment", first)  # twice: still one

    report = await handlers.dispatch(
        Change("Appointment", "a1", "2", ChangeKind.UPDATED),
        context=_context(InMemoryStateStore(FakeClock(NOW)), RecordingQueue()),
    )

    assert seen == [("first", "Appointment/a1/_history/2"), ("last", "Appointment/a1/_history/2")]
    assert len(report.succeeded) == 2
    assert [name.rsplit(".", 1)[-1] for name in report.failed] == ["broken"]


async def test_handlers_are_per_type_and_watched_types_add_the_configured_ones() -> None:
    handlers = HandlerRegistry()

    @handlers.on("Patient")
    async def patient(change: Change, *, context: ChangeContext) -> None:
        raise AssertionError("not a Patient change")

    report = await handlers.dispatch(
        Change("Appointment", "a1", "1", ChangeKind.CREATED),
        context=_context(InMemoryStateStore(FakeClock(NOW)), RecordingQueue()),
    )

    assert report.succeeded == report.failed == []
    assert watched_types(handlers, ["Appointment", "Patient"]) == ["Appointment", "Patient"]
    handlers.unregister("Patient", patient)
    assert handlers.types() == frozenset()


def test_the_bearer_secret_must_match_exactly() -> None:
    assert bearer_matches("Bearer s3cret", "s3cret")
    assert bearer_matches("bearer s3cret", "s3cret")
    assert not bearer_matches("Bearer s3cre", "s3cret")
    assert not bearer_matches("Basic s3cret", "s3cret")
    assert not bearer_matches(None, "s3cret")
    assert not bearer_matches("Bearer ", "")


async def test_the_same_key_is_queued_once() -> None:
    state, queue = InMemoryStateStore(FakeClock(NOW)), RecordingQueue()
    args: dict[str, Any] = {
        "key": "k",
        "ttl_seconds": 600,
        "job": Job.HANDLE_CHANGE,
        "payload": {},
        "job_id": "j",
    }

    assert await enqueue_once(state, queue, **args) is True
    assert await enqueue_once(state, queue, **args) is False
    assert len(queue.jobs) == 1


async def test_a_queue_outage_leaves_no_mark_so_the_retry_is_queued() -> None:
    state, queue = InMemoryStateStore(FakeClock(NOW)), RecordingQueue()
    args: dict[str, Any] = {
        "key": "k",
        "ttl_seconds": 600,
        "job": Job.HANDLE_CHANGE,
        "payload": {},
        "job_id": "j",
    }
    queue.fail = True

    with pytest.raises(QueueUnavailable):
        await enqueue_once(state, queue, **args)
    queue.fail = False

    assert await enqueue_once(state, queue, **args) is True
    assert len(queue.jobs) == 1


async def test_a_mark_stuck_by_a_crash_between_claim_and_enqueue_expires_within_a_minute() -> None:
    clock = FakeClock(NOW)
    state, queue = InMemoryStateStore(clock), RecordingQueue()
    args: dict[str, Any] = {
        "key": "k",
        "ttl_seconds": 600,
        "job": Job.HANDLE_CHANGE,
        "payload": {},
        "job_id": "j",
    }
    queue.fail = True
    state_fail_on_delete = StateUnavailable("down")

    original_delete = state.delete

    async def failing_delete(key: str) -> None:
        raise state_fail_on_delete

    state.delete = failing_delete  # type: ignore[method-assign]
    with pytest.raises(QueueUnavailable):
        await enqueue_once(state, queue, **args)
    state.delete = original_delete  # type: ignore[method-assign]
    queue.fail = False

    assert await enqueue_once(state, queue, **args) is False  # still claimed ...
    clock.advance(seconds=61)
    assert await enqueue_once(state, queue, **args) is True  # ... but not for long
