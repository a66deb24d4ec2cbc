"""Patient journeys: templates (PlanDefinition) and instances (CarePlan, one activity per stage)."""
