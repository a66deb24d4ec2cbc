"""Profiled test data for the /fhir tests."""

from __future__ import annotations

import copy
from typing import Any

from app.conformance import read_examples

_PATIENT = next(r for r in read_examples() if r["resourceType"] == "Patient")
FHIR_JSON = {"Content-Type": "application/fhir+json"}


def patient(*, phone: str, name: str) -> dict[str, Any]:
    """A prm-patient (valid against the enforced profile) with this phone and name."""
    resource = copy.deepcopy(_PATIENT)
    resource.pop("id", None)
    given, family = name.split(" ", 1)
    resource["name"] = [{"given": [given], "family": family, "text": name}]
    resource["telecom"] = [{"system": "phone", "value": phone, "use": "mobile"}]
    resource["identifier"] = [{"system": "https://fhir.prm.health/sid/phone", "value": phone}]
    return resource
