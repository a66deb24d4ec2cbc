"""The waitlist: join (one entry per patient and doctor or department), list in queue order, cancel,
and the entries a freed slot suits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog

from app.directory.index import DirectoryCache, RoleEntry
from app.directory.service import require_specialty
from app.errors import Conflict, Invalid, NotFound, PatientInactive
from app.fhir.builders import Actor
from app.fhir.canonical import CS_SPECIALTY
from app.fhir.client import FhirClient, Resource
from app.fhir.records import create_with_provenance, require, update_edited
from app.outreach.resources import WAITLIST, Entry, entry_of, waitlist_resource
from app.vocabulary import Channel

log = structlog.get_logger(__name__)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Slots are generated 30 days ahead; a wish much longer than that is a standing request, not a waitlist.
MAX_WAIT_DAYS = 90


async def _roles(
    cache: DirectoryCache, *, specialty: str | None, practitioner_id: str | None
) -> list[RoleEntry]:
    """The active roles a waitlist request names: a doctor's, or a department's."""
    if (specialty is None) == (practitioner_id is None):
        raise Invalid("specialty", "give exactly one of specialty and practitioner")
    if practitioner_id is not None:
        roles = await cache.find(lambda index: index.by_practitioner(practitioner_id) or None) or []
        if not roles:
            raise NotFound("Practitioner", practitioner_id)
    else:
        code = require_specialty(specialty or "")
        index = await cache.get()
        roles = [r for r in index.roles if r.specialty == code]
    active = [r for r in roles if r.active]
    if not active:
        raise Invalid("specialty" if specialty else "practitioner", "no active practitioner to wait for")
    return active


async def join(
    fhir: FhirClient,
    cache: DirectoryCache,
    *,
    patient_id: str,
    specialty: str | None,
    practitioner_id: str | None,
    start: datetime,
    end: datetime,
    part_of_day: str | None,
    channel: Channel,
    actor: Actor,
    now: datetime,
) -> Resource:
    """Put the patient on the waitlist for a doctor or a department between start and end."""
    if end <= start:
        raise Invalid("end", "end must be after start")
    if end <= now:
        raise Invalid("end", "the period wanted is over")
    if end - max(start, now) > timedelta(days=MAX_WAIT_DAYS):
        raise Invalid("end", f"a waitlist entry covers at most {MAX_WAIT_DAYS} days")
    patient = await require(fhir, "Patient", patient_id, what="Patient")
    if patient.get("active") is False:
        raise PatientInactive(patient_id)
    roles = await _roles(cache, specialty=specialty, practitioner_id=practitioner_id)
    entry = waitlist_resource(
        patient_id=patient_id,
        roles=roles,
        start=max(start, now),
        end=end,
        created=now,
        channel=channel,
        part_of_day=part_of_day,
    )
    wanted = entry_of({**entry, "id": "new"})
    for waiting in await entries(fhir, patient_id=patient_id):
        if waiting.role_id == wanted.role_id and waiting.specialties == wanted.specialties:
            raise Conflict(f"Appointment/{waiting.id} already waits for this", code="already_waitlisted")
    stored = await create_with_provenance(fhir, entry, actors=[actor], activity="appointment.waitlist")
    log.info("waitlist.joined", appointment=f"Appointment/{stored['id']}", patient=f"Patient/{patient_id}")
    return stored


async def entries(
    fhir: FhirClient, *, patient_id: str | None = None, specialty: str | None = None
) -> list[Entry]:
    """Waiting entries, first come first (by `created`, then id)."""
    params: list[tuple[str, str]] = [("status", WAITLIST)]
    if patient_id:
        params.append(("patient", f"Patient/{patient_id}"))
    if specialty:
        params.append(("specialty", f"{CS_SPECIALTY}|{require_specialty(specialty)}"))
    found = [entry_of(a) for a in await fhir.search("Appointment", params)]
    # An entry without `created` (written by others) queues last.
    return sorted(found, key=lambda e: (e.created is None, e.created or _EPOCH, e.written or _EPOCH, e.id))


async def cancel(
    fhir: FhirClient, *, entry_id: str, actor: Actor, reason: str = "left the waitlist"
) -> Resource:
    """Take an entry off the waitlist (cancelled, with the reason); 409 when it is not waiting."""
    entry = await require(fhir, "Appointment", entry_id, what="Appointment")
    if entry.get("status") != WAITLIST:
        raise Conflict(f"Appointment/{entry_id} is not on the waitlist", code="not_waitlisted")

    def edit(current: Resource) -> bool:
        if current.get("status") != WAITLIST:
            return False
        current["status"] = "cancelled"
        current["cancelationReason"] = {"text": reason}
        return True

    return await update_edited(
        fhir,
        entry,
        edit,
        on_conflict=Conflict(f"Appointment/{entry_id} changed meanwhile"),
        actors=[actor],
        activity="appointment.waitlist.cancel",
    )


async def suited(fhir: FhirClient, *, role: RoleEntry, start: datetime) -> list[Entry]:
    """The waiting entries a slot of `role` at `start` suits, in queue order."""
    if role.specialty is None:
        return []
    return [e for e in await entries(fhir, specialty=role.specialty) if e.wants(role=role, start=start)]
