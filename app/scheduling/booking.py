"""Booking: every change to an appointment is one FHIR transaction that also moves its Slot,
guarded by the Slot's version (If-Match), so a slot can never be booked twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import structlog

from app.directory.index import DirectoryCache, RoleEntry
from app.errors import (
    Conflict,
    Invalid,
    InvalidTransition,
    NotFound,
    PatientBusy,
    PatientInactive,
    SlotTaken,
)
from app.fhir.builders import Actor, AgentKind, instant, provenance
from app.fhir.bundle import Transaction
from app.fhir.client import (
    FhirClient,
    Resource,
    bundle_resources,
    resource_path,
    search_query,
    version_of,
)
from app.fhir.records import commit, require
from app.locking import exclusive
from app.ports.state import StateStore
from app.scheduling.resources import (
    appointment_resource,
    channel_of,
    hold_expiry,
    participant,
    slot_of,
)
from app.vocabulary import ACTIVE_APPOINTMENT_STATUSES, Channel

log = structlog.get_logger(__name__)

# Allowed appointment status changes; anything else is refused with 409 naming these.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "pending": ("booked", "cancelled"),
    "booked": ("arrived", "noshow", "cancelled"),
    "arrived": ("fulfilled",),
    "fulfilled": (),
    "cancelled": (),
    "noshow": (),
    "entered-in-error": (),
}

# Extra entries a caller adds to a booking transaction (e.g. the assistant's opportunity), given
# the transaction and the new appointment's reference.
Extend = Callable[[Transaction, str], None]


def _transition_error(appointment: Resource, to: str) -> InvalidTransition:
    current = appointment["status"]
    return InvalidTransition(current=current, wanted=to, allowed=TRANSITIONS.get(current, ()))


def _changed_meanwhile(appointment_id: str) -> Conflict:
    return Conflict(f"Appointment/{appointment_id} changed meanwhile; reload and retry")


# How many of a patient's active appointments one page brings (more pages are followed).
NEARBY_PAGE = 100


def _free_slot(
    slot: Resource | None, slot_id: str, role: RoleEntry | None, *, now: datetime
) -> tuple[Resource, RoleEntry]:
    """The slot and its role, if the slot exists, is free, lies ahead and belongs to an active role."""
    if slot is None:
        raise NotFound("Slot", slot_id)
    if slot["status"] != "free":
        raise SlotTaken(slot_id)
    if datetime.fromisoformat(slot["start"]) <= now:
        raise Invalid("slot", f"slot {slot_id!r} starts in the past")
    if role is None or not role.active:
        raise Invalid("slot", f"slot {slot_id!r} belongs to no active practitioner role")
    return slot, role


async def _role_of(cache: DirectoryCache, slot: Resource | None) -> RoleEntry | None:
    if slot is None:
        return None
    schedule_id = slot["schedule"]["reference"].removeprefix("Schedule/")
    return await cache.find(lambda index: index.by_schedule(schedule_id))


def _nearby_search(patient_id: str, *, now: datetime) -> str:
    """The patient's active appointments that could overlap a slot starting after `now` (none lasts a
    day), as a search URL for a batch."""
    query = [
        ("patient", f"Patient/{patient_id}"),
        ("status", ",".join(ACTIVE_APPOINTMENT_STATUSES)),
        ("date", f"ge{instant(now - timedelta(days=1))}"),
        ("_sort", "date"),
        ("_count", str(NEARBY_PAGE)),
    ]
    return f"Appointment?{search_query(query)}"


async def _check_patient_free(
    fhir: FhirClient, page: Resource | None, slot: Resource, *, ignore: str | None = None
) -> None:
    """PatientBusy if one of the patient's appointments (the search page `page` and those after it)
    overlaps the slot."""
    start, end = datetime.fromisoformat(slot["start"]), datetime.fromisoformat(slot["end"])
    pages = await fhir.following(page) if page is not None else []
    for other in (resource for bundle in pages for resource in bundle_resources(bundle)):
        if other["id"] == ignore or "start" not in other or "end" not in other:
            continue
        if datetime.fromisoformat(other["start"]) < end and datetime.fromisoformat(other["end"]) > start:
            raise PatientBusy(f"Appointment/{other['id']}")


async def _send(fhir: FhirClient, tx: Transaction, *, slot_id: str) -> Resource:
    written = await commit(fhir, tx, on_conflict=SlotTaken(slot_id))
    return next(r for r in written if r.get("resourceType") == "Appointment")


async def book(
    fhir: FhirClient,
    cache: DirectoryCache,
    state: StateStore,
    *,
    slot_id: str,
    patient_id: str,
    reason: str | None,
    channel: Channel,
    actors: list[Actor],
    now: datetime,
    force: bool = False,
    hold_seconds: int | None = None,
    extend: Extend | None = None,
    instruction: str | None = None,
    identifier: dict[str, str] | None = None,
    new_patient: Resource | None = None,
) -> Resource:
    """Book (or, with `hold_seconds`, hold) a free slot for a patient in one transaction.

    `new_patient` (with the client-assigned id `patient_id`) is registered in the same transaction, so a
    booking that fails leaves no patient behind.
    """
    # One booking per patient at a time: the overlap check reads before the transaction writes.
    async with exclusive(state, "patient-booking", patient_id):
        # One round trip for every read: the slot, the patient, the patient's appointments ahead.
        reads = {"slot": resource_path("Slot", slot_id)}
        if new_patient is None:
            reads["patient"] = resource_path("Patient", patient_id)
            if not force:
                reads["nearby"] = _nearby_search(patient_id, now=now)
        found = await fhir.batch_get(reads)
        slot, role = _free_slot(found["slot"], slot_id, await _role_of(cache, found["slot"]), now=now)
        if new_patient is None:
            patient = found["patient"]
            if patient is None:
                raise NotFound("Patient", patient_id)
            if patient.get("active") is False:
                raise PatientInactive(patient_id)
        await _check_patient_free(fhir, found.get("nearby"), slot)
        tx = _booking(
            slot,
            role,
            patient_id=patient_id,
            reason=reason,
            channel=channel,
            actors=actors,
            now=now,
            hold_seconds=hold_seconds,
            extend=extend,
            instruction=instruction,
            identifier=identifier,
            new_patient=new_patient,
        )
        booked = await _send(fhir, tx, slot_id=slot_id)
    log.info(
        "appointment.held" if hold_seconds is not None else "appointment.booked",
        appointment=f"Appointment/{booked['id']}",
        slot=f"Slot/{slot_id}",
        channel=channel.value,
    )
    return booked


def _booking(
    slot: Resource,
    role: RoleEntry,
    *,
    patient_id: str,
    reason: str | None,
    channel: Channel,
    actors: list[Actor],
    now: datetime,
    hold_seconds: int | None,
    extend: Extend | None,
    instruction: str | None,
    identifier: dict[str, str] | None,
    new_patient: Resource | None,
) -> Transaction:
    """The booking transaction: the slot (guarded by its version), the appointment, its Provenance."""
    slot_id = slot["id"]
    holding = hold_seconds is not None
    tx = Transaction()
    if new_patient is not None:
        registered = tx.update(new_patient)
        tx.create(
            provenance(
                targets=[registered], actors=actors, activity="patient.register", instruction=instruction
            )
        )
    tx.update({**slot, "status": "busy-tentative" if holding else "busy"}, if_match=version_of(slot))
    appointment = appointment_resource(
        slot=slot,
        role=role,
        patient_id=patient_id,
        status="pending" if holding else "booked",
        channel=channel,
        reason=reason,
        hold_expires=now + timedelta(seconds=hold_seconds) if hold_seconds is not None else None,
    )
    if identifier:
        appointment["identifier"] = [identifier]
    appointment_ref = tx.create(appointment)
    if extend:
        extend(tx, appointment_ref)
    activity = "appointment.hold" if holding else "appointment.book"
    tx.create(
        provenance(
            targets=[appointment_ref, f"Slot/{slot_id}"],
            actors=actors,
            activity=activity,
            instruction=instruction,
        )
    )
    return tx


async def confirm_hold(
    fhir: FhirClient, *, appointment_id: str, actors: list[Actor], now: datetime
) -> Resource:
    """Turn a pending hold into a booking, if it has not expired."""
    appointment = await require(fhir, "Appointment", appointment_id, what="Appointment")
    if appointment["status"] != "pending":
        raise _transition_error(appointment, "booked")
    expires = hold_expiry(appointment)
    if expires is not None and expires <= now:
        raise Conflict(
            f"The hold on Appointment/{appointment_id} expired at {instant(expires)}", code="hold_expired"
        )
    slot_id = slot_of(appointment) or ""
    slot = await require(fhir, "Slot", slot_id, what="Slot")
    tx = Transaction()
    tx.update({**slot, "status": "busy"}, if_match=version_of(slot))
    tx.update({**appointment, "status": "booked"}, if_match=version_of(appointment))
    tx.create(
        provenance(
            targets=[f"Appointment/{appointment_id}"],
            actors=actors,
            activity="appointment.book",
            operation="UPDATE",
        )
    )
    return await _send(fhir, tx, slot_id=slot_id)


async def release_expired_holds(fhir: FhirClient, *, slot_id: str, now: datetime) -> int:
    """Cancel the slot's pending holds that have expired and free the slot; how many (idempotent)."""
    released = 0
    for appointment in await fhir.search("Appointment", {"slot": f"Slot/{slot_id}", "status": "pending"}):
        expires = hold_expiry(appointment)
        if expires is not None and expires <= now:
            await _release(fhir, appointment)
            released += 1
    return released


