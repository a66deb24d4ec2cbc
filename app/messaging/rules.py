"""The rules a message passes at send time, in order: consent, quiet hours, WhatsApp's session window.

The arithmetic is pure (unit-tested in tests/unit/messaging/test_rules.py); `session_open` is the one
question it asks HAPI: did the patient write on this conversation within the window?
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.consents.resources import CONSENT_CHANNELS, Decision
from app.consents.service import allows
from app.fhir.builders import instant
from app.fhir.client import FhirClient
from app.fhir.dates import parse_datetime
from app.vocabulary import ContactChannel

# Channels whose conversations have a session window (WhatsApp's rule; SMS replies count as replies).
WINDOW_CHANNELS = (ContactChannel.WHATSAPP, ContactChannel.SMS)
# The one message an opted-out patient still gets: the confirmation that they are opted out.
OPT_OUT_CONFIRMATION = "opt_out_confirmation"


@dataclass(frozen=True)
class SendPolicy:
    """The clinic's sending rules (from settings)."""

    timezone: ZoneInfo
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    window_hours: int = 24
    content_sids: Mapping[str, str] = field(default_factory=dict)


def quiet_hours_end(moment: datetime, *, start: time, end: time, tz: ZoneInfo) -> datetime | None:
    """When the quiet hours `moment` falls in end (None: `moment` is not in quiet hours).

    `start` after `end` (21:00-08:00) spans midnight; `start == end` means no quiet hours.
    """
    local = moment.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    if start == end:
        return None
    spans_midnight = start > end
    inside = (clock >= start or clock < end) if spans_midnight else (start <= clock < end)
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz)


def window_open(last_inbound: datetime | None, *, now: datetime, hours: int) -> bool:
    """Whether a message at `now` is inside the session window opened by the last inbound message."""
    return last_inbound is not None and now - last_inbound < timedelta(hours=hours)


def consent_refusal(
    *,
    channel: str,
    decision: Decision | None,
    has_patient: bool,
    inside_window: bool,
    template: str | None,
) -> str | None:
    """Why the message may not go (a message-status-reason code), or None when consent allows it.

    Inside the window a message answers the patient and needs only no opt-out; outside it the clinic
    starts the conversation and needs an opt-in. An unknown number is answered only inside the window.
    Email has no Consent (prm-consent covers whatsapp, sms, voice): the address the patient gave is
    taken as leave to email them about their care.
    """
    if template == OPT_OUT_CONFIRMATION or channel not in CONSENT_CHANNELS:
        return None
    if not has_patient:
        return None if inside_window else "no-consent"
    if allows(decision, business_initiated=not inside_window):
        return None
    return "opted-out" if decision == Decision.OPT_OUT else "no-consent"


async def last_inbound(
    fhir: FhirClient, *, conversation_id: str, now: datetime, hours: int
) -> datetime | None:
    """The time of the patient's latest message on the conversation within `hours` before `now`."""
    found = await fhir.search(
        "Communication",
        [
            ("conversation-thread", conversation_id),
            ("received", f"ge{instant(now - timedelta(hours=hours))}"),
            ("_sort", "-received"),
            ("_count", "1"),
        ],
        limit=1,
    )
    times = [moment for c in found if (moment := parse_datetime(c.get("received"))) is not None]
    return max(times, default=None)


async def session_open(fhir: FhirClient, *, conversation_id: str, now: datetime, hours: int) -> bool:
    """Whether the conversation's session window is open at `now`."""
    latest = await last_inbound(fhir, conversation_id=conversation_id, now=now, hours=hours)
    return window_open(latest, now=now, hours=hours)
