"""What every executor uses: the execution context and the form helpers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app.assistant.schemas import Plan
from app.directory.index import DirectoryCache
from app.errors import Invalid
from app.fhir.builders import Actor
from app.fhir.bundle import Transaction
from app.fhir.canonical import SID_ASSISTANT_PLAN
from app.fhir.client import FhirClient
from app.patients import service as patients
from app.ports.jobs import JobQueue
from app.ports.state import StateStore

SOURCE = "assistant"


@dataclass(frozen=True)
class Execution:
    """Everything a confirmation needs besides the plan."""

    fhir: FhirClient
    directory: DirectoryCache
    state: StateStore
    queue: JobQueue
    actors: list[Actor]
    instruction: str
    now: datetime
    region: str
    ticket_sla: Mapping[str, int]  # the tickets' SLA overrides (settings.ticket_sla_minutes)
    mrn_prefix: str
    # More writes for the booking's own transaction (a compound plan's ticket): tx, appointment, patient id.
    extend: Callable[[Transaction, str, str], None] | None = None


Executor = Callable[[Plan, dict[str, Any], Execution, list[str]], Awaitable[dict[str, str | None]]]


def ref_id(value: Any, resource_type: str, field: str) -> str:
    """The id of a `Type/id` (or bare id) form value; 422 naming the field when there is none."""
    if not isinstance(value, str) or not value:
        raise Invalid(f"form.{field}", f"a {resource_type} is required")
    return value.removeprefix(f"{resource_type}/")


def plan_tag(plan: Plan) -> dict[str, str]:
    """The identifier that ties a written resource to its plan."""
    return {"system": SID_ASSISTANT_PLAN, "value": plan.plan_id}


def name_and_phone(form: dict[str, Any]) -> tuple[str, str]:
    """A new patient's name and phone from the form; 422 when either is missing."""
    name, phone = form.get("patient_name"), form.get("patient_phone")
    if not name or not phone:
        raise Invalid("form.patient", "choose a patient, or give a name and phone to register one")
    return str(name), str(phone)


def as_date(value: Any, field: str) -> date | None:
    """A form date (YYYY-MM-DD), or None."""
    if not value:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise Invalid(f"form.{field}", f"{value!r} is not a date (YYYY-MM-DD)") from None


async def patient_or_register(form: dict[str, Any], ex: Execution, written: list[str]) -> str:
    """The form's patient, registering them first when the plan said so."""
    if form.get("patient"):
        return ref_id(form["patient"], "Patient", "patient")
    name, phone = name_and_phone(form)
    patient, created = await patients.register(
        ex.fhir,
        ex.state,
        name=name,
        phone=phone,
        region=ex.region,
        gender=form.get("gender"),
        birth_date=as_date(form.get("birth_date"), "birth_date"),
        preferred_language=None,
        preferred_channel=None,
        actors=ex.actors,
        instruction=ex.instruction,
        mrn_prefix=ex.mrn_prefix,
        now=ex.now,
    )
    if created:
        written.append(f"Patient/{patient['id']}")
    return str(patient["id"])
