"""No PHI in logs: the record's flows log no email, address, ABHA, MRN search value, member id or file name."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.factories import person_name, phone

pytestmark = pytest.mark.integration


async def test_record_flows_log_no_contacts_identifiers_or_insurance(
    api: httpx.AsyncClient, staff: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    handle = f"secret{uuid.uuid4().hex[:8]}"
    number = f"{uuid.uuid4().int % 10**14:014d}"
    member, street, file_name = f"MEM{uuid.uuid4().hex[:8]}", f"Lane {uuid.uuid4().hex[:8]}", "mri-knee.pdf"
    body = {
        "name": person_name(),
        "phone": phone(),
        "email": f"{handle}@example.org",
        "address": {"line": [street], "city": "Mysuru", "state": "Karnataka", "postal_code": "570001"},
        "abha_number": number,
        "abha_address": f"{handle}@abdm",
        "emergency_contact": {"name": person_name(), "relationship": "parent", "phone": phone()},
    }
    capsys.readouterr()

    patient = (await api.post("/api/v1/patients", json=body, headers=staff)).json()
    for params in ({"email": body["email"]}, {"abha_number": number}, {"mrn": patient["mrn"]}):
        await api.get("/api/v1/patients", params=params, headers=staff)
    await api.post("/api/v1/patients", json={**body, "email": f"{handle}-at-nowhere"}, headers=staff)
    await api.post(
        f"/api/v1/patients/{patient['id']}/coverages",
        json={"payer": "Star", "member_id": member},
        headers=staff,
    )
    await api.post(
        f"/api/v1/patients/{patient['id']}/documents",
        files={"file": (file_name, b"%PDF-1.4\n%%EOF\n", "application/pdf")},
        data={"type": "imaging"},
        headers=staff,
    )

    logged = capsys.readouterr().out
    assert f"Patient/{patient['id']}" in logged
    for secret in (
        handle,
        number,
        member,
        street,
        file_name,
        patient["mrn"],
        body["emergency_contact"]["name"],
    ):
        assert secret not in logged
