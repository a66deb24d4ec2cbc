"""Building a small test clinic through the API: each test gets its own practitioner and patients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.factories import person_name, phone, unique

KOLKATA = ZoneInfo("Asia/Kolkata")
# Every day 10:00-11:00, 15-minute slots: four a day keeps slot generation cheap.
SHORT_HOURS = {d: ["10:00-11:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@dataclass(frozen=True)
class Clinic:
    """An organization and a branch in Asia/Kolkata."""

    organization: str
    location: str


async def make_clinic(api: httpx.AsyncClient, admin: dict[str, str], *, phone: str | None = None) -> Clinic:
    """Create an organization (with a phone: appointment messages name it) and a location."""
    body = {"name": f"Clinic {unique()}", **({"phone": phone} if phone else {})}
    org = await api.post("/api/v1/organizations", json=body, headers=admin)
    assert org.status_code == 201, org.text
    loc = await api.post(
        "/api/v1/locations",
        json={"name": f"Branch {unique()}", "organization": org.json()["id"], "timezone": "Asia/Kolkata"},
        headers=admin,
    )
    assert loc.status_code == 201, loc.text
    return Clinic(organization=org.json()["id"], location=loc.json()["id"])


async def make_practitioner(
    api: httpx.AsyncClient,
    admin: dict[str, str],
    clinic: Clinic,
    *,
    specialty: str = "cardiology",
    hours: dict[str, list[str]] | None = None,
    name: str | None = None,
    slot_minutes: int = 15,
) -> dict[str, Any]:
    """Create a practitioner (role, schedule, 30 days of slots) and return the API's answer."""
    response = await api.post(
        "/api/v1/practitioners",
        json={
            "name": name or person_name(),
            "specialty": specialty,
            "organization": clinic.organization,
            "location": clinic.location,
            "hours": hours or SHORT_HOURS,
            "slot_minutes": slot_minutes,
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def make_patient(api: httpx.AsyncClient, staff: dict[str, str], **fields: Any) -> dict[str, Any]:
    """Register a patient with a unique phone."""
    payload = {
        "name": person_name(),
        "phone": phone(),
        "gender": "female",
        "birth_date": "1990-04-12",
        **fields,
    }
    response = await api.post("/api/v1/patients", json=payload, headers=staff)
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def free_slots(
    api: httpx.AsyncClient, staff: dict[str, str], practitioner: dict[str, Any], *, days: int = 7
) -> list[dict[str, Any]]:
    """The practitioner's free slots over the next `days` days, from a quarter of an hour ahead (a slot
    starting in the next seconds could be in the past by the time a test books it)."""
    now = datetime.now(KOLKATA) + timedelta(minutes=15)
    response = await api.get(
        "/api/v1/slots",
        params={
            "practitioner": practitioner["id"],
            "start": now.isoformat(),
            "end": (now + timedelta(days=days)).isoformat(),
            "limit": 200,
        },
        headers=staff,
    )
    assert response.status_code == 200, response.text
    slots: list[dict[str, Any]] = response.json()
    return slots


async def bookable(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """A new practitioner, the id of their first free slot, and a new patient to book it for."""
    doctor = await make_practitioner(api, admin, clinic)
    slot = (await free_slots(api, staff, doctor))[0]["id"]
    return doctor, slot, await make_patient(api, staff)
