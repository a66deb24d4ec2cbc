"""Writes made straight into HAPI reach the registered handlers exactly once: by rest-hook, and by the
sweep when the receiver was down (deletes included)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

import pytest

from app.changes.model import ChangeKind
from app.config import Settings
from app.fhir.client import FhirClient
from app.ports.jobs import Job
from tests.changes.conftest import FeedApi
from tests.changes.support import WATCHED, Recorder, run_jobs
from workers.queue import RqJobQueue

pytestmark = pytest.mark.integration
DELIVERY_TIMEOUT_SECONDS = 60


def _basic(tag: str) -> dict[str, object]:
    return {"resourceType": WATCHED, "code": {"text": tag}}


async def _until(
    settings: Settings, recorder: Recorder, expected: Counter[tuple[str, str, ChangeKind]]
) -> None:
    """Run queued jobs until the handler saw at least `expected` (or time out)."""
    ids = {key[0] for key in expected}
    deadline = time.monotonic() + DELIVERY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        await asyncio.to_thread(run_jobs, settings)
        if set(recorder.counts(ids)) >= set(expected):
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"handled {recorder.counts(ids)}, expected {expected}")


async def _sweep_now(settings: Settings) -> None:
    queue = RqJobQueue(settings.redis_url, queue_name=settings.queue_name)
    await queue.enqueue(Job.SWEEP_CHANGES, {}, job_id=f"test-sweep-{uuid.uuid4().hex}")
    await asyncio.to_thread(run_jobs, settings)


async def test_a_write_straight_into_hapi_reaches_the_handler_once_by_rest_hook(
    feed_api: FeedApi, feed_settings: Settings, fhir: FhirClient, recorder: Recorder
) -> None:
    created = await fhir.create(_basic("rest-hook"))
    updated = await fhir.update({**created, "code": {"text": "rest-hook, updated"}})
    expected = Counter(
        {(created["id"], "1", ChangeKind.CREATED): 1, (created["id"], "2", ChangeKind.UPDATED): 1}
    )

    await _until(feed_settings, recorder, expected)
    await asyncio.sleep(3)  # any late or repeated delivery would show now
    await asyncio.to_thread(run_jobs, feed_settings)

    assert recorder.counts({created["id"]}) == expected
    [second] = [c for c in recorder.changes if c.id == created["id"] and c.version == "2"]
    assert second.resource is not None
    assert second.resource["meta"]["versionId"] == updated["meta"]["versionId"] == "2"
    assert second.resource["code"]["text"] == "rest-hook, updated"


async def test_a_delete_notified_by_rest_hook_is_handled_as_deleted_and_the_sweep_adds_the_missed_create(
    feed_api: FeedApi, feed_settings: Settings, fhir: FhirClient, recorder: Recorder
) -> None:
    created = await fhir.create(_basic("deleted by rest-hook"))
    await fhir.delete(WATCHED, created["id"])
    deleted_only = Counter({(created["id"], "2", ChangeKind.DELETED): 1})
    expected = Counter({(created["id"], "1", ChangeKind.CREATED): 1, **deleted_only})

    await _until(feed_settings, recorder, deleted_only)
    # HAPI delivers a version only while it is current: a create deleted at once is never delivered
    # by rest-hook (observed), which is what the sweep is for.
    await asyncio.sleep(2)
    await _sweep_now(feed_settings)

    assert recorder.counts({created["id"]}) == expected
    [deleted] = [c for c in recorder.changes if c.id == created["id"] and c.kind is ChangeKind.DELETED]
    assert deleted.resource is None


async def test_changes_made_while_the_receiver_is_down_are_each_handled_once(
    feed_api: FeedApi, feed_settings: Settings, fhir: FhirClient, recorder: Recorder
) -> None:
    feed_api.stop()
    try:
        created = [await fhir.create(_basic(f"while down {i}")) for i in range(40)]
        updated = [await fhir.update({**r, "code": {"text": "while down, updated"}}) for r in created[:10]]
        removed = created[10]
        await fhir.delete(WATCHED, removed["id"])
        await _sweep_now(feed_settings)
    finally:
        feed_api.start()  # HAPI's retries may now arrive too: they must change nothing
    expected = Counter(
        {(r["id"], "1", ChangeKind.CREATED): 1 for r in created}
        | {(r["id"], "2", ChangeKind.UPDATED): 1 for r in updated}
        | {(removed["id"], "2", ChangeKind.DELETED): 1}
    )
    assert sum(expected.values()) == 51

    await _until(feed_settings, recorder, expected)
    await asyncio.sleep(5)
    await _sweep_now(feed_settings)  # a second sweep over the same window adds nothing

    assert recorder.counts({r["id"] for r in created}) == expected


async def test_a_deleted_resource_is_seen_by_the_sweep_as_deleted(
    feed_api: FeedApi, feed_settings: Settings, fhir: FhirClient, recorder: Recorder
) -> None:
    feed_api.stop()
    try:
        created = await fhir.create(_basic("deleted while down"))
        await fhir.delete(WATCHED, created["id"])
        await _sweep_now(feed_settings)
    finally:
        feed_api.start()

    counts = recorder.counts({created["id"]})

    assert counts == Counter(
        {(created["id"], "1", ChangeKind.CREATED): 1, (created["id"], "2", ChangeKind.DELETED): 1}
    )
