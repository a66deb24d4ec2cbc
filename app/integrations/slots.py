"""Slots follow the appointments written outside the PRM API (an EHR through /fhir, a script into HAPI).

The PRM's own bookings and cancellations change the Slot in the same transaction as the Appointment;
an EHR writes the Appointment only. From the change feed, this keeps the Slot in step with the
appointments holding it: an active appointment on a free slot makes it busy, a slot no active
appointment holds any more is freed. Two active appointments on one slot break invariant 1 (one
booking per slot): the EHR's write has already been stored, so staff get one ticket to resolve it.
The handler acts on the current state (not the version delivered), so order and replays do not matter.
"""

from __future__ import annotations

import structlog

from app.changes.model import Change, ChangeKind
from app.changes.registry import ChangeContext, on
from app.fhir.builders import Actor, AgentKind
from app.fhir.canonical import SID_SLOT_CONFLICT
from app.fhir.client import FhirClient, Resource, version_of
from app.fhir.errors import FhirConflict, FhirNotFound
from app.fhir.records import update_with_provenance
from app.scheduling.resources import participant, slot_of
from app.tickets.service import create_ticket
from app.vocabulary import ACTIVE_APPOINTMENT_STATUSES

log = structlog.get_logger(__name__)

SYSTEM = Actor(kind=AgentKind.SYSTEM)
HELD = ("busy", "busy-tentative")
# Appointments whose time was used or is kept: a slot is freed only when none of these holds it (the
# PRM's own check-in, completion and no-show leave the slot busy too).
KEEPING_STATUSES = (*ACTIVE_APPOINTMENT_STATUSES, "checked-in", "fulfilled", "noshow")
# A concurrent booking can move the Slot between our read and our write (409 on If-Match): re-decide.
ATTEMPTS = 3


@on("Appointment")
async def keep_slot_in_step(change: Change, *, context: ChangeContext) -> None:
    """Make the appointment's Slot busy or free to match the active appointments holding it."""
    appointment = await _latest(context.fhir, change)
    slot_id = slot_of(appointment) if appointment else None
    if not slot_id:
        return
    for _ in range(ATTEMPTS):
        try:
            await _reconcile(slot_id, context=context)
            return
        except FhirConflict:
            continue
    raise FhirConflict(f"Slot/{slot_id} kept changing; the job retries")


async def _latest(fhir: FhirClient, change: Change) -> Resource | None:
    """The appointment as it is now; for a deleted one, its last version before the delete."""
    try:
        return await fhir.read("Appointment", change.id)
    except FhirNotFound:
        pass
    version = change.version if change.kind is ChangeKind.DELETED else ""
    if not version.isdigit() or int(version) <= 1:
        return None
    try:
        return await fhir.vread("Appointment", change.id, str(int(version) - 1))
    except FhirNotFound:
        return None


async def _reconcile(slot_id: str, *, context: ChangeContext) -> None:
    fhir = context.fhir
    try:
        slot = await fhir.read("Slot", slot_id)
    except FhirNotFound:
        return
    keeping = await fhir.search(
        "Appointment", [("slot", f"Slot/{slot_id}"), ("status", ",".join(KEEPING_STATUSES))]
    )
    holders = [a for a in keeping if a.get("status") in ACTIVE_APPOINTMENT_STATUSES]
    if not keeping:
        if slot.get("status") in HELD:
            await _set_status(fhir, slot, "free")
        return
    if not holders:
        return
    if slot.get("status") == "free":
        pending = all(a.get("status") == "pending" for a in holders)
        await _set_status(fhir, slot, "busy-tentative" if pending else "busy")
    if len(holders) > 1:
        await _flag_double_booking(fhir, slot_id, holders, context=context)


async def _set_status(fhir: FhirClient, slot: Resource, status: str) -> None:
    await update_with_provenance(
        fhir,
        {**slot, "status": status},
        actors=[SYSTEM],
        activity=f"slot.{status}",
        if_match=version_of(slot),
    )
    log.info("integrations.slot.synced", slot=f"Slot/{slot['id']}", status=status)


async def _flag_double_booking(
    fhir: FhirClient, slot_id: str, holders: list[Resource], *, context: ChangeContext
) -> None:
    """One ticket per slot and set of holders, however often the holders' changes arrive."""
    references = sorted(f"Appointment/{a['id']}" for a in holders)
    # No '|' or ',' in the value: a token search would read them as system and OR.
    key = f"Slot/{slot_id}/" + "/".join(sorted(str(a["id"]) for a in holders))
    if await fhir.search("Task", {"identifier": f"{SID_SLOT_CONFLICT}|{key}"}):
        return
    newest = max(holders, key=lambda a: str(a.get("meta", {}).get("lastUpdated", "")))
    ticket = await create_ticket(
        fhir,
        patient_id=participant(newest, "Patient"),
        category="appointment",
        description=(
            f"Double booking: Slot/{slot_id} is held by {', '.join(references)} (written outside the PRM API). "
            "Keep one appointment and cancel or move the others."
        ),
        actors=[SYSTEM],
        priority="urgent",
        identifier={"system": SID_SLOT_CONFLICT, "value": key},
        source="ehr",
        focus=f"Appointment/{newest['id']}",
        now=context.now,
        sla=context.ticket_sla,
    )
    log.warning(
        "integrations.slot.double_booked",
        slot=f"Slot/{slot_id}",
        ticket=f"Task/{ticket['id']}",
        holders=references,
    )
