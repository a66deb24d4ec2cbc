"""Patient identifiers: the MRN (one per clinic organisation, numbered by a counter kept in FHIR), the
ABHA number and ABHA address (ABDM's health id). docs/patients.md: formats, and why no Aadhaar."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from typing import Any

import structlog

from app.errors import Conflict
from app.fhir.builders import Actor, extension, extension_value, instant, meta_profile
from app.fhir.canonical import (
    EXT_MRN_LAST_ISSUED,
    PROFILE_MRN_COUNTER,
    SID_ABHA_ADDRESS,
    SID_ABHA_NUMBER,
    SID_MRN,
)
from app.fhir.client import FhirClient, Resource
from app.fhir.errors import FhirNotFound
from app.fhir.records import update_edited
from app.locking import Busy, exclusive
from app.ports.state import StateStore

log = structlog.get_logger(__name__)

MRN_DIGITS = 6
MRN_PREFIX_PATTERN = r"^[A-Z][A-Z0-9]{1,7}$"
# ABHA number: 14 digits, shown 91-1234-5678-9012; separators (hyphen, space) are accepted on input.
ABHA_NUMBER_INPUT = r"^[0-9]{2}[- ]?[0-9]{4}[- ]?[0-9]{4}[- ]?[0-9]{4}$"
# ABHA address: a user-chosen handle and the ABDM suffix (@abdm; @sbx in ABDM's sandbox).
ABHA_ADDRESS_PATTERN = r"^[a-z0-9](?:[a-z0-9._]{2,30})[a-z0-9]@(?:abdm|sbx)$"
V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
# Identifiers one person holds: never on two current patient records (system -> API field).
UNIQUE_IDENTIFIERS = {SID_ABHA_NUMBER: "abha_number", SID_ABHA_ADDRESS: "abha_address"}


class IdentifierTaken(Conflict):
    """Another patient record already holds this identifier."""

    code = "identifier_taken"

    def __init__(self, field: str, holder: str) -> None:
        message = f"another patient ({holder}) already has this {field}"
        super().__init__(f"{field}: {message}", fields=[{"field": field, "message": message}], patient=holder)


def normal_abha_number(raw: str) -> str:
    """The 14 digits of an ABHA number written with or without separators (already format-checked)."""
    return re.sub(r"[- ]", "", raw)


def display_abha_number(digits: str) -> str:
    """An ABHA number as ABDM shows it: xx-xxxx-xxxx-xxxx."""
    return f"{digits[:2]}-{digits[2:6]}-{digits[6:10]}-{digits[10:]}" if len(digits) == 14 else digits


def format_mrn(prefix: str, number: int) -> str:
    """`SUN-000123`."""
    return f"{prefix}-{number:0{MRN_DIGITS}d}"


def mrn_identifier(mrn: str, *, issued: datetime) -> dict[str, object]:
    """The MRN identifier; its period starts at registration (the patient list sorts by it)."""
    return {
        "use": "usual",
        "type": {"coding": [{"system": V2_IDENTIFIER_TYPE, "code": "MR"}]},
        "system": SID_MRN,
        "value": mrn,
        "period": {"start": instant(issued)},
    }


def _current(identifier: dict[str, Any], system: str) -> bool:
    """Whether `identifier` is of `system` and in use (a merge keeps the duplicate's as use=old)."""
    return identifier.get("system") == system and identifier.get("use") != "old"


def set_identifier(patient: Resource, system: str, value: str | None) -> None:
    """Replace (or with None remove) the patient's current identifier of `system`."""
    kept = [i for i in patient.get("identifier", []) if not _current(i, system)]
    patient["identifier"] = kept + ([{"system": system, "value": value}] if value else [])


def identifier_of(patient: Resource, system: str) -> str | None:
    """The value of the patient's identifier of `system`."""
    return next(
        (
            str(i["value"])
            for i in patient.get("identifier", [])
            if i.get("system") == system and i.get("value")
        ),
        None,
    )


def registered_at(patient: Resource) -> str | None:
    """When the PRM registered the patient (its MRN's period start), or None."""
    for i in patient.get("identifier", []):
        if _current(i, SID_MRN):
            start = i.get("period", {}).get("start")
            return str(start) if start else None
    return None


def set_abha(patient: Resource, *, number: str | None = None, address: str | None = None) -> None:
    """Set the ABHA number (normalised) and/or ABHA address given; None leaves that one as it is."""
    if number is not None:
        set_identifier(patient, SID_ABHA_NUMBER, normal_abha_number(number) or None)
    if address is not None:
        set_identifier(patient, SID_ABHA_ADDRESS, address.lower() or None)


@asynccontextmanager
async def unique_identifiers(fhir: FhirClient, state: StateStore, patient: Resource) -> AsyncIterator[None]:
    """Hold the patient's ABHA number and address while checking no other current record has them
    (409 naming the field) and while the caller writes: two records cannot claim one ABHA at once."""
    async with AsyncExitStack() as stack:
        for system, field in UNIQUE_IDENTIFIERS.items():
            value = next(
                (str(i["value"]) for i in patient.get("identifier", []) if _current(i, system)), None
            )
            if value is None:
                continue
            await stack.enter_async_context(exclusive(state, f"patient-{field}", value))
            for other in await fhir.search("Patient", {"identifier": f"{system}|{value}"}):
                holds = any(_current(i, system) and i.get("value") == value for i in other["identifier"])
                if holds and other["id"] != patient.get("id"):
                    raise IdentifierTaken(field, f"Patient/{other['id']}")
        yield


def counter_id(prefix: str) -> str:
    """The id of the Basic that numbers the MRNs of `prefix`."""
    return f"mrn-counter-{prefix.lower()}"


def _new_counter(prefix: str) -> Resource:
    return {
        "resourceType": "Basic",
        "id": counter_id(prefix),
        "meta": meta_profile(PROFILE_MRN_COUNTER),
        "code": {"text": "mrn-counter"},
        "identifier": [{"system": SID_MRN, "value": prefix}],
        "extension": [extension(EXT_MRN_LAST_ISSUED, valueInteger=0)],
    }


async def next_mrn(fhir: FhirClient, state: StateStore, *, prefix: str, actors: Sequence[Actor]) -> str:
    """Issue the next MRN of `prefix`: the counter in FHIR is advanced with If-Match (a lost race
    re-reads and tries again), under a lock so registrations queue instead of retrying."""
    async with exclusive(state, "mrn", prefix):
        try:
            counter = await fhir.read("Basic", counter_id(prefix))
        except FhirNotFound:
            counter = await fhir.update(_new_counter(prefix))

        def advance(resource: Resource) -> bool:
            last = int(extension_value(resource, EXT_MRN_LAST_ISSUED) or 0)
            resource["extension"] = [
                e for e in resource.get("extension", []) if e.get("url") != EXT_MRN_LAST_ISSUED
            ] + [extension(EXT_MRN_LAST_ISSUED, valueInteger=last + 1)]
            return True

        stored = await update_edited(
            fhir,
            counter,
            advance,
            on_conflict=Busy("MRNs are being issued concurrently; retry shortly"),
            actors=actors,
            activity="patient.mrn.issue",
            attempts=20,
        )
    mrn = format_mrn(prefix, int(extension_value(stored, EXT_MRN_LAST_ISSUED)))
    log.info("patient.mrn.issued", counter=f"Basic/{stored['id']}")
    return mrn
