"""Resolution: code, not the model, decides which patient, practitioner, slot and appointment an
instruction means, and says so when it cannot."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app.directory.index import DirectoryIndex, RoleEntry
from app.directory.resources import display_name
from app.directory.service import match_practitioners
from app.fhir.client import FhirClient, Resource
from app.patients import service as patients
from app.scheduling.queries import list_appointments
from app.scheduling.resources import participant, slot_of
from app.scheduling.search import FreeSlot, Preferences, find_free_slots
from app.scheduling.slots import slots_between
from app.understanding.draft import Draft
from app.vocabulary import UPCOMING_APPOINTMENT_STATUSES

# A name match this good (0-100) is the patient; several within NAME_TIE points of the best are a tie.
PATIENT_NAME_ACCEPT = 88
NAME_TIE = 4
ALTERNATIVES = 5
# How far ahead free-slot alternatives are looked for.
ALTERNATIVE_DAYS = 7
APPOINTMENT_LOOKAHEAD_DAYS = 180


def slot_summary(free: FreeSlot) -> dict[str, Any]:
    """A free slot as shown to staff."""
    return {
        "slot": f"Slot/{free.slot['id']}",
        "start": free.start.isoformat(),
        "practitioner": f"Practitioner/{free.role.practitioner_id}",
        "practitioner_name": free.role.practitioner_name,
        "specialty": free.role.specialty,
        "location_name": free.role.location_name,
    }


def patient_summary(patient: Resource) -> dict[str, Any]:
    """A patient as shown to staff in candidates and results."""
    phones = [t["value"] for t in patient.get("telecom", []) if t.get("system") == "phone"]
    return {
        "patient": f"Patient/{patient['id']}",
        "name": display_name(patient),
        "phone": phones[0] if phones else None,
        "birth_date": patient.get("birthDate"),
    }


async def resolve_patient(draft: Draft, fhir: FhirClient, *, region: str) -> Resource | None:
    """The patient the instruction means, by phone first, then by fuzzy name; None with a clarification
    (or nothing said, when nobody was named) otherwise."""
    phone, name = draft.entities.patient_phone, draft.entities.patient_name
    if phone:
        found = await patients.find_by_phone(fhir, phone=phone, region=region)
        if name and len(found) > 1:
            found = [p for p in found if patients.name_score(name, p) >= PATIENT_NAME_ACCEPT] or found
        if len(found) == 1:
            return _accept_patient(draft, found[0])
        if found:
            draft.clarifications.append(f"Several patients share {phone}; which one?")
            draft.alternatives.extend(patient_summary(p) for p in found[:ALTERNATIVES])
        return None
    if name:
        found = await patients.find_by_name(fhir, name=name)
        scored = [(patients.name_score(name, p), p) for p in found]
        best = (
            [p for s, p in scored if s >= PATIENT_NAME_ACCEPT and s >= scored[0][0] - NAME_TIE]
            if scored
            else []
        )
        if len(best) == 1:
            return _accept_patient(draft, best[0])
        if found:
            draft.clarifications.append(f"Which patient is {name!r}?")
            draft.alternatives.extend(patient_summary(p) for p in found[:ALTERNATIVES])
    return None


def _accept_patient(draft: Draft, patient: Resource) -> Resource:
    draft.resolved.patient = f"Patient/{patient['id']}"
    draft.entities.patient_name = display_name(patient)
    phones = [t["value"] for t in patient.get("telecom", []) if t.get("system") == "phone"]
    draft.entities.patient_phone = draft.entities.patient_phone or (phones[0] if phones else None)
    return patient


def works_at(role: RoleEntry, moment: datetime) -> bool:
    """Whether the role's weekly hours cover a local moment (or, for a midnight date, the day)."""
    local = moment.astimezone(role.timezone)
    spans = role.hours.get(local.strftime("%a").lower(), [])
    if local.time() == datetime.min.time():
        return bool(spans)
    return any(start <= local.time() < end for start, end in spans)


def resolve_practitioner(draft: Draft, index: DirectoryIndex) -> list[RoleEntry]:
    """Candidate roles: the named practitioner (disambiguated by specialty or working hours, saying
    so), else every role of the specialty; empty with a clarification when it cannot tell."""
    roles = [r for r in index.roles if r.active and r.schedule_id]
    name, specialty = draft.entities.practitioner_name, draft.entities.specialty
    if not name:
        return [r for r in roles if r.specialty == specialty] if specialty else []
    matches = match_practitioners(roles, name)
    if not matches:
        draft.clarifications.append(f"There is no practitioner called {name!r}.")
        return []
    top = matches[0][1]
    tied = [role for role, score in matches if score >= top - NAME_TIE]
    if specialty:
        of_specialty = [r for r in tied if r.specialty == specialty]
        if not of_specialty:
            practises = ", ".join(sorted({r.specialty or "?" for r in tied}))
            draft.clarifications.append(
                f"Dr. {tied[0].practitioner_name} practises {practises}, not {specialty}."
            )
            return []
        tied = of_specialty
    moment = _moment(draft)
    if len({r.practitioner_id for r in tied}) > 1 and moment is not None:
        working = [r for r in tied if works_at(r, moment)]
        if len({r.practitioner_id for r in working}) == 1:
            others = ", ".join(sorted({r.practitioner_name for r in tied if r not in working}))
            draft.notes.append(
                f"{name!r} matches several practitioners; only {working[0].practitioner_name} works then "
                f"({others} does not)."
            )
            tied = working
    if len({r.practitioner_id for r in tied}) > 1:
        listed = "; ".join(f"Dr. {r.practitioner_name} ({r.specialty})" for r in tied)
        draft.clarifications.append(f"Which {name!r}? {listed}")
        draft.alternatives.extend(
            {
                "practitioner": f"Practitioner/{r.practitioner_id}",
                "practitioner_name": r.practitioner_name,
                "specialty": r.specialty,
            }
            for r in tied
        )
        return []
    chosen = tied[0]
    draft.resolved.practitioner = f"Practitioner/{chosen.practitioner_id}"
    draft.entities.practitioner_name = chosen.practitioner_name
    draft.entities.specialty = draft.entities.specialty or chosen.specialty
    return tied


