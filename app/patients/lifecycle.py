"""A patient record's life: deactivated (no bookings, no campaigns, left out of lists) and reactivated.
Death is a field of the record (PATCH `deceased`); merging is app/patients/merge.py."""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from app.errors import Conflict
from app.fhir.builders import Actor
from app.fhir.client import FhirClient, Resource
from app.fhir.records import require, update_edited

log = structlog.get_logger(__name__)


def merged_into(patient: Resource) -> str | None:
    """The Patient reference this record was merged into, or None."""
    return next(
        (
            link["other"]["reference"]
            for link in patient.get("link", [])
            if link.get("type") == "replaced-by" and link.get("other", {}).get("reference")
        ),
        None,
    )


async def set_active(fhir: FhirClient, *, patient_id: str, active: bool, actors: Sequence[Actor]) -> Resource:
    """Deactivate or reactivate a patient (idempotent); a merged record cannot be reactivated (409)."""
    patient = await require(fhir, "Patient", patient_id, what="Patient")
    if active and (target := merged_into(patient)):
        raise Conflict(
            f"Patient {patient_id!r} was merged into {target}; use that record", merged_into=target
        )

    def edit(resource: Resource) -> bool:
        if resource.get("active", True) == active:
            return False
        resource["active"] = active
        return True

    stored = await update_edited(
        fhir,
        patient,
        edit,
        on_conflict=Conflict(f"Patient {patient_id!r} kept changing; retry"),
        actors=actors,
        activity="patient.reactivate" if active else "patient.deactivate",
    )
    log.info("patient.reactivated" if active else "patient.deactivated", patient=f"Patient/{patient_id}")
    return stored
