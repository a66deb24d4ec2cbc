"""Booking that moves the pipeline: the Appointment and the patient's opportunity in one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.directory.index import DirectoryCache
from app.fhir.builders import Actor
from app.fhir.bundle import Transaction
from app.fhir.client import FhirClient
from app.opportunities import service as opportunities
from app.ports.state import StateStore
from app.scheduling import booking
from app.vocabulary import Channel


async def book_with_opportunity(
    fhir: FhirClient,
    directory: DirectoryCache,
    state: StateStore,
    *,
    slot_id: str,
    patient_id: str,
    reason: str | None,
    channel: Channel,
    source: str,
    actors: list[Actor],
    now: datetime,
    instruction: str | None = None,
    identifier: dict[str, str] | None = None,
    new_patient: dict[str, Any] | None = None,
    also: booking.Extend | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Book a slot and, in the same transaction, advance the patient's open opportunity to 'booked' (or
    create one), and write what `also` adds; the Appointment and the opportunity advanced (None when one
    was created)."""
    existing = None if new_patient else await opportunities.open_opportunity(fhir, patient_id=patient_id)

    def add_opportunity(tx: Transaction, appointment_ref: str) -> None:
        opportunities.add_booked_opportunity(
            tx,
            existing=existing,
            patient_ref=f"Patient/{patient_id}",
            appointment_ref=appointment_ref,
            source=source,
            description=reason,
            identifier=identifier,
        )
        if also:
            also(tx, appointment_ref)

    appointment = await booking.book(
        fhir,
        directory,
        state,
        slot_id=slot_id,
        patient_id=patient_id,
        reason=reason,
        channel=channel,
        actors=actors,
        now=now,
        extend=add_opportunity,
        instruction=instruction,
        identifier=identifier,
        new_patient=new_patient,
    )
    return appointment, existing
