"""HAPI's log carries no PHI, even when HAPI fails on requests full of phones and names (invariant 4).

Checked to fail against the same jar run with a plain logback pattern (`--logging.config=`):
Hibernate's SqlExceptionHelper then logs the phone from the HFJ_RES_SEARCH_URL unique-key violation.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from app.fhir.client import FhirClient, search_query
from app.fhir.errors import FhirError
from tests.factories import person_name, phone
from tests.fhir_proxy.support import FHIR_JSON, patient

pytestmark = pytest.mark.integration

WITHHELD = "[message withheld: may carry PHI]"
SID_PHONE = "https://fhir.prm.health/sid/phone"


async def test_hapi_errors_about_patients_leave_no_phone_or_name_in_its_log(
    fhir: FhirClient, api: httpx.AsyncClient, integration: dict[str, str], hapi_log: Path
) -> None:
    withheld_before = hapi_log.read_text(errors="replace").count(WITHHELD)
    number, name = phone(), person_name()
    resource = patient(phone=number, name=name)

    # 20 concurrent conditional creates of one phone: HAPI's unique index on the conditional URL
    # rejects all but one, and Hibernate logs the violated key (the phone) unless withheld.
    results = await asyncio.gather(
        *(
            fhir.conditional_create(resource, match={"identifier": f"{SID_PHONE}|{number}"})
            for _ in range(20)
        ),
        return_exceptions=True,
    )
    created = [r for r in results if isinstance(r, tuple) and r[1]]
    assert len(created) == 1
    with pytest.raises(FhirError):
        await fhir.search("Patient", {"phone": number, "birthdate": "garbage", "name": name})
    with pytest.raises(FhirError):
        await fhir.conditional_create(resource, match={"phone": number, "birthdate": "garbage"})
    through_proxy = await api.post(
        "/fhir/Patient",
        json=resource,
        headers={
            **integration,
            **FHIR_JSON,
            "If-None-Exist": search_query({"phone": number, "birthdate": "x"}),
        },
    )
    assert through_proxy.status_code == 400
    await asyncio.sleep(1)  # HAPI writes its log lines after answering

    log = hapi_log.read_text(errors="replace")
    national = number.removeprefix("+91")
    for secret in (number, national, *name.split()):
        assert secret not in log, f"HAPI logged {secret!r}"
    assert log.count(WITHHELD) > withheld_before, (
        "HAPI logged nothing about the failures: the test proved nothing"
    )
