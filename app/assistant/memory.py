"""A staff user's assistant session: what their last plan was about, so that a follow-up can say "her",
"same doctor" or "that appointment". Kept in the StateStore per user (never shared), forgotten after
`assistant_session_ttl_seconds` without an instruction, or when the user starts a new session."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel

from app.assistant.schemas import Confirmation, Plan
from app.language.references import Referent, references_in
from app.ports.nlu import ExtractedEntities, Intent
from app.ports.state import StateStore

KEY_PREFIX = "assistant:session:"
_CONFIRMATION_WORDS = ("confirmation", "confirm")


class Memory(BaseModel):
    """What the user's last plan resolved (references and the words shown for them)."""

    at: AwareDatetime
    patient: str | None = None
    patient_name: str | None = None
    patient_phone: str | None = None
    practitioner: str | None = None
    practitioner_name: str | None = None
    appointment: str | None = None
    appointment_start: AwareDatetime | None = None


def _key(user: str) -> str:
    # The user id is an e-mail address: the key holds its hash, not the address.
    return KEY_PREFIX + hashlib.sha256(user.encode()).hexdigest()


class Sessions:
    """Assistant sessions in the StateStore, one per staff user."""

    def __init__(self, state: StateStore, *, ttl_seconds: int) -> None:
        self._state = state
        self._ttl = ttl_seconds

    async def recall(self, user: str, *, now: datetime) -> Memory | None:
        """The user's session, unless it has expired."""
        raw = await self._state.get(_key(user))
        if raw is None:
            return None
        memory = Memory.model_validate_json(raw)
        if now - memory.at > timedelta(seconds=self._ttl):
            return None
        return memory

    async def remember(self, user: str, memory: Memory) -> None:
        """Keep what the user's latest plan is about (its expiry starts again)."""
        await self._state.set(_key(user), memory.model_dump_json(), ttl_seconds=self._ttl)

    async def forget(self, user: str) -> None:
        """Start a new session: nothing earlier is referred to any more."""
        await self._state.delete(_key(user))


def recalled(memory: Memory | None, *, intent: Intent, text: str, entities: ExtractedEntities) -> list[str]:
    """Fill what `text` refers back to from the session (in place); the notes saying so."""
    if memory is None:
        return []
    refers = references_in(text)
    notes = []
    names_patient = entities.patient_phone or entities.patient_name
    if not names_patient and memory.patient and (refers & {Referent.PATIENT, Referent.APPOINTMENT}):
        entities.patient_phone, entities.patient_name = memory.patient_phone, memory.patient_name
        who = f"{memory.patient_name} ({memory.patient})" if memory.patient_name else memory.patient
        notes.append(f"The patient is {who}, from your previous instruction.")
    if Referent.PRACTITIONER in refers and not entities.practitioner_name and memory.practitioner_name:
        entities.practitioner_name = memory.practitioner_name
        notes.append(f"The doctor is Dr. {memory.practitioner_name}, from your previous instruction.")
    wants_confirmation = any(word in text.lower() for word in _CONFIRMATION_WORDS)
    if (
        intent is Intent.SEND_MESSAGE
        and not entities.message
        and wants_confirmation
        and memory.appointment_start
    ):
        start = memory.appointment_start
        entities.message = f"Your appointment with Dr. {memory.practitioner_name} on {start:%a %d %b %Y at %H:%M} is confirmed."
        notes.append(f"The confirmation is for {memory.appointment}, from your previous instruction.")
    return notes


def refers_to_appointment(memory: Memory | None, text: str) -> str | None:
    """The session's appointment when `text` says "that appointment" (or "move it")."""
    if memory is None or Referent.APPOINTMENT not in references_in(text):
        return None
    return memory.appointment


def after_plan(plan: Plan, *, earlier: Memory | None, at: datetime) -> Memory:
    """The session after a plan: what it resolved, else what the session already knew."""
    known = earlier.model_dump() if earlier else {}
    found = {
        "patient": plan.resolved.patient,
        "patient_name": plan.entities.patient_name if plan.resolved.patient else None,
        "patient_phone": plan.entities.patient_phone if plan.resolved.patient else None,
        "practitioner": plan.resolved.practitioner,
        "practitioner_name": plan.entities.practitioner_name if plan.resolved.practitioner else None,
        "appointment": plan.resolved.appointment,
    }
    if plan.resolved.patient and plan.resolved.patient != known.get("patient"):
        known = {}  # another patient: their appointment is not "that appointment" any more
    return Memory.model_validate({**known, **{k: v for k, v in found.items() if v}, "at": at})


def after_confirmation(
    plan: Plan, confirmation: Confirmation, *, earlier: Memory | None, at: datetime
) -> Memory:
    """The session after a confirmation: "that appointment" is the one it wrote, "her" its patient."""
    update: dict[str, Any] = {"at": at}
    if confirmation.patient:
        update |= {
            "patient": confirmation.patient,
            "patient_name": plan.entities.patient_name,
            "patient_phone": plan.entities.patient_phone,
        }
    if confirmation.appointment:
        update |= {
            "appointment": confirmation.appointment,
            "appointment_start": plan.entities.start,
            "practitioner": plan.resolved.practitioner,
            "practitioner_name": plan.entities.practitioner_name,
        }
    return (earlier or Memory(at=at)).model_copy(update=update)