async def _release(fhir: FhirClient, appointment: Resource) -> None:
    await _cancel(
        fhir,
        appointment,
        reason="hold expired",
        actors=[Actor(kind=AgentKind.SYSTEM)],
        activity="appointment.hold.expire",
    )


async def reschedule(
    fhir: FhirClient,
    cache: DirectoryCache,
    state: StateStore,
    *,
    appointment_id: str,
    slot_id: str,
    actors: list[Actor],
    now: datetime,
    reason: str | None = None,
    force: bool = False,
    channel: Channel | None = None,
    instruction: str | None = None,
) -> Resource:
    """Move an appointment to another slot atomically: new slot booked, old freed, old cancelled + linked."""
    old = await require(fhir, "Appointment", appointment_id, what="Appointment")
    if old["status"] not in ("pending", "booked"):
        raise _transition_error(old, "cancelled")
    patient_id = participant(old, "Patient") or ""
    old_slot_id = slot_of(old)
    # The overlap check reads before the transaction writes: one booking per patient at a time.
    async with exclusive(state, "patient-booking", patient_id):
        # One round trip for every read: the new slot, the old one, the patient's appointments ahead.
        reads = {"slot": resource_path("Slot", slot_id)}
        if old_slot_id:
            reads["old_slot"] = resource_path("Slot", old_slot_id)
        if not force:
            reads["nearby"] = _nearby_search(patient_id, now=now)
        found = await fhir.batch_get(reads)
        new_slot, role = _free_slot(found["slot"], slot_id, await _role_of(cache, found["slot"]), now=now)
        await _check_patient_free(fhir, found.get("nearby"), new_slot, ignore=appointment_id)
        old_slot = found.get("old_slot")
        tx = Transaction()
        tx.update({**new_slot, "status": "busy"}, if_match=version_of(new_slot))
        new = appointment_resource(
            slot=new_slot,
            role=role,
            patient_id=patient_id,
            status="booked",
            channel=channel or Channel(channel_of(old) or Channel.DASHBOARD.value),
            reason=reason or _reason(old),
            rescheduled_from=f"Appointment/{appointment_id}",
        )
        new_ref = tx.create(new)
        tx.update(_cancelled(old, "rescheduled"), if_match=version_of(old))
        if old_slot is not None:
            tx.update({**old_slot, "status": "free"}, if_match=version_of(old_slot))
        tx.create(
            provenance(
                targets=[new_ref, f"Appointment/{appointment_id}", f"Slot/{slot_id}"],
                actors=actors,
                activity="appointment.reschedule",
                instruction=instruction,
            )
        )
        moved = await _send(fhir, tx, slot_id=slot_id)
    log.info(
        "appointment.rescheduled",
        appointment=f"Appointment/{moved['id']}",
        previous=f"Appointment/{appointment_id}",
    )
    return moved


