"""Appointment reminders: prm-reminder CommunicationRequests in HAPI, 24 h and 2 h before a booked start.

The change feed keeps them in step with the appointment, whoever wrote it: a booked appointment gets one
per kind whose due time is still ahead (identifier `appointment/<id>/<kind>`, conditional create), a moved
start moves the pending ones, and an appointment no longer booked revokes them. A job every minute sends
the due ones through the messaging pipeline (key `reminder/<id>`: sent once) and completes them; consent,
quiet hours and the window are the send job's. The patient's quick replies (Confirm, Reschedule, Cancel)
are answered by the WhatsApp bot's conversation engine, not here: the message's `about` names the
Appointment and the reminder so that engine can find what a reply is about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import structlog

from app.changes.model import Change, ChangeKind
from app.changes.registry import ChangeContext, on
from app.errors import Invalid, OptedOut
from app.fhir.builders import Actor, AgentKind, extension_value, instant
from app.fhir.canonical import EXT_CHANNEL, PROFILE_REMINDER, SID_REMINDER
from app.fhir.client import FhirClient, Resource, version_of
from app.fhir.dates import parse_datetime
from app.fhir.errors import FhirConflict
from app.messaging.notifications import appointment_variables, read_or_none
from app.messaging.service import prepare_template_message
from app.ports.jobs import JobQueue
from app.ports.state import StateStore
from app.scheduling.resources import participant

log = structlog.get_logger(__name__)

_SENDER = Actor(kind=AgentKind.SYSTEM)
# Statuses that keep reminders waiting (a hold or a proposal may still become booked).
_UNDECIDED = frozenset({"proposed", "pending", "waitlist"})
_CATEGORY = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/communication-category", "code": "reminder"}]
}


class ReminderKind(StrEnum):
    """How long before the start a reminder is due, and the template it sends."""

    DAY_BEFORE = "24h"
    TWO_HOURS = "2h"
    # The extra reminder of an appointment at high risk of a no-show (app.outreach), never automatic.
    EXTRA = "72h"

    @property
    def lead(self) -> timedelta:
        """The time between the reminder and the start."""
        return timedelta(hours={"24h": 24, "2h": 2, "72h": 72}[self.value])

    @property
    def template(self) -> str:
        """The message template it sends."""
        return f"appointment_reminder_{self.value}"


@dataclass(frozen=True)
class SendReport:
    """What one run of the due-reminder job did, by CommunicationRequest id."""

    sent: list[str]
    revoked: list[str]


def due_times(start: datetime, *, now: datetime) -> dict[ReminderKind, datetime]:
    """The reminders an appointment starting at `start` still gets, by kind (none already past)."""
    return {kind: start - kind.lead for kind in ReminderKind if start - kind.lead > now}


def too_late(*, due: datetime, start: datetime, now: datetime) -> bool:
    """A reminder is not sent once the appointment started or half its lead time has passed since due."""
    return now >= start or now - due > (start - due) / 2


def reminder_key(appointment_id: str, kind: ReminderKind) -> str:
    """The identifier value of an appointment's reminder of a kind."""
    return f"appointment/{appointment_id}/{kind.value}"


def kind_of(reminder: Resource) -> ReminderKind | None:
    """The kind, read from the reminder's identifier (None for one we did not write)."""
    for identifier in reminder.get("identifier", []):
        if identifier.get("system") == SID_REMINDER:
            suffix = str(identifier.get("value", "")).rsplit("/", 1)[-1]
            return ReminderKind(suffix) if suffix in ReminderKind._value2member_map_ else None
    return None


def reminder_resource(
    *, appointment_id: str, patient_id: str, kind: ReminderKind, due: datetime, now: datetime
) -> Resource:
    """A new prm-reminder CommunicationRequest (status active, due at `due`)."""
    return {
        "resourceType": "CommunicationRequest",
        "meta": {"profile": [PROFILE_REMINDER]},
        "identifier": [{"system": SID_REMINDER, "value": reminder_key(appointment_id, kind)}],
        "status": "active",
        "category": [_CATEGORY],
        "subject": {"reference": f"Patient/{patient_id}"},
        "about": [{"reference": f"Appointment/{appointment_id}"}],
        "occurrenceDateTime": instant(due),
        "authoredOn": instant(now),
    }


