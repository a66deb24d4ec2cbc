"""Anything valid in FHIR that others write (an EHR through /fhir, a script into HAPI) is readable by
every PRM endpoint (issue 8, finding 7): partial dates, missing names, several phones, unknown
extensions, resources written without the PRM profile."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.fhir.canonical import EXT_BOOKING_CHANNEL, PROFILE_APPOINTMENT, PROFILE_PATIENT, SID_PHONE
from app.fhir.client import FhirClient
from tests.factories import phone, unique

pytestmark = pytest.mark.integration

UNKNOWN_EXTENSION = {"url": "https://ehr.example/fhir/StructureDefinition/x-flag", "valueBoolean": True}


def _ehr_patients(number: str) -> dict[str, dict[str, Any]]:
    """Patients as EHRs write them, all valid FHIR R4, each with the phone `number`."""
    telecom = [{"system": "phone", "value": number}]
    return {
        "partial birth date (year-month)": {"birthDate": "1985-07", "name": [{"family": unique()}]},
        "partial birth date (year)": {"birthDate": "1985", "name": [{"given": [unique()]}]},
        "no name at all": {},
        "name with text only": {"name": [{"text": unique()}]},
        "several phones, none ranked": {
            "telecom": [
                {"system": "phone", "value": phone()},
                *telecom,
                {"system": "email", "value": "a@b.in"},
            ]
        },
        "unknown extension and gender unknown": {"extension": [UNKNOWN_EXTENSION], "gender": "unknown"},
        "deceased and inactive": {"deceasedBoolean": True, "active": False, "name": [{"family": unique()}]},
        "communication without coding": {"communication": [{"language": {"text": "Kannada"}}]},
    }


@pytest.fixture
async def ehr_patients(fhir: FhirClient) -> dict[str, tuple[str, str]]:
    """Each EHR-shaped patient written straight into HAPI, by case: (id, phone). HAPI enforces the PRM
    profile (a phone identifier and a phone), so that much every one of them has."""
    written: dict[str, tuple[str, str]] = {}
    for case, fields in _ehr_patients("").items():
        number = phone()
        body = {
            "resourceType": "Patient",
            "meta": {"profile": [PROFILE_PATIENT]},
            "identifier": [{"system": SID_PHONE, "value": number}],
            "telecom": [{"system": "phone", "value": number}],
            **fields,
        }
        if case == "several phones, none ranked":
            body["telecom"] = [
                t if t["value"] else {"system": "phone", "value": number} for t in fields["telecom"]
            ]
        stored = await fhir.create(body)
        written[case] = (stored["id"], number)
    return written


async def test_every_patient_endpoint_reads_what_an_ehr_wrote(
    api: httpx.AsyncClient, staff: dict[str, str], ehr_patients: dict[str, tuple[str, str]]
) -> None:
    failures = []
    for case, (patient_id, number) in ehr_patients.items():
        for path, params in (
            (f"/api/v1/patients/{patient_id}", None),
            (f"/api/v1/patients/{patient_id}/360", None),
            (f"/api/v1/patients/{patient_id}/duplicates", None),
            ("/api/v1/patients", {"phone": number}),
        ):
            response = await api.get(path, params=params, headers=staff)
            if response.status_code != 200:
                failures.append((case, path, response.status_code))
    assert failures == []


async def test_a_partial_birth_date_is_returned_as_written(
    api: httpx.AsyncClient, staff: dict[str, str], ehr_patients: dict[str, tuple[str, str]]
) -> None:
    patient_id, _ = ehr_patients["partial birth date (year-month)"]

    response = await api.get(f"/api/v1/patients/{patient_id}", headers=staff)

    assert response.json()["birth_date"] == "1985-07"


async def test_an_appointment_an_ehr_wrote_without_slot_or_practitioner_is_listed(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, ehr_patients: dict[str, tuple[str, str]]
) -> None:
    patient_id, _ = ehr_patients["no name at all"]
    appointment = await fhir.create(
        {
            "resourceType": "Appointment",
            "meta": {"profile": [PROFILE_APPOINTMENT]},
            "extension": [{"url": EXT_BOOKING_CHANNEL, "valueCode": "ehr"}],
            "status": "booked",
            "start": "2031-03-04T10:00:00+05:30",
            "end": "2031-03-04T10:20:00+05:30",
            "participant": [{"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"}],
        }
    )

    one = await api.get(f"/api/v1/appointments/{appointment['id']}", headers=staff)
    view = await api.get(f"/api/v1/patients/{patient_id}/360", headers=staff)

    assert one.status_code == 200, one.text
    assert view.status_code == 200, view.text
    assert [a["id"] for a in view.json()["upcoming_appointments"]] == [appointment["id"]]
