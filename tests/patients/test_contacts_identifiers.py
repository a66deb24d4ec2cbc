"""Contacts, identifiers and tags against the real HAPI: every field round-trips, is searchable, and bad
input is a 422 naming the field with nothing written; MRNs stay distinct under concurrent registrations."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.fhir.canonical import SID_MRN, SID_PHONE
from app.fhir.client import FhirClient
from app.patients import identifiers, service
from app.patients.router import PATIENT_CORE
from tests.factories import person_name, phone

pytestmark = pytest.mark.integration


def abha_number() -> str:
    """A unique 14-digit ABHA number."""
    return f"{uuid.uuid4().int % 10**14:014d}"


def full_record() -> dict[str, Any]:
    main, home, contact = phone(), phone(), phone()
    handle = f"r{uuid.uuid4().hex[:10]}"
    number = abha_number()
    return {
        "name": person_name(),
        "phones": [
            {"number": f"0{home[3:]}", "use": "home"},
            {"number": f"+91 {main[3:8]} {main[8:]}", "use": "mobile", "primary": True},
        ],
        "gender": "female",
        "birth_date": "1988-02-29",
        "email": f"{handle}@Example.org",
        "address": {
            "line": ["12, 4th Cross", "Jayanagar 4th Block"],
            "city": "Bengaluru",
            "district": "Bengaluru Urban",
            "state": "karnataka",
            "postal_code": f"5{uuid.uuid4().int % 10**5:05d}",
        },
        "emergency_contact": {"name": person_name(), "relationship": "spouse", "phone": contact[3:]},
        "tags": ["vip", "needs-interpreter"],
        "abha_number": f"{number[:2]}-{number[2:6]}-{number[6:10]}-{number[10:]}",
        "abha_address": f"{handle}.Rec@abdm",
        "_expect": {"main": main, "home": home, "contact": contact, "abha": number, "handle": handle},
    }


async def test_every_contact_field_round_trips_and_the_profile_accepts_it(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    record = full_record()
    expect = record.pop("_expect")

    response = await api.post("/api/v1/patients", json=record, headers=staff)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["phone"] == expect["main"]
    assert body["phones"] == [
        {"number": expect["main"], "use": "mobile", "primary": True},
        {"number": expect["home"], "use": "home", "primary": False},
    ]
    assert body["email"] == f"{expect['handle']}@example.org"
    assert body["address"] == {**record["address"], "state": "Karnataka"}
    assert body["emergency_contact"] == {
        "name": record["emergency_contact"]["name"],
        "relationship": "spouse",
        "phone": expect["contact"],
    }
    assert body["tags"] == ["vip", "needs-interpreter"]
    assert body["abha_number"] == record["abha_number"]
    assert body["abha_address"] == f"{expect['handle']}.rec@abdm"
    assert re.fullmatch(r"PRM-\d{6}", body["mrn"])
    stored = await fhir.read("Patient", body["id"])
    by_system = {i["system"]: i["value"] for i in stored["identifier"] if i["system"] != SID_PHONE}
    assert by_system["https://fhir.prm.health/sid/abha-number"] == expect["abha"]
    assert sorted(i["value"] for i in stored["identifier"] if i["system"] == SID_PHONE) == sorted(
        [expect["main"], expect["home"]]
    )
    assert stored["address"][0]["postalCode"] == record["address"]["postal_code"]
    assert stored["address"][0]["country"] == "IN"
    assert stored["contact"][0]["relationship"][1]["coding"][0]["code"] == "SPS"


async def test_every_searchable_field_finds_the_patient(
    api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    record = full_record()
    expect = record.pop("_expect")
    created = (await api.post("/api/v1/patients", json=record, headers=staff)).json()

    searches = {
        "phone": f"0{expect['home'][3:]}",  # the secondary phone, written another way
        "email": f"{expect['handle'].upper()}@EXAMPLE.ORG",
        "postal_code": record["address"]["postal_code"],
        "mrn": created["mrn"].lower(),
        "abha_number": expect["abha"],
        "abha_address": f"{expect['handle']}.REC@abdm",
        "name": record["name"],
    }
    for field, value in searches.items():
        response = await api.get("/api/v1/patients", params={field: value}, headers=staff)
        assert response.status_code == 200, (field, response.text)
        assert created["id"] in [p["id"] for p in response.json()], field


async def test_patch_replaces_contacts_and_null_clears_them(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    record = full_record()
    record.pop("_expect")
    created = (await api.post("/api/v1/patients", json=record, headers=staff)).json()
    work = phone()

    response = await api.patch(
        f"/api/v1/patients/{created['id']}",
        json={
            "phones": [{"number": work, "use": "work", "primary": True}],
            "email": None,
            "address": None,
            "emergency_contact": None,
            "tags": ["wheelchair"],
            "abha_address": None,
            "deceased": True,
        },
        headers=staff,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["phone"], body["phones"]) == (work, [{"number": work, "use": "work", "primary": True}])
    assert (body["email"], body["address"], body["emergency_contact"], body["abha_address"]) == (None,) * 4
    assert (body["tags"], body["deceased"], body["mrn"]) == (["wheelchair"], True, created["mrn"])
    stored = await fhir.read("Patient", created["id"])
    assert [i["value"] for i in stored["identifier"] if i["system"] == SID_PHONE] == [work]
    assert "contact" not in stored and "address" not in stored


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "body.email"),
        ({"address": {"line": ["1"], "city": "X", "state": "Karnataka", "postal_code": "060001"}}, "body.address.postal_code"),
        ({"address": {"line": ["1"], "city": "X", "state": "Karnataka", "postal_code": "56001"}}, "body.address.postal_code"),
        ({"address": {"line": ["1"], "city": "X", "state": "Atlantis", "postal_code": "560001"}}, "body.address.state"),
        ({"abha_number": "12-3456-7890-123"}, "body.abha_number"),
        ({"abha_number": "1234567890123a"}, "body.abha_number"),
        ({"abha_address": "ab@gmail.com"}, "body.abha_address"),
        ({"abha_address": "a@abdm"}, "body.abha_address"),
        ({"tags": ["royalty"]}, "body.tags.0"),
        ({"phones": [{"number": "12"}]}, "phones[0].number"),
        ({"emergency_contact": {"name": "A B", "relationship": "spouse", "phone": "12"}}, "emergency_contact.phone"),
        ({"emergency_contact": {"name": "A B", "relationship": "neighbour", "phone": "9844111173"}}, "body.emergency_contact.relationship"),
    ],
)  # fmt: skip
async def test_bad_input_is_422_naming_the_field_and_nothing_is_written(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, change: dict[str, Any], field: str
) -> None:
    e164 = phone()

    registered = await api.post(
        "/api/v1/patients", json={"name": person_name(), "phone": e164, **change}, headers=staff
    )

    assert registered.status_code == 422
    body = registered.json()
    named = [f["field"] for f in body.get("fields", [])] or [body.get("field")]
    assert field in named, body
    assert await fhir.search("Patient", {"identifier": f"{SID_PHONE}|{e164}"}) == []


async def test_fifty_concurrent_registrations_get_fifty_distinct_mrns(
    app: FastAPI, api: httpx.AsyncClient, fhir: FhirClient
) -> None:
    services = app.state.services
    prefix = "T" + uuid.uuid4().hex[:6].upper()

    async def register_one() -> str:
        patient, created = await service.register(
            services.fhir,
            services.state,
            name=person_name(),
            phone=phone(),
            region="IN",
            gender=None,
            birth_date=None,
            preferred_language=None,
            preferred_channel=None,
            actors=[],
            mrn_prefix=prefix,
        )
        assert created
        return str(patient["id"])

    ids = await asyncio.gather(*(register_one() for _ in range(50)))

    found = await fhir.search("Patient", {"identifier": f"{SID_MRN}|" + ",".join(
        identifiers.format_mrn(prefix, n) for n in range(1, 51))})  # fmt: skip
    mrns = [identifiers.identifier_of(p, SID_MRN) for p in found]
    assert sorted(p["id"] for p in found) == sorted(ids)
    assert sorted(mrns) == [identifiers.format_mrn(prefix, n) for n in range(1, 51)]  # type: ignore[type-var]
    counter = await fhir.read("Basic", identifiers.counter_id(prefix))
    assert counter["extension"][0]["valueInteger"] == 50


def test_registration_core_fields_are_the_register_arguments() -> None:
    # Every PatientIn field outside PATIENT_CORE reaches register() as a detail PATCH also takes.
    from app.patients.schemas import PatientIn, PatientUpdate

    assert set(PatientIn.model_fields) - PATIENT_CORE <= set(PatientUpdate.model_fields)
