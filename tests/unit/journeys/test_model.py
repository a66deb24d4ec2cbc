"""The journey model without a server: how an instance settles, which actions are due or stale, events,
skipping and cancellation, and the FHIR round trip of templates and instances."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from app.fhir.builders import instant
from app.fhir.canonical import PROFILE_JOURNEY, PROFILE_JOURNEY_STAGE, PROFILE_JOURNEY_TEMPLATE
from app.journeys import model
from app.journeys.model import Action, ActionKind, Event, JourneyStatus, Stage, StageStatus, Template
from app.journeys.resources import care_plan, journey_of, plan_definition, stage_task, template_of

ANCHOR = datetime(2026, 12, 2, 4, 30, tzinfo=UTC)
TEMPLATE = Template(
    name="cardio",
    title="Cardio",
    department="cardiology",
    location="loc-1",
    stages=(
        Stage(
            "pre",
            "Before",
            (
                Action(ActionKind.MESSAGE, days=-1, template="welcome"),
                Action(ActionKind.TICKET, days=-2, category="other", description="Reports"),
                Action(ActionKind.WAIT, event=Event.ARRIVED),
            ),
        ),
        Stage("visit", "Visit", (Action(ActionKind.WAIT, event=Event.FULFILLED),)),
        Stage("after", "After", (Action(ActionKind.TICKET, days=3, category="callback", priority="urgent"),)),
    ),
)


def _started() -> model.Journey:
    journey = model.new_journey(TEMPLATE, patient_id="p", anchor=ANCHOR, appointment_id="a", identifier="k")
    return model.settle(journey, TEMPLATE)


def _statuses(journey: model.Journey) -> list[str]:
    return [s.status.value for s in journey.stages]


def test_a_new_journey_starts_its_first_stage_due_at_its_earliest_action() -> None:
    journey = _started()

    assert _statuses(journey) == ["in-progress", "not-started", "not-started"]
    assert journey.stages[0].next_due == ANCHOR - timedelta(days=2)
    assert model.due_actions(journey, TEMPLATE, ANCHOR - timedelta(days=3)) == []
    due = model.due_actions(journey, TEMPLATE, ANCHOR - timedelta(days=1))
    assert [(d.stage, d.index) for d in due] == [("pre", 0), ("pre", 1)]


def test_done_actions_leave_the_stage_waiting_without_a_due_time() -> None:
    journey = model.mark_done(model.mark_done(_started(), "pre", 0), "pre", 1)

    settled = model.settle(journey, TEMPLATE)

    assert _statuses(settled) == ["in-progress", "not-started", "not-started"]
    assert settled.stages[0].next_due is None
    assert model.due_actions(settled, TEMPLATE, ANCHOR + timedelta(days=9)) == []


def test_completion_without_a_check_in_ends_both_waits_and_the_last_stage_completes_the_journey() -> None:
    journey = model.settle(model.on_event(_started(), TEMPLATE, Event.FULFILLED), TEMPLATE)

    assert _statuses(journey) == ["completed", "completed", "in-progress"]
    assert journey.stages[2].next_due == ANCHOR + timedelta(days=3)
    finished = model.settle(model.mark_done(journey, "after", 0), TEMPLATE)
    assert finished.status is JourneyStatus.COMPLETED
    assert finished.current() is None


def test_check_in_ends_only_the_stage_waiting_for_it() -> None:
    journey = model.settle(model.on_event(_started(), TEMPLATE, Event.ARRIVED), TEMPLATE)

    assert _statuses(journey) == ["completed", "in-progress", "not-started"]
    assert model.on_event(journey, TEMPLATE, Event.ARRIVED) == journey  # nothing else waits for it


def test_stale_actions() -> None:
    before = Action(ActionKind.MESSAGE, days=-1, template="welcome")
    after = Action(ActionKind.TICKET, days=3, category="callback")

    assert not before.stale(ANCHOR, ANCHOR - timedelta(hours=1))
    assert before.stale(ANCHOR, ANCHOR + timedelta(minutes=1))
    assert not after.stale(ANCHOR, ANCHOR + timedelta(days=3, hours=23))
    assert after.stale(ANCHOR, ANCHOR + timedelta(days=4, minutes=1))


def test_skip_and_cancel() -> None:
    skipped = model.settle(model.finish_stage(_started(), "pre", StageStatus.SKIPPED), TEMPLATE)
    cancelled = model.settle(model.cancel(skipped), TEMPLATE)

    assert _statuses(skipped) == ["skipped", "in-progress", "not-started"]
    assert _statuses(cancelled) == ["skipped", "cancelled", "cancelled"]
    assert cancelled.status is JourneyStatus.CANCELLED
    assert model.due_actions(cancelled, TEMPLATE, ANCHOR + timedelta(days=5)) == []


def test_a_template_survives_its_plan_definition() -> None:
    resource = plan_definition(TEMPLATE)

    assert resource["meta"]["profile"] == [PROFILE_JOURNEY_TEMPLATE]
    assert resource["id"] == "cardio"
    assert template_of(resource) == TEMPLATE


def test_a_journey_survives_its_care_plan_and_stage_tasks_and_a_bare_care_plan_reads() -> None:
    journey = model.settle(
        model.mark_done(model.finish_stage(_started(), "pre", StageStatus.SKIPPED), "pre", 1), TEMPLATE
    )
    tasks = [
        {**stage_task(journey, stage, now=ANCHOR), "id": f"t{n}"} for n, stage in enumerate(journey.stages)
    ]
    resource = care_plan(journey, created=ANCHOR, stage_refs=[f"Task/{t['id']}" for t in tasks])

    assert resource["meta"]["profile"] == [PROFILE_JOURNEY]
    assert resource["status"] == "active"
    assert [t["meta"]["profile"] for t in tasks] == [[PROFILE_JOURNEY_STAGE]] * 3
    assert [(t["status"], t.get("statusReason")) for t in tasks] == [
        ("cancelled", {"text": "skipped"}),
        ("in-progress", None),
        ("requested", None),
    ]
    assert tasks[0]["executionPeriod"] == {"start": instant(ANCHOR), "end": instant(ANCHOR)}
    assert "executionPeriod" not in tasks[2]
    assert journey_of(resource, tasks) == journey
    # Stages keep their order from the CarePlan's activities, whatever order the Tasks come in.
    assert journey_of(resource, reversed(tasks)) == journey
    bare = journey_of({"resourceType": "CarePlan", "id": "x", "status": "draft", "activity": [{}]})
    assert bare.status is JourneyStatus.CANCELLED
    assert [(s.code, s.status, s.task) for s in bare.stages] == [("stage-1", StageStatus.NOT_STARTED, {})]


def test_a_stage_never_finishes_before_it_started() -> None:
    journey = model.settle(_started(), TEMPLATE)
    stage = journey.stages[0]
    later = ANCHOR + timedelta(days=1)
    started = replace(stage, task=stage_task(journey, stage, now=later))

    finished = stage_task(journey, replace(started, status=StageStatus.COMPLETED), now=ANCHOR)

    assert finished["executionPeriod"] == {"start": instant(later), "end": instant(later)}
