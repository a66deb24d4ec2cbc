"""What every intent handler may use: the context, and the patient questions most intents ask."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from app.directory.index import DirectoryIndex
from app.fhir.client import FhirClient, Resource
from app.understanding import resolve as r
from app.understanding.draft import Draft

RESULTS_LIMIT = 50


@dataclass(frozen=True)
class Context:
    """What every intent handler may use."""

    fhir: FhirClient
    index: DirectoryIndex
    region: str
    real_now: datetime
    user: str | None = None  # the staff user asking ("my tickets")
    timezone: str = "UTC"  # the clinic's (settings.default_timezone)


Handler = Callable[[Draft, Context], Awaitable[None]]


def when_text(moment: datetime) -> str:
    """An instant as the preview shows it."""
    return f"{moment:%a %d %b %Y, %H:%M}"


async def patient_or_registration(draft: Draft, ctx: Context, *, why: str) -> Resource | None:
    """Resolve the patient; a new name + phone becomes a registration action."""
    patient = await r.resolve_patient(draft, ctx.fhir, region=ctx.region)
    if patient is not None:
        draft.fill("patient", draft.resolved.patient, "resolved", "Patient")
        return None
    name, phone = draft.entities.patient_name, draft.entities.patient_phone
    if phone and name and not draft.alternatives:
        draft.act("register_patient", f"Register new patient {name} ({phone})")
        draft.fill("patient_name", name, "extracted", "Name")
        draft.fill("patient_phone", phone, "extracted", "Phone")
        draft.notes.append(f"No patient has {phone}: confirming registers {name} first.")
        return None
    if phone and not name:
        draft.need("patient_name", "Name", why=f"No patient has {phone}; give a name to register them {why}.")
    elif not phone and not name:
        draft.need("patient", "Patient", why=f"Which patient {why}? Give a phone number or a name.")
    elif not draft.alternatives:
        draft.need("patient_phone", "Phone", why=f"No patient called {name!r}; give their phone number.")
    return None


async def patient_or_ask(draft: Draft, ctx: Context, *, why: str) -> Resource | None:
    """The instruction's patient; when there is none, the question to ask (unless candidates are listed)."""
    patient = await r.resolve_patient(draft, ctx.fhir, region=ctx.region)
    if patient is None:
        draft.need("patient", "Patient", why=None if draft.alternatives else why)
    return patient
