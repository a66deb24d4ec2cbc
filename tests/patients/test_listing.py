"""The patient list and statistics against the real HAPI. Each test scopes its patients by a PIN code
of its own (the HAPI is shared); a second app whose clock stands a month ahead sees the appointments
booked now as past visits."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.clock import FakeClock
from app.config import Settings
from tests.clinic import Clinic, bookable
from tests.conftest import started
from tests.factories import person_name, phone

pytestmark = pytest.mark.integration


def pin() -> str:
    return f"{uuid.uuid4().int % 9 + 1}{uuid.uuid4().int % 10**5:05d}"


def address(postal_code: str) -> dict[str, Any]:
    return {"line": ["1 MG Road"], "city": "Bengaluru", "state": "Karnataka", "postal_code": postal_code}


async def register(
    api: httpx.AsyncClient, staff: dict[str, str], postal_code: str, **fields: Any
) -> dict[str, Any]:
    body = {"name": person_name(), "phone": phone(), "address": address(postal_code), **fields}
    response = await api.post("/api/v1/patients", json=body, headers=staff)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def everything(
    api: httpx.AsyncClient, staff: dict[str, str], params: dict[str, Any], between: Any = None
) -> list[list[str]]:
    """Every page of a listing (ids per page), calling `between` after the first page."""
    pages: list[list[str]] = []
    cursor = None
    while True:
        response = await api.get(
            "/api/v1/patients", params={**params, **({"cursor": cursor} if cursor else {})}, headers=staff
        )
        assert response.status_code == 200, response.text
        pages.append([p["id"] for p in response.json()])
        cursor = response.headers.get("x-next-cursor")
        if len(pages) == 1 and between:
            await between()
        if not cursor:
            return pages


@pytest.fixture(scope="module")
async def later(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API a month from now: today's bookings are its past visits."""
    from app.main import create_app

    async for client in started(
        create_app(settings, clock=FakeClock(datetime.now(UTC) + timedelta(days=30)))
    ):
        yield client


@pytest.mark.parametrize("sort", ["name", "-name", "registered", "-registered"])
async def test_paging_is_stable_while_patients_are_added(
    api: httpx.AsyncClient, staff: dict[str, str], sort: str
) -> None:
    code = pin()
    originals = [(await register(api, staff, code))["id"] for _ in range(7)]
    added: list[str] = []

    async def add_more() -> None:
        added.extend([(await register(api, staff, code))["id"] for _ in range(3)])

    pages = await everything(api, staff, {"postal_code": code, "limit": 2, "sort": sort}, between=add_more)

    served = [pid for page in pages for pid in page]
    assert len(served) == len(set(served))  # nothing served twice
    assert set(originals) <= set(served)  # nothing skipped
    assert set(served) <= set(originals) | set(added)
    assert all(len(page) == 2 for page in pages[:-1])
    if sort == "registered":  # registered after the first page: all of them come after it
        assert set(added) <= set(served)
    # Not asserted for "-registered": registration times have a second's precision and ties go by id,
    # so a patient added in the same second as the first page's last row may still come after it.


async def test_sorting_by_name_orders_the_list(api: httpx.AsyncClient, staff: dict[str, str]) -> None:
    code = pin()
    names = ["Zoya Qureshi", "aarav Mehta", "Meera Iyer"]
    ids = {name: (await register(api, staff, code, name=name))["id"] for name in names}

    ascending = await api.get("/api/v1/patients", params={"postal_code": code, "sort": "name"}, headers=staff)
    descending = await api.get(
        "/api/v1/patients", params={"postal_code": code, "sort": "-name"}, headers=staff
    )

    assert [p["id"] for p in ascending.json()] == [ids["aarav Mehta"], ids["Meera Iyer"], ids["Zoya Qureshi"]]
    assert [p["id"] for p in descending.json()] == [
        ids["Zoya Qureshi"],
        ids["Meera Iyer"],
        ids["aarav Mehta"],
    ]
    assert ascending.headers["x-total-count"] == "3"
    assert "x-next-cursor" not in ascending.headers


