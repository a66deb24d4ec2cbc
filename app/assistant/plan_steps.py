"""Compound instructions: the extractor's steps merged where one write already does both, each step
planned by its intent's handler, and the plan confirmed all or nothing.

All or nothing means one FHIR transaction. Registering a patient, a booking, its opportunity and any
callback tickets share the booking's transaction, and "cancel X and book Y instead" is one reschedule
transaction; other combinations of writes cannot share one, so their plan is not executable and says
to give them one at a time (docs/assistant.md, "Compound instructions").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from app.assistant import intents
from app.assistant.execute import Execution, execute
from app.assistant.execute.common import SOURCE
from app.assistant.intents import appointments
from app.assistant.schemas import Confirmation, Plan, PlanStep
from app.errors import Invalid
from app.fhir.builders import provenance
from app.fhir.bundle import Transaction
from app.fhir.canonical import SID_ASSISTANT_PLAN
from app.ports.nlu import ExtractedEntities, ExtractionStep, Intent
from app.tickets import service as tickets
from app.understanding.draft import Draft
from app.understanding.schemas import Entities, Resolved

_PATIENT_FIELDS = ("patient_phone", "patient_name")
_REGISTRATION_FIELDS = ("patient_phone", "patient_name", "gender", "birth_date")
# A ticket created by a compound plan's later step: what it is filed as.
TICKET_CATEGORY = "callback"  # a to-do step ("create a callback task") rides as a callback ticket
# Later steps the booking's transaction can carry: to-dos and tickets of any category.
TICKET_STEPS = (Intent.CREATE_TASK, Intent.CREATE_TICKET)


@dataclass(frozen=True)
class Step:
    """One step to plan; `replaces` is the cancel step of a "cancel X and book Y instead"."""

    intent: Intent
    entities: ExtractedEntities
    replaces: ExtractedEntities | None = None


def _merged(first: ExtractedEntities, then: ExtractedEntities, keep: tuple[str, ...]) -> ExtractedEntities:
    """`then`'s entities, with `first`'s where `then` has none (and always `first`'s `keep` fields)."""
    values = then.model_dump()
    for key, value in first.model_dump().items():
        if value is not None and (key in keep or values[key] is None):
            values[key] = value
    return ExtractedEntities.model_validate(values)


def compose(steps: list[ExtractionStep]) -> tuple[list[Step], list[str]]:
    """The steps to plan, merged where one write does both; notes saying how."""
    notes: list[str] = []
    carried: list[ExtractionStep] = []
    for step in steps:
        entities = step.entities.model_copy()
        earlier = next(
            (s.entities for s in reversed(carried) if s.entities.patient_phone or s.entities.patient_name),
            None,
        )
        if earlier and not (entities.patient_phone or entities.patient_name):
            # "... and book him": the patient of the step before.
            entities.patient_phone, entities.patient_name = earlier.patient_phone, earlier.patient_name
        carried.append(ExtractionStep(intent=step.intent, entities=entities))
    planned: list[Step] = []
    for step in carried:
        last = planned[-1] if planned else None
        if (
            last
            and last.intent is Intent.REGISTER_PATIENT
            and step.intent
            in (
                Intent.BOOK_APPOINTMENT,
                Intent.CREATE_OPPORTUNITY,
            )
        ):
            planned[-1] = Step(step.intent, _merged(last.entities, step.entities, _REGISTRATION_FIELDS))
            notes.append("Registering the new patient is part of the next step's transaction.")
        elif last and last.intent is Intent.CANCEL_APPOINTMENT and step.intent is Intent.BOOK_APPOINTMENT:
            new = _merged(last.entities, step.entities, _PATIENT_FIELDS)
            new.when = step.entities.when  # the new time is the booking's, never the cancelled one's
            planned[-1] = Step(Intent.RESCHEDULE_APPOINTMENT, new, replaces=last.entities)
            notes.append("Cancelling and booking instead is one reschedule: both happen, or neither.")
        elif last and last.intent is Intent.BOOK_APPOINTMENT and step.intent is Intent.CREATE_OPPORTUNITY:
            notes.append("Booking already creates or advances the patient's opportunity.")
        else:
            planned.append(Step(step.intent, step.entities))
    return planned, notes


async def replace_appointment(old: Draft, new: Draft, ctx: intents.Context) -> Draft:
    """ "Cancel X and book Y instead": X resolved as a cancellation, Y as a booking, planned as one
    reschedule (which may change the doctor)."""
    await appointments.cancel(old, ctx)
    await appointments.book(new, ctx)
    draft = Draft(
        intent=Intent.RESCHEDULE_APPOINTMENT,
        text=new.text,
        now=new.now,
        entities=new.entities,
        when=new.when,
        resolved=Resolved(
            patient=old.resolved.patient,
            practitioner=new.resolved.practitioner,
            slot=new.resolved.slot,
            appointment=old.resolved.appointment,
        ),
    )
    draft.clarifications = [*old.clarifications, *(c for c in new.clarifications if old.resolved.patient)]
    draft.alternatives = [*old.alternatives, *new.alternatives]
    draft.notes = [*old.notes, *new.notes]
    draft.fill(
        "appointment",
        old.resolved.appointment,
        "resolved" if old.resolved.appointment else "missing",
        "Appointment to cancel",
    )
    draft.fill("slot", new.resolved.slot, "resolved" if new.resolved.slot else "missing", "New slot")
    draft.missing = [name for name in ("appointment", "slot") if draft.form[name].value is None]
    cancelled = next((a.summary for a in old.actions), "Cancel the appointment")
    booked = next((a.summary for a in new.actions if a.type == "book_appointment"), "book the new slot")
    draft.act(
        "reschedule_appointment",
        f"{cancelled}, and instead {booked[0].lower()}{booked[1:]}, in one transaction "
        "(the old appointment is linked to the new one)",
    )
    return draft


def refusals(drafts: list[Draft]) -> list[str]:
    """Why the steps' writes cannot be confirmed together (empty when they can)."""
    writes = [d for d in drafts if d.intent not in intents.READ_ONLY]
    reasons = []
    patients = {d.resolved.patient for d in writes if d.resolved.patient}
    if len(patients) > 1:
        reasons.append(
            f"This instruction would write to different patients ({', '.join(sorted(patients))}); "
            "give one instruction per patient."
        )
    # Only the booking's transaction takes other writes: its registration, lead and callback tickets.
    shareable = len(writes) <= 1 or (
        writes[0].intent is Intent.BOOK_APPOINTMENT and all(d.intent in TICKET_STEPS for d in writes[1:])
    )
    if not shareable:
        asked = " and ".join(d.intent.value for d in writes)
        reasons.append(
            f"{asked} cannot be written all or nothing together; give them as separate instructions."
        )
    return reasons


def step_of(draft: Draft) -> PlanStep:
    """A draft as one step of the plan."""
    return PlanStep(
        intent=draft.intent,
        entities=Entities.model_validate(draft.entities.model_dump()),
        resolved=draft.resolved,
        actions=draft.actions if draft.intent not in intents.READ_ONLY else [],
        form=draft.form,
        missing=draft.missing,
        clarifications=draft.clarifications,
    )


def _ticket_tag(plan: Plan, index: int) -> dict[str, str]:
    return {"system": SID_ASSISTANT_PLAN, "value": f"{plan.plan_id}-{index}"}


async def execute_steps(plan: Plan, form: dict[str, object], ex: Execution) -> Confirmation:
    """Confirm a plan: its main step, with the later steps' tickets in the same transaction."""
    extra = [
        (index, step)
        for index, step in enumerate(plan.steps)
        if step.intent in TICKET_STEPS and step.actions and index > 0
    ]
    if not extra:
        return await execute(plan, dict(form), ex)
    built: list[tuple[int, dict[str, object]]] = []
    for index, step in extra:
        values = {name: field.value for name, field in step.form.items()}
        if not values.get("message"):
            raise Invalid(f"steps.{index}.message", "say what the task is")
        built.append((index, values))

    def add_tickets(tx: Transaction, appointment_ref: str, patient_id: str) -> None:
        for index, values in built:
            due = values.get("due")
            ticket = tickets.new_ticket(
                patient_id=patient_id,
                category=str(values.get("category") or TICKET_CATEGORY),
                description=str(values["message"]),
                due=datetime.fromisoformat(str(due)) if due else None,
                owner=ex.actors[0].user,
                priority=str(values.get("priority") or "routine"),
                identifier=_ticket_tag(plan, index),
                source=SOURCE,
                now=ex.now,
                sla=ex.ticket_sla,
                focus=appointment_ref,
            )
            ref = tx.create(ticket)
            tx.create(
                provenance(
                    targets=[ref], actors=ex.actors, activity="ticket.create", instruction=ex.instruction
                )
            )

    confirmation = await execute(plan, dict(form), replace(ex, extend=add_tickets))
    for index, _ in built:
        tag = _ticket_tag(plan, index)
        found = await ex.fhir.search("Task", {"identifier": f"{tag['system']}|{tag['value']}"})
        confirmation.written.extend(f"Task/{task['id']}" for task in found)
    return confirmation