async def reminders_of(fhir: FhirClient, appointment_id: str) -> list[Resource]:
    """Every reminder of an appointment, whatever its status."""
    keys = ",".join(f"{SID_REMINDER}|{reminder_key(appointment_id, kind)}" for kind in ReminderKind)
    return await fhir.search("CommunicationRequest", {"identifier": keys})


async def sync_reminders(fhir: FhirClient, *, appointment_id: str, now: datetime) -> None:
    """Bring an appointment's reminders in step with its current state (idempotent)."""
    appointment = await read_or_none(fhir, "Appointment", appointment_id)
    existing = {kind_of(r): r for r in await reminders_of(fhir, appointment_id)}
    status = (appointment or {}).get("status")
    if status in _UNDECIDED:
        return
    start = parse_datetime((appointment or {}).get("start"))
    patient_id = participant(appointment, "Patient") if appointment else None
    if status != "booked" or start is None or patient_id is None:
        for unwanted in existing.values():
            await _settle(fhir, unwanted, "revoked", only_if=("active",))
        return
    wanted = due_times(start, now=now)
    for kind in ReminderKind:
        reminder = existing.get(kind)
        if reminder is None and kind in wanted and kind is not ReminderKind.EXTRA:
            resource = reminder_resource(
                appointment_id=appointment_id, patient_id=patient_id, kind=kind, due=wanted[kind], now=now
            )
            stored, created = await fhir.conditional_create(
                resource, match={"identifier": f"{SID_REMINDER}|{reminder_key(appointment_id, kind)}"}
            )
            if created:
                log.info("reminder.created", reminder=f"CommunicationRequest/{stored['id']}", kind=kind.value)
        elif reminder is not None and parse_datetime(reminder.get("occurrenceDateTime")) != start - kind.lead:
            # A moved start: due again at the new time if that is ahead, else too late for this kind.
            if kind in wanted:
                await _move(fhir, reminder, wanted[kind])
            else:
                await _settle(fhir, reminder, "revoked", only_if=("active",))
        # A reminder at the right time is left alone, even past due: the due job sends it or finds it stale.


async def add_extra_reminder(fhir: FhirClient, *, appointment_id: str, now: datetime) -> bool:
    """Give a booked appointment the EXTRA reminder while its due time is ahead; whether one was created."""
    appointment = await read_or_none(fhir, "Appointment", appointment_id)
    start = parse_datetime((appointment or {}).get("start"))
    patient_id = participant(appointment, "Patient") if appointment else None
    due = due_times(start, now=now).get(ReminderKind.EXTRA) if start else None
    if appointment is None or appointment.get("status") != "booked" or patient_id is None or due is None:
        return False
    resource = reminder_resource(
        appointment_id=appointment_id, patient_id=patient_id, kind=ReminderKind.EXTRA, due=due, now=now
    )
    stored, created = await fhir.conditional_create(
        resource, match={"identifier": f"{SID_REMINDER}|{reminder_key(appointment_id, ReminderKind.EXTRA)}"}
    )
    if created:
        log.info(
            "reminder.created", reminder=f"CommunicationRequest/{stored['id']}", kind=ReminderKind.EXTRA.value
        )
    return created


@on("Appointment")
async def keep_reminders(change: Change, *, context: ChangeContext) -> None:
    """Create, move or revoke the appointment's reminders after any change to it."""
    if change.kind is ChangeKind.DELETED:
        for reminder in await reminders_of(context.fhir, change.id):
            await _settle(context.fhir, reminder, "revoked", only_if=("active",))
        return
    await sync_reminders(context.fhir, appointment_id=change.id, now=context.now)