async def cancel(
    fhir: FhirClient,
    *,
    appointment_id: str,
    reason: str | None,
    actors: list[Actor],
    instruction: str | None = None,
    patient_id: str | None = None,
) -> Resource:
    """Cancel an appointment, keep the reason, free its slot; with `patient_id` only that patient's
    (another's is not found)."""
    appointment = await require(fhir, "Appointment", appointment_id, what="Appointment")
    if patient_id is not None and participant(appointment, "Patient") != patient_id:
        raise NotFound("Appointment", appointment_id)
    if "cancelled" not in TRANSITIONS.get(appointment["status"], ()):
        raise _transition_error(appointment, "cancelled")
    return await _cancel(
        fhir,
        appointment,
        reason=reason,
        actors=actors,
        activity="appointment.cancel",
        instruction=instruction,
    )


async def transition(fhir: FhirClient, *, appointment_id: str, to: str, actors: list[Actor]) -> Resource:
    """Check-in (arrived), no-show or complete (fulfilled); transitions the workflow forbids are refused."""
    appointment = await require(fhir, "Appointment", appointment_id, what="Appointment")
    if to not in TRANSITIONS.get(appointment["status"], ()):
        raise _transition_error(appointment, to)
    tx = Transaction()
    tx.update({**appointment, "status": to}, if_match=version_of(appointment))
    tx.create(
        provenance(
            targets=[f"Appointment/{appointment_id}"],
            actors=actors,
            activity=f"appointment.{to}",
            operation="UPDATE",
        )
    )
    written = await commit(fhir, tx, on_conflict=_changed_meanwhile(appointment_id))
    log.info("appointment.status.changed", appointment=f"Appointment/{appointment_id}", status=to)
    return written[0]


