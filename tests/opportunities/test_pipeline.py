"""The pipeline report, exact on leads created in a period nobody else uses (the HAPI is shared)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from app.fhir.builders import Actor, AgentKind
from app.fhir.client import FhirClient
from app.opportunities import service as opportunities
from app.opportunities.resources import LostReason, Stage
from app.opportunities.service import OpportunityChanges
from tests.clinic import make_patient

pytestmark = pytest.mark.integration
STAFF = Actor(kind=AgentKind.STAFF, user="sales@test")


async def test_pipeline_counts_values_and_conversions_by_stage_source_and_period(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    # Two days of a far-future month picked at random: only this test's leads were created then.
    day_one = datetime(random.randint(2300, 2900), random.randint(1, 12), 10, 6, 0, tzinfo=UTC)
    day_two = day_one + timedelta(days=1)
    patient = (await make_patient(api, staff))["id"]

    async def make(source: str, value: int, at: datetime, *moves: Stage) -> None:
        task = await opportunities.create_opportunity(
            fhir, patient_id=patient, description=None, source=source, actors=[STAFF],
            value=Decimal(value), now=at,
        )  # fmt: skip
        for stage in moves:
            reason = LostReason.PRICE if stage is Stage.LOST else None
            await opportunities.change_opportunity(
                fhir, opportunity_id=task["id"], changes=OpportunityChanges(stage=stage, lost_reason=reason),
                actor=STAFF, now=at,
            )  # fmt: skip

    await make("website", 1000, day_one)
    await make("website", 800, day_one, Stage.CONTACTED)
    await make("website", 600, day_one, Stage.CONTACTED, Stage.LOST)
    await make("whatsapp", 500, day_two, Stage.BOOKED)
    await make("whatsapp", 900, day_two, Stage.BOOKED, Stage.WON)

    response = await api.get(
        "/api/v1/opportunities/pipeline",
        params={
            "start": day_one.isoformat(),
            "end": (day_two + timedelta(days=1)).isoformat(),
            "interval": "day",
        },
        headers=staff,
    )

    assert response.status_code == 200, response.text
    report = response.json()
    total = report["total"]
    assert (total["count"], total["estimated_value"]) == (5, 3800.0)
    assert {s["stage"]: (s["count"], s["estimated_value"]) for s in total["stages"]} == {
        "new": (1, 1000.0), "contacted": (1, 800.0), "qualified": (0, 0.0),
        "booked": (1, 500.0), "won": (1, 900.0), "lost": (1, 600.0),
    }  # fmt: skip
    # Reached: new 5, contacted 4 (2 booked leads skipped past it, the lost one was contacted), qualified 2,
    # booked 2, won 1.
    assert [(c["from_stage"], c["to_stage"], c["rate"]) for c in total["conversion"]] == [
        ("new", "contacted", 0.8), ("contacted", "qualified", 0.5),
        ("qualified", "booked", 1.0), ("booked", "won", 0.5),
    ]  # fmt: skip
    by_source = {s["source"]: (s["count"], s["estimated_value"]) for s in report["by_source"]}
    assert by_source == {"website": (3, 2400.0), "whatsapp": (2, 1400.0)}
    # Periods are days of the clinic's time zone (Asia/Kolkata: 06:00 UTC is 11:30 the same day).
    assert [(p["period"], p["count"]) for p in report["by_period"]] == [
        (day_one.date().isoformat(), 3), (day_two.date().isoformat(), 2),
    ]  # fmt: skip

    only_whatsapp = await api.get(
        "/api/v1/opportunities/pipeline",
        params={
            "start": day_one.isoformat(),
            "end": (day_two + timedelta(days=1)).isoformat(),
            "source": "whatsapp",
        },
        headers=staff,
    )
    assert only_whatsapp.json()["total"]["count"] == 2
    assert [p["period"] for p in only_whatsapp.json()["by_period"]] == [f"{day_two:%Y-%m}"]


async def test_a_pipeline_period_with_no_leads_is_all_zeros(
    api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    response = await api.get(
        "/api/v1/opportunities/pipeline",
        params={"start": "2999-12-30T00:00:00+00:00", "end": "2999-12-31T00:00:00+00:00"},
        headers=staff,
    )

    assert response.status_code == 200
    assert response.json()["total"]["count"] == 0
    assert all(c["rate"] is None for c in response.json()["total"]["conversion"])
    assert (
        await api.get("/api/v1/opportunities/pipeline", params={"interval": "year"}, headers=staff)
    ).status_code == 422
