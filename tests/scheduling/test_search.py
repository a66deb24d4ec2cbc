"""Free-slot search: filters, ranking by preference, and bad input."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from tests.clinic import KOLKATA, Clinic, make_practitioner

pytestmark = pytest.mark.integration


def _window(days: int = 7) -> dict[str, str]:
    now = datetime.now(KOLKATA)
    return {"start": now.isoformat(), "end": (now + timedelta(days=days)).isoformat()}


async def test_search_by_specialty_returns_only_that_specialty(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> None:
    derm = await make_practitioner(api, admin, clinic, specialty="dermatology")

    response = await api.get(
        "/api/v1/slots", params={**_window(days=2), "specialty": "dermatology", "limit": 200}, headers=staff
    )

    assert response.status_code == 200
    assert {s["specialty"] for s in response.json()} == {"dermatology"}
    assert derm["id"] in {s["practitioner"] for s in response.json()}


async def test_part_of_day_filters_in_local_time(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> None:
    doctor = await make_practitioner(
        api,
        admin,
        clinic,
        hours={d: ["09:00-10:00", "18:00-19:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    )

    evening = await api.get(
        "/api/v1/slots",
        params={**_window(), "practitioner": doctor["id"], "part_of_day": "evening"},
        headers=staff,
    )

    assert evening.status_code == 200
    assert evening.json()
    assert {datetime.fromisoformat(s["start"]).hour for s in evening.json()} == {18}


async def test_slots_are_ranked_by_preferred_time_then_soonest(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> None:
    doctor = await make_practitioner(api, admin, clinic)

    response = await api.get(
        "/api/v1/slots",
        params={**_window(), "practitioner": doctor["id"], "prefer_time": "10:30", "prefer_day": "sat"},
        headers=staff,
    )

    first = datetime.fromisoformat(response.json()[0]["start"])
    assert first.strftime("%a %H:%M") == "Sat 10:30"
    starts = [datetime.fromisoformat(s["start"]) for s in response.json()]
    saturday_first = [s.strftime("%a") == "Sat" for s in starts]
    assert saturday_first == sorted(saturday_first, reverse=True)


async def test_unranked_search_is_soonest_first(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic
) -> None:
    doctor = await make_practitioner(api, admin, clinic)

    response = await api.get(
        "/api/v1/slots", params={**_window(), "practitioner": doctor["id"]}, headers=staff
    )

    starts = [s["start"] for s in response.json()]
    assert starts == sorted(starts)
    assert datetime.fromisoformat(starts[0]) > datetime.now(KOLKATA)


async def test_bad_search_input_is_422_naming_the_field(
    api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    now = datetime.now(KOLKATA)
    backwards = await api.get(
        "/api/v1/slots",
        params={"start": now.isoformat(), "end": (now - timedelta(days=1)).isoformat()},
        headers=staff,
    )
    unknown = await api.get("/api/v1/slots", params={**_window(), "specialty": "astrology"}, headers=staff)
    naive = await api.get(
        "/api/v1/slots", params={"start": "2026-12-01T10:00:00", "end": "2026-12-02T10:00:00"}, headers=staff
    )

    assert backwards.status_code == 422
    assert backwards.json()["message"] == "end: must be after start"
    assert unknown.status_code == 422
    assert unknown.json()["fields"][0]["field"] == "specialty"
    assert naive.status_code == 422
    assert naive.json()["fields"][0]["field"] == "query.start"
