"""How the steps of a compound extraction become the steps of a plan (pure: no FHIR)."""

from __future__ import annotations

from app.assistant.plan_steps import compose
from app.ports.nlu import ExtractedEntities, ExtractionStep, Intent


def step(intent: Intent, **entities: str) -> ExtractionStep:
    return ExtractionStep(intent=intent, entities=ExtractedEntities(**entities))


def test_register_then_book_is_one_booking_that_registers() -> None:
    steps, notes = compose(
        [
            step(
                Intent.REGISTER_PATIENT, patient_name="Ravi Kumar", patient_phone="9845012345", gender="male"
            ),
            step(Intent.BOOK_APPOINTMENT, specialty="orthopedics", when="Friday 11"),
        ]
    )

    [booking] = steps
    assert booking.intent is Intent.BOOK_APPOINTMENT
    assert (booking.entities.patient_name, booking.entities.gender) == ("Ravi Kumar", "male")
    assert booking.entities.when == "Friday 11"
    assert notes


def test_cancel_then_book_instead_is_one_reschedule_keeping_the_old_date_apart() -> None:
    [move], _ = compose(
        [
            step(Intent.CANCEL_APPOINTMENT, patient_phone="9844111173", when="tomorrow"),
            step(Intent.BOOK_APPOINTMENT, practitioner_name="Meera Iyer", when="Monday 3 pm"),
        ]
    )

    assert move.intent is Intent.RESCHEDULE_APPOINTMENT
    assert move.entities.when == "Monday 3 pm"
    assert move.entities.patient_phone == "9844111173"
    assert move.replaces is not None and move.replaces.when == "tomorrow"


def test_a_later_step_without_a_patient_is_for_the_earlier_one() -> None:
    steps, _ = compose(
        [
            step(Intent.BOOK_APPOINTMENT, patient_phone="9844111173", specialty="cardiology"),
            step(Intent.CREATE_TASK, message="call back"),
        ]
    )

    assert [s.intent for s in steps] == [Intent.BOOK_APPOINTMENT, Intent.CREATE_TASK]
    assert steps[1].entities.patient_phone == "9844111173"


def test_a_lead_after_a_booking_is_the_booking() -> None:
    steps, notes = compose(
        [step(Intent.BOOK_APPOINTMENT, patient_phone="9844111173"), step(Intent.CREATE_OPPORTUNITY)]
    )

    assert [s.intent for s in steps] == [Intent.BOOK_APPOINTMENT]
    assert "already creates or advances" in notes[0]
