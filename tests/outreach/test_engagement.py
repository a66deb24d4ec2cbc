"""Engagement in the real HAPI: the score and its factors, on its endpoint and in the 360."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from app.fhir.client import FhirClient
from tests.clinic import KOLKATA, Clinic, make_patient, make_practitioner
from tests.outreach.support import appointment

pytestmark = pytest.mark.integration


async def test_visits_and_a_no_show_give_the_documented_score_in_both_places(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], fhir: FhirClient, clinic: Clinic
) -> None:
    now = datetime.now(KOLKATA).replace(microsecond=0)
    doctor = await make_practitioner(api, admin, clinic)
    patient = await make_patient(api, staff)
    for days, status in ((20, "fulfilled"), (100, "fulfilled"), (50, "noshow")):
        await appointment(
            fhir, patient=patient["id"], doctor=doctor, status=status, start=now - timedelta(days=days)
        )

    scored = await api.get(f"/api/v1/patients/{patient['id']}/engagement", headers=staff)
    view = await api.get(f"/api/v1/patients/{patient['id']}/360", headers=staff)
    unknown = await api.get("/api/v1/patients/no-such-patient/engagement", headers=staff)

    assert scored.status_code == 200, scored.text
    body = scored.json()
    # 30 (a visit within 90 days) + 15 (two visits) - 10 (one no-show).
    assert (body["score"], body["level"]) == (35.0, "medium")
    assert {f["factor"]: f["points"] for f in body["factors"]} == {
        "days_since_last_visit": 30.0,
        "visits_last_year": 15.0,
        "replies_last_90_days": 0.0,
        "confirmations_last_year": 0.0,
        "no_shows_last_year": -10.0,
    }
    assert view.json()["engagement"] == body
    assert unknown.status_code == 404
