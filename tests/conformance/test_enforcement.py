"""HAPI validates every write of a profiled type against the PRM's (differential-only) profiles.

HAPI 8.8's RepositoryValidatingInterceptor answers 412 Precondition Failed; hapi-config overrides
that to 422 Unprocessable Entity (FHIR's status for profile violations, FhirInvalid in the gateway).
"""

from __future__ import annotations

import json

import httpx
import pytest

from app.conformance import read_examples
from app.fhir.canonical import EXT_BOOKING_CHANNEL, PROFILE_PATIENT, SID_PHONE
from app.fhir.client import FhirClient
from app.fhir.errors import FhirInvalid, outcome_text
from tests.conformance.conftest import Made
from tests.conformance.support import (
    errors,
    example,
    new_from,
    rejected_on_create,
    set_extension,
    unique_phone,
)
from tests.factories import TEST_SYSTEM, organization, unique

pytestmark = pytest.mark.integration

EXAMPLES = read_examples()


@pytest.mark.parametrize("resource", EXAMPLES, ids=lambda r: f"{r['resourceType']}/{r['id']}")
async def test_every_example_passes_validate(fhir: FhirClient, resource: dict[str, object]) -> None:
    outcome = await fhir.validate(resource)

    assert errors(outcome) == []


@pytest.mark.parametrize(
    "ref", [f"{e['resourceType']}/{e['id']}" for e in EXAMPLES if e["meta"].get("profile")]
)
async def test_a_new_resource_shaped_like_each_example_is_accepted(made: Made, ref: str) -> None:
    created = await made.create(new_from(ref))

    assert created["meta"]["versionId"] == "1"
    assert created["meta"]["profile"] == example(ref)["meta"]["profile"]


async def test_an_opportunity_without_a_stage_is_rejected(fhir: FhirClient) -> None:
    task = new_from("Task/prm-example-opportunity")
    del task["businessStatus"]

    status, text = await rejected_on_create(fhir, task)

    assert status == 422
    assert "Task.businessStatus: minimum required = 1, but only found 0" in text
    assert "prm-opportunity" in text


async def test_a_patient_with_a_phone_not_in_e164_is_rejected_and_not_stored(fhir: FhirClient) -> None:
    patient = new_from("Patient/prm-example-patient")
    local = "0" + unique_phone()[4:]  # "09..." national format: no + and country code
    patient["telecom"][0]["value"] = local
    patient["identifier"][0]["value"] = local

    status, text = await rejected_on_create(fhir, patient)

    assert status == 422
    assert "prm-pat-1: 'A phone number must be in E.164 format" in text
    assert "prm-pat-2: 'The phone identifier must be an E.164 number" in text
    assert await fhir.count("Patient", {"identifier": f"{SID_PHONE}|{local}"}) == 0


async def test_a_patient_whose_phone_identifier_is_not_one_of_its_phones_is_rejected(
    fhir: FhirClient,
) -> None:
    patient = new_from("Patient/prm-example-patient")
    patient["identifier"][0]["value"] = unique_phone()

    status, text = await rejected_on_create(fhir, patient)

    assert status == 422
    assert (
        "prm-pat-3: 'Every phone identifier not marked use=old must repeat one of the patient's phone" in text
    )


async def test_a_merged_duplicates_old_phone_identifier_is_accepted(made: Made) -> None:
    patient = new_from("Patient/prm-example-patient")
    patient["identifier"].append({"system": SID_PHONE, "value": unique_phone(), "use": "old"})

    created = await made.create(patient)

    assert [i.get("use") for i in created["identifier"]] == [None, "old"]


async def test_an_appointment_with_an_unknown_booking_channel_is_rejected(fhir: FhirClient) -> None:
    appointment = set_extension(
        new_from("Appointment/prm-example-appointment"), EXT_BOOKING_CHANNEL, valueCode="fax"
    )

    status, text = await rejected_on_create(fhir, appointment)

    assert status == 422
    assert "The value provided ('fax') was not found in the value set 'Booking channels'" in text


async def test_an_appointment_without_a_booking_channel_is_rejected(fhir: FhirClient) -> None:
    appointment = new_from("Appointment/prm-example-appointment")
    del appointment["extension"]

    status, text = await rejected_on_create(fhir, appointment)

    assert status == 422
    assert "Slice 'Appointment.extension:bookingChannel'" in text
    assert "a matching slice is required, but not found" in text


@pytest.mark.parametrize(
    ("ref", "profiles"),
    [
        ("Patient/prm-example-patient", "[https://fhir.prm.health/StructureDefinition/prm-patient]"),
        (
            "Task/prm-example-ticket",
            "[https://fhir.prm.health/StructureDefinition/prm-opportunity, "
            "https://fhir.prm.health/StructureDefinition/prm-ticket, "
            "https://fhir.prm.health/StructureDefinition/prm-conversation, "
            "https://fhir.prm.health/StructureDefinition/prm-journey-stage]",
        ),
        ("Consent/prm-example-consent", "[https://fhir.prm.health/StructureDefinition/prm-consent]"),
    ],
)
async def test_an_enforced_type_without_a_prm_profile_is_rejected(
    fhir: FhirClient, ref: str, profiles: str
) -> None:
    resource = new_from(ref)
    del resource["meta"]

    status, text = await rejected_on_create(fhir, resource)

    assert status == 422
    kind = resource["resourceType"]
    assert text == f'Resource of type "{kind}" does not declare conformance to profile from: {profiles}'