async def send_due_reminders(
    *, fhir: FhirClient, state: StateStore, queue: JobQueue, now: datetime, default_timezone: str
) -> SendReport:
    """Send every reminder due by `now` (once: key `reminder/<id>`) and complete it; revoke the stale."""
    due = await fhir.search(
        "CommunicationRequest",
        [("_profile", PROFILE_REMINDER), ("status", "active"), ("occurrence", f"le{instant(now)}")],
    )
    report = SendReport(sent=[], revoked=[])
    for reminder in due:
        if await _send_one(fhir, state, queue, reminder, now=now, default_timezone=default_timezone):
            report.sent.append(str(reminder["id"]))
        else:
            report.revoked.append(str(reminder["id"]))
    if due:
        log.info("job.reminders.done", sent=len(report.sent), revoked=len(report.revoked))
    return report


async def _send_one(
    fhir: FhirClient,
    state: StateStore,
    queue: JobQueue,
    reminder: Resource,
    *,
    now: datetime,
    default_timezone: str,
) -> bool:
    """Prepare one due reminder's message and complete it (True), or revoke it (False)."""
    ref = f"CommunicationRequest/{reminder['id']}"
    appointment_ref = str((reminder.get("about") or [{}])[0].get("reference", ""))
    appointment = await read_or_none(
        fhir, "Appointment", appointment_ref.removeprefix("Appointment/") or None
    )
    kind, due = kind_of(reminder), parse_datetime(reminder.get("occurrenceDateTime"))
    start = parse_datetime((appointment or {}).get("start"))
    patient_id = str((reminder.get("subject") or {}).get("reference", "")).removeprefix("Patient/")
    if (
        appointment is None
        or appointment.get("status") != "booked"
        or kind is None
        or due is None
        or start is None
        or too_late(due=due, start=start, now=now)
    ):
        log.info("reminder.stale", reminder=ref)
        await _settle(fhir, reminder, "revoked", only_if=("active",))
        return False
    patient = await read_or_none(fhir, "Patient", patient_id)
    variables = await appointment_variables(
        fhir,
        appointment=appointment,
        patient=patient,
        template=kind.template,
        default_timezone=default_timezone,
    )
    if variables is None:
        log.warning("reminder.incomplete", reminder=ref)
        await _settle(fhir, reminder, "revoked", only_if=("active",))
        return False
    try:
        await prepare_template_message(
            fhir,
            state,
            queue,
            template=kind.template,
            variables=variables,
            sender=_SENDER,
            at=now,
            patient_id=patient_id,
            channel=extension_value(reminder, EXT_CHANNEL),
            about=[appointment_ref, ref],
            key=f"reminder/{reminder['id']}",
        )
    except (OptedOut, Invalid) as exc:
        # Nothing can go to this patient on any attempt: the reminder is done all the same.
        log.info("reminder.skipped", reminder=ref, error=exc.error)
    await _settle(fhir, reminder, "completed", only_if=("active",))
    return True


async def _settle(fhir: FhirClient, reminder: Resource, status: str, *, only_if: tuple[str, ...]) -> None:
    """Move a reminder to `status` (If-Match; on a race, re-read and try once more while still allowed)."""
    for _ in range(2):
        if reminder.get("status") not in only_if:
            return
        try:
            await fhir.update({**reminder, "status": status}, if_match=version_of(reminder))
        except FhirConflict:
            reminder = await fhir.read("CommunicationRequest", str(reminder["id"]))
            continue
        log.info("reminder.settled", reminder=f"CommunicationRequest/{reminder['id']}", status=status)
        return


async def _move(fhir: FhirClient, reminder: Resource, due: datetime) -> None:
    """Make a not-yet-sent reminder due at `due` (a completed one stays as it is)."""
    if reminder.get("status") not in ("active", "revoked"):
        return
    moved = {**reminder, "status": "active", "occurrenceDateTime": instant(due)}
    # A conflict (someone else wrote it meanwhile) fails the change job, whose retry syncs again.
    await fhir.update(moved, if_match=version_of(reminder))
    log.info("reminder.moved", reminder=f"CommunicationRequest/{reminder['id']}")
