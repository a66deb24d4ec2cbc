"""Business messages from the change feed: a booked, rescheduled or cancelled appointment tells the patient.

Whoever wrote the Appointment (the API, an EHR through /fhir, a script into HAPI), the change feed
hands each version here once or more; the message key `appointment/<id>/<version>/<template>` makes
one message per version. What changed is read from the previous version: booked from anything else
is a confirmation (a reschedule when the appointment replaces another), booked to cancelled is a
cancellation, except the old appointment of a reschedule (its replacement carries that message),
booked to noshow is the no-show follow-up. Reminders (app.messaging.reminders) reuse the variables.
Consent, quiet hours and the window are the send job's: an appointment message needs an opt-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog

from app.changes.model import Change, ChangeKind
from app.changes.registry import ChangeContext, on
from app.directory.resources import display_name
from app.errors import Invalid, OptedOut
from app.fhir.builders import Actor, AgentKind, extension_value
from app.fhir.canonical import EXT_TIMEZONE
from app.fhir.client import FhirClient, Resource
from app.fhir.dates import parse_datetime
from app.fhir.errors import FhirNotFound
from app.messaging import catalog
from app.messaging.service import prepare_template_message
from app.patients.resources import phone_of, preferred_language
from app.ports.jobs import JobQueue
from app.ports.state import StateStore
from app.scheduling.resources import participant, rescheduled_from

log = structlog.get_logger(__name__)

CONFIRMATION = "appointment_confirmation"
# Google Maps' documented search URL: works in any browser and opens the Maps app on phones.
MAPS_SEARCH = "https://www.google.com/maps/search/?api=1&query="
RESCHEDULE = "appointment_reschedule"
CANCELLATION = "appointment_cancellation"
NO_SHOW = "no_show_follow_up"
# booking.reschedule cancels the replaced appointment with this reason.
REPLACED = "rescheduled"
_SENDER = Actor(kind=AgentKind.SYSTEM)

_MONTHS = {
    "hi": ["जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त", "सितंबर", "अक्टूबर", "नवंबर", "दिसंबर"],
    "kn": ["ಜನವರಿ", "ಫೆಬ್ರವರಿ", "ಮಾರ್ಚ್", "ಏಪ್ರಿಲ್", "ಮೇ", "ಜೂನ್", "ಜುಲೈ", "ಆಗಸ್ಟ್", "ಸೆಪ್ಟೆಂಬರ್", "ಅಕ್ಟೋಬರ್", "ನವೆಂಬರ್", "ಡಿಸೆಂಬರ್"],
}


def template_for(appointment: Resource, previous: Resource | None) -> str | None:
    """Which message this version of the appointment calls for (None: nothing to tell)."""
    status, before = appointment.get("status"), (previous or {}).get("status")
    if status == "booked" and before != "booked":
        return RESCHEDULE if rescheduled_from(appointment) else CONFIRMATION
    if status == "cancelled" and before == "booked":
        replaced = (appointment.get("cancelationReason") or {}).get("text") == REPLACED
        return None if replaced else CANCELLATION
    if status == "noshow" and before != "noshow":
        return NO_SHOW
    return None


def when_for(start: datetime, *, language: str, tz: ZoneInfo) -> tuple[str, str]:
    """The date and time as the patient reads them, in the clinic's time zone."""
    local = start.astimezone(tz)
    month = _MONTHS.get(language, [f"{local:%B}"] * 12)[local.month - 1]
    return f"{local.day} {month} {local.year}", local.strftime("%I:%M %p").lstrip("0")


@on("Appointment")
async def notify_patient(change: Change, *, context: ChangeContext) -> None:
    """Queue the confirmation, reschedule or cancellation message of an appointment version (once)."""
    if change.kind is ChangeKind.DELETED:
        return
    appointment = change.resource or await context.fhir.vread("Appointment", change.id, change.version)
    await announce(
        context.fhir,
        context.state,
        context.queue,
        appointment=appointment,
        version=change.version,
        at=context.now,
        default_timezone=context.default_timezone,
    )


