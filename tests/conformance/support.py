"""Test data for the conformance tests: copies of the examples with unique values, and rejection checks."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from app.conformance import read_examples
from app.fhir.canonical import EXT_THREAD, SID_PHONE, SID_TWILIO_MESSAGE
from app.fhir.client import FhirClient, Resource
from app.fhir.errors import FhirInvalid, outcome_text
from tests.factories import unique

EXAMPLES: dict[str, Resource] = {f"{r['resourceType']}/{r['id']}": r for r in read_examples()}


def example(ref: str) -> Resource:
    """A deep copy of one example, e.g. example("Patient/prm-example-patient")."""
    return copy.deepcopy(EXAMPLES[ref])


def unique_phone() -> str:
    """A random Indian mobile number in E.164."""
    return "+919" + "".join(random.choices("0123456789", k=9))


def new_from(ref: str) -> Resource:
    """A copy of an example to create as a new resource: no id, no test tag, unique business ids."""
    resource = example(ref)
    resource.pop("id")
    resource["meta"].pop("tag", None)
    if not resource["meta"]:
        resource.pop("meta")
    if resource["resourceType"] == "Patient":
        phone = unique_phone()
        resource["telecom"][0]["value"] = phone
        resource["identifier"] = [{"system": SID_PHONE, "value": phone}]
    if resource["resourceType"] == "Appointment":
        resource.pop("identifier", None)  # the example's assistant plan id
    if resource["resourceType"] == "Communication":
        resource["identifier"] = [
            {"system": SID_TWILIO_MESSAGE, "value": "SM" + unique("")[:10].ljust(32, "0")}
        ]
        set_extension(resource, EXT_THREAD, valueString=unique("thread-"))
    return resource


def set_extension(resource: Resource, url: str, **value: Any) -> Resource:
    """Replace (or add) the extension `url` with the given value[x]."""
    resource["extension"] = [e for e in resource.get("extension", []) if e["url"] != url] + [
        {"url": url, **value}
    ]
    return resource


def without_extension(resource: Resource, url: str) -> Resource:
    """Drop the extension `url`."""
    resource["extension"] = [e for e in resource.get("extension", []) if e["url"] != url]
    return resource


async def rejected_on_create(fhir: FhirClient, resource: Resource) -> tuple[int | None, str]:
    """Create `resource`, expecting HAPI to refuse it; (status, the OperationOutcome's error text)."""
    with pytest.raises(FhirInvalid) as caught:
        await fhir.create(resource)
    return caught.value.status, outcome_text(caught.value.outcome)


def errors(outcome: Resource) -> list[str]:
    """The diagnostics of an OperationOutcome's error and fatal issues."""
    return [
        i.get("diagnostics", "") for i in outcome.get("issue", []) if i.get("severity") in ("error", "fatal")
    ]