async def _cancel(
    fhir: FhirClient,
    appointment: Resource,
    *,
    reason: str | None,
    actors: list[Actor],
    activity: str,
    instruction: str | None = None,
) -> Resource:
    tx = Transaction()
    tx.update(_cancelled(appointment, reason), if_match=version_of(appointment))
    slot_id = slot_of(appointment)
    if slot_id:
        slot = await fhir.read("Slot", slot_id)
        if slot["status"] in ("busy", "busy-tentative"):
            tx.update({**slot, "status": "free"}, if_match=version_of(slot))
    tx.create(
        provenance(
            targets=[f"Appointment/{appointment['id']}"],
            actors=actors,
            activity=activity,
            operation="UPDATE",
            instruction=instruction,
        )
    )
    written = await commit(fhir, tx, on_conflict=_changed_meanwhile(appointment["id"]))
    log.info("appointment.cancelled", appointment=f"Appointment/{appointment['id']}", slot=f"Slot/{slot_id}")
    return written[0]


def _cancelled(appointment: Resource, reason: str | None) -> Resource:
    updated: dict[str, Any] = {k: v for k, v in appointment.items() if k != "meta"}
    updated["meta"] = {"profile": appointment.get("meta", {}).get("profile", [])}
    updated["status"] = "cancelled"
    if reason:
        updated["cancelationReason"] = {"text": reason}
    return updated


def _reason(appointment: Resource) -> str | None:
    codes = appointment.get("reasonCode") or [{}]
    text = codes[0].get("text")
    return str(text) if text else None
