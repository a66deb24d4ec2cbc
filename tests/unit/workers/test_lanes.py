"""Every job waits in a lane, and the lanes' queue names keep live jobs where they always were."""

from __future__ import annotations

import argparse

import pytest

from app.ports.jobs import JOB_LANES, Job, Lane
from workers.__main__ import _lanes
from workers.queue import lane_queue_name


def test_every_job_has_a_lane() -> None:
    assert set(JOB_LANES) == set(Job)


def test_patient_facing_jobs_are_live_and_campaigns_bulk() -> None:
    assert {JOB_LANES[Job.RECEIVE_MESSAGE], JOB_LANES[Job.ANSWER_MESSAGE], JOB_LANES[Job.SEND_MESSAGE]} == {
        Lane.LIVE
    }
    assert JOB_LANES[Job.HANDLE_CHANGE] is Lane.FEED
    assert JOB_LANES[Job.SEND_CAMPAIGN_BATCH] is Lane.BULK


def test_live_jobs_keep_the_base_queue_name() -> None:
    assert [lane_queue_name("prm", lane) for lane in Lane] == ["prm", "prm-feed", "prm-bulk"]


def test_a_worker_can_be_given_some_lanes_in_its_own_order() -> None:
    assert _lanes("bulk, live") == (Lane.BULK, Lane.LIVE)
    with pytest.raises(argparse.ArgumentTypeError):
        _lanes("live,urgent")
