"""Merging a duplicate patient into the survivor.

HAPI 8.8's Patient/$merge fails on the PRM's appointments ("HAPI-2704: FhirPath returns more than
1 element: Appointment.participant.actor": its reference replacement cannot handle a repeating
participant), so the PRM merges itself: every resource that points at the duplicate is re-pointed at
the survivor, the duplicate is deactivated and linked `replaced-by`, all in one transaction with
its Provenance. Provenance records keep pointing where they pointed: they are history.
"""

from __future__ import annotations

from typing import Any

import structlog

from app.errors import Conflict, Invalid
from app.fhir.builders import Actor, provenance
from app.fhir.bundle import Transaction
from app.fhir.client import FhirClient, Resource, bundle_resources, version_of
from app.fhir.records import commit, require

log = structlog.get_logger(__name__)

# Resource types never rewritten by a merge.
UNTOUCHED_TYPES = ("Provenance", "AuditEvent")


def repoint(value: Any, old: str, new: str) -> tuple[Any, int]:
    """A copy of `value` with every `{"reference": old}` replaced by `new`, and how many were replaced."""
    if isinstance(value, dict):
        count = 0
        copied: dict[str, Any] = {}
        for key, item in value.items():
            if key == "reference" and item == old:
                copied[key], count = new, count + 1
            else:
                copied[key], n = repoint(item, old, new)
                count += n
        return copied, count
    if isinstance(value, list):
        items = [repoint(item, old, new) for item in value]
        return [i for i, _ in items], sum(n for _, n in items)
    return value, 0


async def _referencing(fhir: FhirClient, patient_id: str) -> list[Resource]:
    pages = await fhir.search_bundles(f"Patient/{patient_id}/$everything", {"_count": "200"})
    return [r for page in pages for r in bundle_resources(page, mode=None)]


async def merge(fhir: FhirClient, *, source_id: str, target_id: str, actor: Actor) -> Resource:
    """Merge `source` into `target`; returns the surviving patient."""
    if source_id == target_id:
        raise Invalid("source", "a patient cannot be merged into itself")
    source = await require(fhir, "Patient", source_id, what="Patient")
    target = await require(fhir, "Patient", target_id, what="Patient")
    if not target.get("active", True):
        raise Conflict(f"Patient/{target_id} is inactive (merged already?)", code="inactive_target")
    if not source.get("active", True):
        raise Conflict(f"Patient/{source_id} is inactive (merged already?)", code="already_merged")
    old, new = f"Patient/{source_id}", f"Patient/{target_id}"
    tx = Transaction()
    moved = []
    for resource in await _referencing(fhir, source_id):
        if resource["resourceType"] in UNTOUCHED_TYPES or resource["resourceType"] == "Patient":
            continue
        rewritten, count = repoint(resource, old, new)
        if count:
            tx.update(rewritten, if_match=version_of(resource))
            moved.append(f"{resource['resourceType']}/{resource['id']}")
    known = {(i.get("system"), i.get("value")) for i in target.get("identifier", [])}
    target_update = {
        **target,
        "identifier": target.get("identifier", [])
        + [
            {**i, "use": "old"}
            for i in source.get("identifier", [])
            if (i.get("system"), i.get("value")) not in known
        ],
        "link": [*target.get("link", []), {"other": {"reference": old}, "type": "replaces"}],
    }
    source_update = {
        **source,
        "active": False,
        "link": [{"other": {"reference": new}, "type": "replaced-by"}],
    }
    tx.update(target_update, if_match=version_of(target))
    tx.update(source_update, if_match=version_of(source))
    tx.create(
        provenance(targets=[new, old, *moved], actors=[actor], activity="patient.merge", operation="UPDATE")
    )
    await commit(fhir, tx, on_conflict=Conflict("A record of these patients changed during the merge; retry"))
    log.info("patient.merged", source=old, target=new, moved=len(moved))
    return await fhir.read("Patient", target_id)
