"""What a call writes declares its profile and passes HAPI's $validate against it."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from app.fhir.canonical import PROFILE_COMMUNICATION, PROFILE_TICKET
from app.fhir.client import FhirClient
from tests.calls.support import event, keyed, process
from tests.clinic import make_patient
from tests.conformance.test_written_by_the_prm import assert_conforms

pytestmark = pytest.mark.integration


async def test_a_calls_communication_and_ticket_conform(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, app: FastAPI
) -> None:
    patient = await make_patient(api, staff)
    body = event(caller=patient["phone"], intent="complaint", vendor_field={"kept": True})

    outcome = await process(app.state.services, body)

    [call] = await keyed(fhir, "Communication", body["call"]["id"])
    await assert_conforms(fhir, call, PROFILE_COMMUNICATION)
    [ticket] = outcome.outcome
    await assert_conforms(fhir, await fhir.read("Task", ticket.removeprefix("Task/")), PROFILE_TICKET)