async def announce(
    fhir: FhirClient,
    state: StateStore,
    queue: JobQueue,
    *,
    appointment: Resource,
    version: str,
    at: datetime,
    default_timezone: str,
) -> Resource | None:
    """The patient's message about this version of the appointment, or None (nothing to tell or send).

    Its key makes it one message whoever asks first: the change feed, or the WhatsApp bot that made the
    change and answers with it (so the patient gets the details once, not the bot's line as well).
    """
    appointment_id = str(appointment["id"])
    template = template_for(appointment, await _previous(fhir, appointment_id, version))
    patient_id = participant(appointment, "Patient")
    if template is None or patient_id is None:
        return None
    reference = f"Appointment/{appointment_id}"
    patient = await read_or_none(fhir, "Patient", patient_id)
    variables = await appointment_variables(
        fhir, appointment=appointment, patient=patient, template=template, default_timezone=default_timezone
    )
    if patient is None or variables is None:
        log.warning("appointment.notification.incomplete", appointment=reference, template=template)
        return None
    try:
        message = await prepare_template_message(
            fhir,
            state,
            queue,
            template=template,
            variables=variables,
            sender=_SENDER,
            at=at,
            patient_id=patient_id,
            about=[reference],
            key=f"appointment/{appointment_id}/{version}/{template}",
        )
    except (OptedOut, Invalid) as exc:
        # An opted-out patient, or one with no phone or email: there is nothing to send, ever.
        log.info(
            "appointment.notification.skipped", appointment=reference, template=template, error=exc.error
        )
        return None
    log.info(
        "appointment.notification.queued",
        appointment=reference,
        template=template,
        communication=f"Communication/{message['id']}",
    )
    return message


async def _previous(fhir: FhirClient, appointment_id: str, version: str) -> Resource | None:
    """The version before this one (None for the first, or when HAPI no longer has it)."""
    if not version.isdigit() or int(version) <= 1:
        return None
    try:
        return await fhir.vread("Appointment", appointment_id, str(int(version) - 1))
    except FhirNotFound:
        return None


async def read_or_none(fhir: FhirClient, resource_type: str, resource_id: str | None) -> Resource | None:
    """The resource, or None when there is no id or HAPI has none."""
    if not resource_id:
        return None
    try:
        return await fhir.read(resource_type, resource_id)
    except FhirNotFound:
        return None


@dataclass(frozen=True)
class _Clinic:
    name: str | None
    phone: str | None
    location: str | None
    timezone: str | None
    address: str | None


async def _clinic(fhir: FhirClient, appointment: Resource) -> _Clinic:
    """Where the appointment is: the Location (name, time zone) and the Organization running it."""
    location = await read_or_none(fhir, "Location", participant(appointment, "Location"))
    role = await read_or_none(fhir, "PractitionerRole", participant(appointment, "PractitionerRole"))
    org_ref = ((location or {}).get("managingOrganization") or (role or {}).get("organization") or {}).get(
        "reference", ""
    )
    organization = (
        await read_or_none(fhir, "Organization", org_ref.removeprefix("Organization/") or None) or {}
    )
    return _Clinic(
        name=organization.get("name"),
        phone=phone_of(organization),
        location=(location or {}).get("name"),
        timezone=extension_value(location, EXT_TIMEZONE) if location else None,
        address=((location or {}).get("address") or {}).get("text"),
    )


def maps_link(*parts: str | None) -> str | None:
    """A map search link for a place (its name and address), for patients to find it."""
    query = ", ".join(p for p in parts if p)
    return f"{MAPS_SEARCH}{quote_plus(query)}" if query else None


def _timezone(name: str | None, default: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


async def appointment_variables(
    fhir: FhirClient, *, appointment: Resource, patient: Resource | None, template: str, default_timezone: str
) -> dict[str, str] | None:
    """The template's variables from the directory; None when one is unknown (nothing half-filled goes)."""
    start = parse_datetime(appointment.get("start"))
    practitioner = await read_or_none(fhir, "Practitioner", participant(appointment, "Practitioner"))
    if patient is None or start is None or practitioner is None:
        return None
    clinic = await _clinic(fhir, appointment)
    language = catalog.choose_language(preferred_language(patient))
    date, time = when_for(start, language=language, tz=_timezone(clinic.timezone, default_timezone))
    name = (practitioner.get("name") or [{}])[0]
    # A name's text is written whole ("Dr. Meera Rao"); otherwise its prefix goes before the parts.
    prefix = "" if name.get("text") else " ".join(name.get("prefix", []))
    known = {
        "patient_name": display_name(patient),
        "clinic_name": clinic.name,
        "practitioner_name": f"{prefix} {display_name(practitioner)}".strip(),
        "date": date,
        "time": time,
        "location_name": clinic.location,
        "clinic_phone": clinic.phone,
        "maps_link": maps_link(clinic.name, clinic.location, clinic.address),
    }
    wanted = catalog.template(template).variables
    variables = {name: value for name, value in known.items() if name in wanted and value}
    return variables if set(variables) == set(wanted) else None
