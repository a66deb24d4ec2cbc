"""A send rate per sender, shared by every bulk send (all campaign runs at once): each batch reserves its
slot on the sender's timeline in the StateStore, under the sender's lock, so two runs never overlap.

The timeline is one instant per sender, the next free time: a reservation of n messages starts at
max(now, not before, next free) and moves next free to start + n / rate. Times come from the caller's
Clock (tests move a FakeClock), never the wall clock. A reservation is remembered under its ticket
(the job that made it), so a retried or replayed job gets the same slot instead of a second one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.config import Settings
from app.ports.state import StateStore
from app.vocabulary import ContactChannel

KEY = "throttle:sender:"
TICKET = "throttle:ticket:"
# A reservation takes two reads and two writes; a holder that died frees the lock after this.
LOCK_TTL_SECONDS = 10.0
LOCK_WAIT_SECONDS = 30.0
# How long a timeline and a ticket outlive the end of their last reservation (a replay after it is moot).
KEEP_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Reservation:
    """A slot on a sender's timeline: its messages go out from `start`, and the next slot at `end`."""

    start: datetime
    end: datetime


def senders(settings: Settings) -> dict[str, str]:
    """The sender of each channel: its from-address (Twilio's numbers, the email From), or the sandbox."""
    twilio = settings.messaging_provider == "twilio"
    whatsapp = settings.twilio_whatsapp_from if twilio else None
    sms = settings.twilio_sms_from if twilio else None
    email = settings.email_from if settings.smtp_host else None
    return {
        ContactChannel.WHATSAPP.value: f"whatsapp:{whatsapp or 'sandbox'}",
        ContactChannel.SMS.value: f"sms:{sms or 'sandbox'}",
        ContactChannel.EMAIL.value: f"email:{email or 'sandbox'}",
    }


def key_of(sender: str) -> str:
    """The StateStore key of a sender's timeline."""
    return KEY + sender


async def reserve(
    state: StateStore,
    *,
    sender: str,
    count: int,
    per_second: float,
    now: datetime,
    ticket: str,
    not_before: datetime | None = None,
) -> Reservation:
    """Reserve the time `count` messages take at `per_second` on the sender, as early as it is free."""
    async with state.lock(key_of(sender), ttl_seconds=LOCK_TTL_SECONDS, wait_seconds=LOCK_WAIT_SECONDS):
        if (held := await state.get(TICKET + ticket)) is not None:
            first, last = held.split("|")
            return Reservation(datetime.fromisoformat(first), datetime.fromisoformat(last))
        stored = await state.get(key_of(sender))
        free = datetime.fromisoformat(stored) if stored else now
        start = max(now, not_before or now, free)
        end = start + timedelta(seconds=count / per_second)
        keep = math.ceil((end - now).total_seconds()) + KEEP_SECONDS
        await state.set(key_of(sender), end.isoformat(), ttl_seconds=keep)
        await state.set(TICKET + ticket, f"{start.isoformat()}|{end.isoformat()}", ttl_seconds=keep)
    return Reservation(start, end)