def _moment(draft: Draft) -> datetime | None:
    if draft.entities.start:
        return draft.entities.start
    if draft.when and draft.when.date:
        return datetime.combine(draft.when.date, datetime.min.time(), tzinfo=draft.now.tzinfo)
    return None


def _day_start(draft: Draft) -> datetime:
    if draft.when and draft.when.date:
        return datetime.combine(draft.when.date, datetime.min.time(), tzinfo=draft.now.tzinfo)
    return draft.now


async def resolve_slot(
    draft: Draft, fhir: FhirClient, roles: list[RoleEntry], *, real_now: datetime
) -> FreeSlot | None:
    """The free slot at the requested start; otherwise None, with the nearest free slots offered."""
    if not roles:
        return None
    start = draft.entities.start
    if start is not None:
        if start <= real_now:
            draft.clarifications.append(f"{start:%a %d %b %H:%M} has already passed.")
        else:
            exact = await find_free_slots(
                fhir, roles, start=start, end=start + timedelta(minutes=1), now=real_now
            )
            if exact:
                _accept_slot(draft, exact[0])
                return exact[0]
            draft.clarifications.append(await _why_not_free(fhir, roles, start))
    elif draft.when is None or draft.when.date is None:
        draft.need("start", "Date and time", why="When should the appointment be?")
    else:
        draft.need("start", "Time", why=f"At what time on {draft.when.date:%a %d %b}?")
    await offer_alternatives(draft, fhir, roles, real_now=real_now)
    return None


def _accept_slot(draft: Draft, free: FreeSlot) -> None:
    draft.resolved.slot = f"Slot/{free.slot['id']}"
    draft.resolved.practitioner = f"Practitioner/{free.role.practitioner_id}"
    draft.entities.practitioner_name = free.role.practitioner_name


async def _why_not_free(fhir: FhirClient, roles: list[RoleEntry], start: datetime) -> str:
    taken = await slots_between(
        fhir, [r.schedule_id for r in roles if r.schedule_id], start, start + timedelta(minutes=1)
    )
    who = roles[0].practitioner_name if len({r.practitioner_id for r in roles}) == 1 else roles[0].specialty
    if taken:
        return f"{start:%a %d %b %H:%M} is already taken for {who}."
    return f"{start:%a %d %b %H:%M} is outside the working hours of {who}."


async def offer_alternatives(
    draft: Draft, fhir: FhirClient, roles: list[RoleEntry], *, real_now: datetime
) -> None:
    """The free slots nearest to what was asked, best first."""
    day = max(_day_start(draft), real_now)
    wanted = draft.entities.start or day
    found = await find_free_slots(
        fhir,
        roles,
        start=day,
        end=day + timedelta(days=ALTERNATIVE_DAYS),
        now=real_now,
        part_of_day=draft.when.part_of_day
        if draft.when and draft.when.part_of_day in ("morning", "afternoon", "evening")
        else None,
        preferences=Preferences(
            time=wanted.astimezone(draft.now.tzinfo).time() if draft.entities.start else None
        ),
    )
    by_closeness = sorted(found, key=lambda f: abs((f.start - wanted).total_seconds()))
    draft.alternatives.extend(slot_summary(f) for f in by_closeness[:ALTERNATIVES])


async def resolve_appointment(
    draft: Draft,
    fhir: FhirClient,
    patient: Resource,
    roles: list[RoleEntry],
    *,
    match_date: bool,
    real_now: datetime,
) -> Resource | None:
    """The patient's upcoming appointment the instruction means (by practitioner and date if given)."""
    upcoming = await list_appointments(
        fhir,
        start=real_now,
        end=real_now + timedelta(days=APPOINTMENT_LOOKAHEAD_DAYS),
        patient_id=patient["id"],
        statuses=list(UPCOMING_APPOINTMENT_STATUSES),
    )
    if roles:
        role_ids = {r.role_id for r in roles}
        upcoming = [a for a in upcoming if participant(a, "PractitionerRole") in role_ids]
    remembered = [a for a in upcoming if f"Appointment/{a['id']}" == draft.remembered_appointment]
    if remembered:
        upcoming = remembered
    elif match_date and draft.when and draft.when.date:
        upcoming = [
            a
            for a in upcoming
            if datetime.fromisoformat(a["start"]).astimezone(draft.now.tzinfo).date() == draft.when.date
        ]
    if len(upcoming) == 1:
        draft.resolved.appointment = f"Appointment/{upcoming[0]['id']}"
        return upcoming[0]
    if not upcoming:
        draft.clarifications.append(f"{display_name(patient)} has no matching upcoming appointment.")
    else:
        draft.clarifications.append("Several upcoming appointments match; which one?")
        draft.alternatives.extend(appointment_summary(a) for a in upcoming[:ALTERNATIVES])
    return None


def appointment_summary(appointment: Resource) -> dict[str, Any]:
    """An appointment as shown to staff."""
    who = next(
        (
            p["actor"].get("display")
            for p in appointment.get("participant", [])
            if p["actor"].get("reference", "").startswith("PractitionerRole/")
        ),
        None,
    )
    return {
        "appointment": f"Appointment/{appointment['id']}",
        "start": appointment.get("start"),
        "status": appointment["status"],
        "practitioner_name": who,
        "slot": f"Slot/{slot_of(appointment)}" if slot_of(appointment) else None,
    }
