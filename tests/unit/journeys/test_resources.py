"""A template's PlanDefinition round-trips every action kind; an intake action names its Questionnaire by
canonical URL (definitionCanonical)."""

from __future__ import annotations

from app.fhir.canonical import questionnaire_url
from app.journeys.model import Action, ActionKind, Event, Stage, Template
from app.journeys.resources import plan_definition, template_of


def test_an_intake_action_round_trips_through_definition_canonical() -> None:
    template = Template(
        name="pre-visit",
        title="Pre-visit",
        stages=(
            Stage(
                code="before",
                title="Before",
                actions=(
                    Action(ActionKind.INTAKE, days=-2, questionnaire="intake-cardiology"),
                    Action(ActionKind.MESSAGE, days=-1, template="welcome"),
                    Action(ActionKind.WAIT, event=Event.ARRIVED),
                ),
            ),
        ),
    )
    resource = plan_definition(template)
    assert resource["action"][0]["action"][0]["definitionCanonical"] == questionnaire_url("intake-cardiology")
    assert template_of(resource) == template


def test_a_questionnaire_of_another_publisher_is_not_read_as_ours() -> None:
    resource = plan_definition(
        Template(
            name="t",
            title="T",
            stages=(Stage("s", "S", (Action(ActionKind.INTAKE, questionnaire="intake-general"),)),),
        )
    )
    sub = resource["action"][0]["action"][0]
    sub["definitionCanonical"] = "https://example.org/Questionnaire/intake-general"
    assert template_of(resource).stages[0].actions[0].questionnaire is None
    sub["definitionCanonical"] = questionnaire_url("intake-general") + "|1.0.0"
    assert template_of(resource).stages[0].actions[0].questionnaire == "intake-general"