async def test_filters_and_exact_statistics_over_seeded_patients(
    api: httpx.AsyncClient,
    later: httpx.AsyncClient,
    admin: dict[str, str],
    staff: dict[str, str],
    clinic: Clinic,
) -> None:
    code = pin()
    doctor, slot, _ = await bookable(api, admin, staff, clinic)
    seen = await register(api, staff, code, gender="female", birth_date="1990-05-01", tags=["vip"])
    elder = await register(api, staff, code, gender="male", birth_date="1950-01-01", preferred_language="kn")
    child = await register(api, staff, code, gender="female", birth_date="2016-07-15")
    unknown = await register(api, staff, code, gender="other")
    gone = await register(api, staff, code, gender="male", birth_date="1980-01-01")
    await api.post(f"/api/v1/patients/{gone['id']}/deactivate", headers=staff)
    booked = await api.post(
        "/api/v1/appointments",
        json={"slot": slot, "patient": seen["id"], "channel": "dashboard"},
        headers=staff,
    )
    assert booked.status_code == 201, booked.text

    async def listed(client: httpx.AsyncClient, **filters: Any) -> set[str]:
        response = await client.get(
            "/api/v1/patients", params={"postal_code": code, **filters}, headers=staff
        )
        assert response.status_code == 200, response.text
        return {p["id"] for p in response.json()}

    assert await listed(api) == {seen["id"], elder["id"], child["id"], unknown["id"]}
    assert await listed(api, status="inactive") == {gone["id"]}
    assert await listed(api, status="all") == {
        seen["id"],
        elder["id"],
        child["id"],
        unknown["id"],
        gone["id"],
    }
    assert await listed(api, has_upcoming="true") == {seen["id"]}
    assert await listed(later, has_upcoming="true") == set()
    assert await listed(later, location=clinic.location) == {seen["id"]}
    assert await listed(later, practitioner=doctor["id"]) == {seen["id"]}
    assert await listed(api, location=clinic.location) == set()  # not seen yet: the visit is to come
    assert await listed(api, gender="male") == {elder["id"]}
    assert await listed(api, age_band="60+") == {elder["id"]}
    assert await listed(api, age_band="0-17") == {child["id"]}
    assert await listed(api, age_band="18-39") == {seen["id"]}
    assert await listed(api, language="kn") == {elder["id"]}
    assert await listed(api, tag="vip") == {seen["id"]}
    by_visit = await later.get(
        "/api/v1/patients", params={"postal_code": code, "sort": "-last_visit"}, headers=staff
    )
    assert by_visit.json()[0]["id"] == seen["id"]
    assert by_visit.json()[0]["last_visit"] is not None

    stats = await later.get("/api/v1/patients/stats", params={"postal_code": code}, headers=staff)

    month = seen["registered_at"][:7]
    assert stats.status_code == 200, stats.text
    assert stats.json() == {
        "total": 4,
        "by_gender": {"female": 2, "male": 1, "other": 1},
        "by_age_band": {"18-39": 1, "60+": 1, "0-17": 1, "unknown": 1},
        "by_location": {clinic.location: 1},
        "new_per_month": {month: 4},
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"age_band": "30-40"}, "query.age_band"),
        ({"sort": "birthday"}, "query.sort"),
        ({"limit": 0}, "query.limit"),
        ({"postal_code": "012345"}, "query.postal_code"),
        ({"tag": "royal"}, "query.tag"),
    ],
)
async def test_bad_list_parameters_are_422_naming_them(
    api: httpx.AsyncClient, staff: dict[str, str], params: dict[str, Any], field: str
) -> None:
    response = await api.get("/api/v1/patients", params={"postal_code": pin(), **params}, headers=staff)

    assert response.status_code == 422
    body = response.json()
    assert field in ([f["field"] for f in body.get("fields", [])] or [body.get("field")]), body


async def test_a_cursor_of_another_sort_is_422(api: httpx.AsyncClient, staff: dict[str, str]) -> None:
    code = pin()
    for _ in range(3):
        await register(api, staff, code)
    first = await api.get("/api/v1/patients", params={"postal_code": code, "limit": 1}, headers=staff)

    response = await api.get(
        "/api/v1/patients",
        params={"postal_code": code, "sort": "-registered", "cursor": first.headers["x-next-cursor"]},
        headers=staff,
    )

    assert response.status_code == 422
    assert response.json()["message"] == "cursor: was made for sort='name', not '-registered'"
