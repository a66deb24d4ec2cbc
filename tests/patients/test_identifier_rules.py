"""Identifier rules against the real HAPI: an ABHA number or address is one patient's (409 naming the
field, also under concurrent registrations), and every registration path numbers MRNs with the clinic's
prefix (Settings.mrn_prefix), not only the API."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from app.bot.dialogue import Dialogue
from app.bot.flows import register as bot_register
from app.bot.turn import Turn
from app.fhir.canonical import SID_MRN, SID_PHONE
from app.fhir.client import FhirClient
from app.patients import identifiers
from app.ports.jobs import Job
from app.services import Services
from tests.calls.support import event
from tests.clinic import make_patient
from tests.factories import person_name, phone
from workers.registry import JOBS, bot_of

pytestmark = pytest.mark.integration


def abha_number() -> str:
    return f"{uuid.uuid4().int % 10**14:014d}"


async def test_an_abha_number_held_by_another_patient_is_refused_naming_the_field(
    api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    number, address = abha_number(), f"a{uuid.uuid4().hex[:10]}@abdm"
    first = await make_patient(api, staff, abha_number=number, abha_address=address)
    other = await make_patient(api, staff)

    second = await api.post(
        "/api/v1/patients",
        json={"name": person_name(), "phone": phone(), "abha_number": number},
        headers=staff,
    )
    patched = await api.patch(
        f"/api/v1/patients/{other['id']}", json={"abha_address": address}, headers=staff
    )
    own = await api.patch(f"/api/v1/patients/{first['id']}", json={"abha_number": number}, headers=staff)

    assert second.status_code == 409, second.text
    assert second.json()["fields"] == [
        {
            "field": "abha_number",
            "message": f"another patient (Patient/{first['id']}) already has this abha_number",
        }
    ]
    assert patched.status_code == 409 and patched.json()["fields"][0]["field"] == "abha_address"
    assert own.status_code == 200, own.text


async def test_concurrent_registrations_with_one_abha_number_create_one_patient(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    number = abha_number()

    answers = await asyncio.gather(
        *(
            api.post(
                "/api/v1/patients",
                json={"name": person_name(), "phone": phone(), "abha_number": number},
                headers=staff,
            )
            for _ in range(5)
        )
    )

    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409]
    assert len(await fhir.search("Patient", {"identifier": f"{identifiers.SID_ABHA_NUMBER}|{number}"})) == 1


def _with_prefix(app: FastAPI, prefix: str) -> Services:
    services: Services = app.state.services
    return dataclasses.replace(services, settings=services.settings.model_copy(update={"mrn_prefix": prefix}))


async def test_the_bot_and_the_voice_agent_number_patients_with_the_clinic_prefix(
    app: FastAPI, fhir: FhirClient
) -> None:
    prefix = "T" + uuid.uuid4().hex[:5].upper()
    services = _with_prefix(app, prefix)
    texter, caller = phone(), phone()
    turn = Turn(
        bot=bot_of(services),
        now=datetime.now(UTC),
        message_id="m-1",
        text="Ravi Kumar",
        button=None,
        channel="whatsapp",
        address=texter,
        conversation_id="c-1",
        dialogue=Dialogue(flow=bot_register.NAME, step="name"),
    )

    assert await bot_register.resume(turn)
    # The bot registers once it has the age (or its "skip").
    assert await bot_register.resume(dataclasses.replace(turn, message_id="m-2", text="skip"))
    await JOBS[Job.PROCESS_VOICE_EVENT](
        services, {"event": event(caller=caller, patient={"name": person_name(), "phone": caller})}
    )

    mrns = []
    for number in (texter, caller):
        [patient] = await fhir.search("Patient", {"identifier": f"{SID_PHONE}|{number}"})
        mrns.append(identifiers.identifier_of(patient, SID_MRN))
    assert sorted(mrns) == [identifiers.format_mrn(prefix, 1), identifiers.format_mrn(prefix, 2)]  # type: ignore[type-var]
    counter = await fhir.read("Basic", identifiers.counter_id(prefix))
    assert counter["extension"][0]["valueInteger"] == 2