async def test_a_consent_for_email_is_rejected(fhir: FhirClient) -> None:
    consent = new_from("Consent/prm-example-consent")
    consent["extension"][0]["valueCode"] = "email"

    status, text = await rejected_on_create(fhir, consent)

    assert status == 422
    assert "prm-con-1: 'A consent channel must be whatsapp, sms or voice'" in text


async def test_a_reminder_not_about_an_appointment_is_rejected(fhir: FhirClient) -> None:
    reminder = new_from("CommunicationRequest/prm-example-reminder")
    del reminder["about"]

    status, text = await rejected_on_create(fhir, reminder)

    assert status == 422
    assert "CommunicationRequest.about: minimum required = 1, but only found 0" in text


async def test_an_update_breaking_the_profile_is_rejected_and_the_stored_version_kept(
    fhir: FhirClient, made: Made
) -> None:
    created = await made.create(new_from("Patient/prm-example-patient"))
    broken = json.loads(json.dumps(created))
    broken["telecom"][0]["value"] = "98441 11173"

    with pytest.raises(FhirInvalid) as caught:
        await fhir.update(broken, if_match=created["meta"]["versionId"])

    assert caught.value.status == 422
    assert "prm-pat-1" in outcome_text(caught.value.outcome)
    assert (await fhir.read("Patient", created["id"]))["meta"]["versionId"] == "1"


async def test_a_json_patch_breaking_the_profile_is_rejected(fhir: FhirClient, made: Made) -> None:
    created = await made.create(new_from("Patient/prm-example-patient"))
    patch = [{"op": "replace", "path": "/telecom/0/value", "value": "12345"}]

    async with httpx.AsyncClient(base_url=fhir.base_url + "/") as http:
        response = await http.patch(
            f"Patient/{created['id']}", content=json.dumps(patch),
            headers={"Content-Type": "application/json-patch+json"},
        )  # fmt: skip

    assert response.status_code == 422
    assert "prm-pat-1" in json.dumps(response.json())
    assert (await fhir.read("Patient", created["id"]))["telecom"][0]["value"] == created["telecom"][0][
        "value"
    ]


async def test_a_transaction_with_one_off_profile_entry_writes_nothing(fhir: FhirClient) -> None:
    org = organization()
    patient = new_from("Patient/prm-example-patient")
    del patient["meta"]
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": org, "request": {"method": "POST", "url": "Organization"}},
            {"resource": patient, "request": {"method": "POST", "url": "Patient"}},
        ],
    }

    with pytest.raises(FhirInvalid) as caught:
        await fhir.transaction(bundle)

    assert caught.value.status == 422
    assert "does not declare conformance to profile" in outcome_text(caught.value.outcome)
    assert (
        await fhir.count("Organization", {"identifier": f"{TEST_SYSTEM}|{org['identifier'][0]['value']}"})
        == 0
    )


async def test_unprofiled_types_are_written_without_a_profile(made: Made) -> None:
    marker = {"system": TEST_SYSTEM, "value": unique("unprofiled")}
    location, schedule = (
        {"reference": "Location/prm-example-location"},
        {"reference": "Schedule/prm-example-schedule"},
    )
    hook = {"type": "rest-hook", "endpoint": "http://127.0.0.1:9/hook", "payload": "application/fhir+json"}
    resources = [
        organization(),
        {"resourceType": "Practitioner", "identifier": [marker], "name": [{"family": "Unprofiled"}]},
        {"resourceType": "HealthcareService", "identifier": [marker], "name": "Unprofiled"},
        {"resourceType": "Schedule", "identifier": [marker], "actor": [location]},
        {"resourceType": "Slot", "identifier": [marker], "schedule": schedule, "status": "free",
         "start": "2026-01-20T10:00:00+05:30", "end": "2026-01-20T10:15:00+05:30"},
        {"resourceType": "Provenance", "target": [location], "recorded": "2026-01-20T10:00:00+05:30",
         "agent": [{"who": {"display": "test"}}]},
        {"resourceType": "Subscription", "status": "off", "reason": "conformance test",
         "criteria": "Patient?_id=none", "channel": hook},
    ]  # fmt: skip

    created = [await made.create(r) for r in resources]

    assert [(c["resourceType"], c["meta"]["versionId"]) for c in created] == [
        (r["resourceType"], "1") for r in resources
    ]
    assert all("profile" not in c["meta"] for c in created)


async def test_a_profile_is_enforced_from_hapis_database_without_a_snapshot(fhir: FhirClient) -> None:
    stored = await fhir.read("StructureDefinition", "prm-patient")
    patient = new_from("Patient/prm-example-patient")
    del patient["telecom"]

    outcome = await fhir.validate(patient, profile=PROFILE_PATIENT)

    assert "snapshot" not in stored
    assert (
        f"Patient.telecom: minimum required = 1, but only found 0 (from {PROFILE_PATIENT}|{stored['version']})"
        in errors(outcome)
    )
