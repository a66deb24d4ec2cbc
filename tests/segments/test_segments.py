"""Segments against the real HAPI: 200 seeded patients, exact counts and members, HAPI's refusals."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from app.consents.resources import Decision
from app.fhir.builders import instant
from app.fhir.canonical import PROFILE_SEGMENT
from app.fhir.client import FhirClient
from tests.segments.support import Seed, Seeded, seed

pytestmark = pytest.mark.integration
KOLKATA = ZoneInfo("Asia/Kolkata")
NOW = datetime.now(KOLKATA)
LANGUAGES = ("en", "hi", "kn")


def _seeds() -> list[Seed]:
    seeds = []
    for n in range(200):
        visits: list[tuple[datetime, str, str]] = []
        if n < 3:  # engaged: four visits in the last 80 days
            visits += [(NOW - timedelta(days=10 + 20 * k), "dermatology", "fulfilled") for k in range(4)]
        if n % 8 == 0:
            visits.append((NOW - timedelta(days=30), "cardiology", "fulfilled"))
        if n % 12 == 0:
            visits.append((NOW - timedelta(days=60), "cardiology", "cancelled"))  # not a visit
        if n % 14 == 0:
            visits.append((NOW + timedelta(days=5), "cardiology", "booked"))
        seeds.append(
            Seed(
                gender="female" if n % 2 else "male",
                birth_date=date(1950 + n % 56, 1 + n % 12, 1 + n % 28),
                language=LANGUAGES[n % 3],
                whatsapp=None if n % 11 == 0 else Decision.OPT_OUT if n % 10 == 0 else Decision.OPT_IN,
                visits=tuple(visits),
            )
        )
    return seeds


SEEDS = _seeds()


@pytest.fixture(scope="module")
async def seeded(fhir: FhirClient) -> Seeded:
    return await seed(fhir, SEEDS, at=NOW)


def _age(born: date) -> int:
    today = NOW.date()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _expected(seeded: Seeded, keep: Any) -> list[str]:
    return sorted(pid for pid, s, n in zip(seeded.ids, SEEDS, range(200), strict=True) if keep(s, n))


async def test_a_preview_counts_exactly_the_patients_hapi_selects(
    api: httpx.AsyncClient, staff: dict[str, str], seeded: Seeded
) -> None:
    body = {"search": f"family={seeded.family}", "gender": "female", "age_min": 30, "age_max": 50}

    preview = await api.post("/api/v1/segments/preview", json=body, headers=staff)

    expected = _expected(seeded, lambda s, n: s.gender == "female" and 30 <= _age(s.birth_date) <= 50)
    assert preview.status_code == 200, preview.text
    assert preview.json() == {"count": len(expected)}
    assert 10 < len(expected) < 100


async def test_a_saved_segment_pages_through_exactly_its_members(
    api: httpx.AsyncClient, staff: dict[str, str], seeded: Seeded, fhir: FhirClient
) -> None:
    criteria = {
        "search": f"family={seeded.family}",
        "specialty_seen": "cardiology",
        "upcoming_appointment": False,
        "channel_consent": "whatsapp",
        "language": "hi",
    }
    created = await api.post(
        "/api/v1/segments", json={"name": "Cardiology, no follow-up", "criteria": criteria}, headers=staff
    )
    assert created.status_code == 201, created.text
    segment = created.json()

    expected = _expected(
        seeded,
        lambda s, n: n % 8 == 0 and n % 14 != 0 and s.whatsapp == Decision.OPT_IN and s.language == "hi",
    )
    count = await api.get(f"/api/v1/segments/{segment['id']}/count", headers=staff)
    pages = []
    for page in range(1, 5):
        members = await api.get(
            f"/api/v1/segments/{segment['id']}/members", params={"page": page, "count": 2}, headers=staff
        )
        assert members.status_code == 200, members.text
        assert members.json()["total"] == len(expected)
        pages += members.json()["members"]

    assert count.json() == {"count": len(expected)}
    assert len(expected) >= 3
    assert pages == expected[:8]
    stored = await fhir.read("Group", segment["id"])
    assert stored["meta"]["profile"] == [PROFILE_SEGMENT]
    assert stored["actual"] is False and "member" not in stored
    assert (await api.get(f"/api/v1/segments/{segment['id']}", headers=staff)).json()["criteria"] == {
        "age_min": None, "age_max": None, "gender": None, "specialty_seen": "cardiology",
        "practitioner_seen": None, "last_visit_before": None, "last_visit_after": None,
        "upcoming_appointment": False, "journey": None, "opportunity_stage": None, "language": "hi",
        "channel_consent": "whatsapp", "marketing_opt_out": None, "engagement": None,
        "search": f"family={seeded.family}",
    }  # fmt: skip


async def test_last_visit_and_upcoming_criteria_are_exact(
    api: httpx.AsyncClient, staff: dict[str, str], seeded: Seeded
) -> None:
    cutoff = (NOW - timedelta(days=20)).date().isoformat()
    before = {"search": f"family={seeded.family}", "last_visit_before": cutoff}
    upcoming = {"search": f"family={seeded.family}", "upcoming_appointment": True, "gender": "male"}

    counted_before = await api.post("/api/v1/segments/preview", json=before, headers=staff)
    counted_upcoming = await api.post("/api/v1/segments/preview", json=upcoming, headers=staff)

    # Patients 0-2 were last seen 10 days ago; a cancelled appointment is not a visit.
    assert counted_before.json() == {"count": len(_expected(seeded, lambda s, n: n % 8 == 0 and n >= 3))}
    assert counted_upcoming.json() == {
        "count": len(_expected(seeded, lambda s, n: n % 14 == 0 and s.gender == "male"))
    }


async def test_engagement_level_is_a_criterion(
    api: httpx.AsyncClient, staff: dict[str, str], seeded: Seeded
) -> None:
    body = {"search": f"family={seeded.family}", "engagement": "high", "age_max": 80}

    preview = await api.post("/api/v1/segments/preview", json=body, headers=staff)

    assert preview.json() == {
        "count": len(_expected(seeded, lambda s, n: n < 3 and _age(s.birth_date) <= 80))
    }


async def test_a_search_hapi_rejects_is_a_422_with_its_message_and_nothing_is_saved(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    name = f"Rejected search segment {NOW.timestamp()}"
    body = {"name": name, "criteria": {"search": "favourite-colour=blue"}}

    saved = await api.post("/api/v1/segments", json=body, headers=staff)
    previewed = await api.post("/api/v1/segments/preview", json=body["criteria"], headers=staff)
    reserved = await api.post("/api/v1/segments/preview", json={"search": "_count=5"}, headers=staff)

    assert saved.status_code == 422, saved.text
    assert saved.json()["fields"][0]["field"] == "search"
    assert "favourite-colour" in saved.json()["fields"][0]["message"]
    assert "rejected" in saved.json()["fields"][0]["message"]
    assert previewed.status_code == 422
    assert reserved.status_code == 422
    assert "_count" in reserved.json()["fields"][0]["message"]
    recent = await fhir.search("Group", {"_profile": PROFILE_SEGMENT, "_lastUpdated": f"ge{instant(NOW)}"})
    assert name not in {g.get("name") for g in recent}


async def test_segments_need_staff_and_unknown_ones_are_404(
    api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    assert (await api.get("/api/v1/segments")).status_code == 401
    assert (await api.get("/api/v1/segments/nope123", headers=staff)).status_code == 404
    assert (await api.get("/api/v1/segments/nope123/members", headers=staff)).status_code == 404
