"""Campaigns end to end against the real HAPI and Redis: runs fanned out in paced batches, each message
through the messaging pipeline (sandbox messenger), jobs run through workers.registry.JOBS."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.campaigns import service as campaigns
from app.campaigns.resources import Schedule, Variant
from app.consents.resources import Decision
from app.fhir.client import FhirClient
from app.messaging import resources as res
from app.opportunities.resources import Stage, opportunity_resource
from app.ports.jobs import Job
from tests.campaigns.support import (
    OFFER_A,
    OFFER_B,
    STAFF,
    World,
    drain,
    make_campaign,
    make_segment,
    messages_of,
    replay,
    run_to_the_end,
)
from tests.segments.support import Seed, seed

pytestmark = pytest.mark.integration


async def test_a_campaign_messages_each_eligible_patient_once_paced_and_counts_the_rest(
    world: World,
    fhir: FhirClient,
    api: httpx.AsyncClient,
    staff: dict[str, str],
) -> None:
    services, queue, sandbox, clock = world
    plan = (
        [Seed(whatsapp=Decision.OPT_IN)] * 20
        + [Seed(whatsapp=Decision.OPT_OUT)] * 2
        + [Seed(whatsapp=None)] * 2
    )
    seeded = await seed(fhir, plan, at=clock.now())
    campaign = await make_campaign(services, await make_segment(services, seeded))
    run = (await campaigns.runs_of(fhir, campaign.id))[0]

    first = await drain(services, queue)
    # Paced: 10 a batch, one batch per 10 s at 1 message/s; only the first is due.
    assert len(await messages_of(fhir, run.id)) == 10
    ran = first + await run_to_the_end(services, queue, clock)

    stored = [res.message_of(m) for m in await messages_of(fhir, run.id)]
    by_patient = {m.patient_id: m for m in stored}
    assert len(stored) == 24 and set(by_patient) == set(seeded.ids)
    opted_in, opted_out, unasked = seeded.ids[:20], seeded.ids[20:22], seeded.ids[22:]
    assert sorted(m.reference for m in sandbox.sent) == sorted(by_patient[p].id for p in opted_in)
    assert {by_patient[p].status for p in opted_in} == {"completed"}
    assert {(by_patient[p].status, by_patient[p].reason) for p in opted_out} == {("not-done", "opted-out")}
    assert {(by_patient[p].status, by_patient[p].reason) for p in unasked} == {("not-done", "no-consent")}
    assert all("a free ECG" in (by_patient[p].text or "") for p in opted_in)
    assert (await fhir.read("CommunicationRequest", run.id))["status"] == "completed"
    assert (await campaigns.get(fhir, campaign.id)).status == "completed"

    await replay(services, ran)  # every job delivered twice changes nothing
    assert len(await messages_of(fhir, run.id)) == 24
    assert len(sandbox.sent) == 20

    thread = by_patient[opted_in[0]].thread_id
    assert thread is not None
    await fhir.create(
        res.inbound_message(
            provider_id=f"SM{campaign.id}", channel="whatsapp", thread_id=thread, patient_id=opted_in[0],
            text="yes please", received=clock.now() + timedelta(hours=1),
        )
    )  # fmt: skip
    lead = opportunity_resource(
        patient_ref=f"Patient/{opted_in[1]}", stage=Stage.BOOKED, source="campaign", description=None,
        created=clock.now() + timedelta(days=2),
    )  # fmt: skip
    await fhir.create(lead)
    analytics = await api.get(f"/api/v1/campaigns/{campaign.id}/analytics", headers=staff)
    assert analytics.status_code == 200, analytics.text
    assert analytics.json()["total"] == {
        "targeted": 24, "suppressed": {"consent": 4, "dnd": 0, "quiet_hours": 0, "no_number": 0}, "failed": 0,
        "pending": 0, "sent": 20, "delivered": 20, "read": 0, "replied": 1, "booked": 1,
    }  # fmt: skip
    assert analytics.json()["variants"]["A"]["sent"] == 20


async def test_quiet_hours_recipients_wait_and_are_sent_in_the_morning(
    world: World,
    fhir: FhirClient,
    api: httpx.AsyncClient,
    staff: dict[str, str],
) -> None:
    services, queue, sandbox, clock = world
    clock.advance(hours=11)  # 22:00
    seeded = await seed(fhir, [Seed()] * 3, at=clock.now())
    campaign = await make_campaign(services, await make_segment(services, seeded))

    await run_to_the_end(services, queue, clock)
    night = await api.get(f"/api/v1/campaigns/{campaign.id}/analytics", headers=staff)
    assert night.json()["total"]["suppressed"]["quiet_hours"] == 3
    assert night.json()["total"]["sent"] == 0 and sandbox.sent == []

    clock.advance(hours=10)  # 08:00 the next morning, minus the seconds the run took
    clock.advance(minutes=1)
    await drain(services, queue)
    morning = await api.get(f"/api/v1/campaigns/{campaign.id}/analytics", headers=staff)
    assert morning.json()["total"]["suppressed"]["quiet_hours"] == 0
    assert morning.json()["total"]["sent"] == 3 and len(sandbox.sent) == 3


async def test_a_b_split_is_stable_across_the_runs_of_a_daily_campaign(
    world: World, fhir: FhirClient
) -> None:
    services, queue, sandbox, clock = world
    seeded = await seed(fhir, [Seed()] * 16, at=clock.now())
    variants = [
        Variant("A", "health_checkup_invitation", OFFER_A),
        Variant("B", "health_checkup_invitation", OFFER_B),
    ]
    campaign = await make_campaign(
        services, await make_segment(services, seeded), variants=variants, split_b=50, schedule=Schedule.DAILY
    )
    await run_to_the_end(services, queue, clock)

    def offers(messages: list[Any]) -> dict[str, str]:
        read = [res.message_of(m) for m in messages]
        return {str(m.patient_id): m.template.variables["offer"] for m in read if m.template}

    first_run = (await campaigns.runs_of(fhir, campaign.id))[0]
    first = offers(await messages_of(fhir, first_run.id))
    assert {campaign.variant_for(p).variables["offer"] for p in seeded.ids} == set(first.values()) == {
        "a free ECG", "20% off a full check-up",
    }  # fmt: skip
    assert first == {p: campaign.variant_for(p).variables["offer"] for p in seeded.ids}

    clock.advance(days=1)
    await queue.enqueue(Job.RUN_DUE_CAMPAIGNS, {}, job_id="due-1")
    await queue.enqueue(Job.RUN_DUE_CAMPAIGNS, {}, job_id="due-2")  # a second tick opens nothing new
    try:
        await run_to_the_end(services, queue, clock)
        runs = await campaigns.runs_of(fhir, campaign.id)
        assert len(runs) == 2 and [r.status for r in runs] == ["completed", "completed"]
        second = await messages_of(fhir, runs[1].id)
        assert offers(second) == first
        ours = {str(m["id"]) for m in second} | {str(m["id"]) for m in await messages_of(fhir, first_run.id)}
        assert len([m for m in sandbox.sent if m.reference in ours]) == 32
        assert (await campaigns.get(fhir, campaign.id)).status == "active"  # daily: waits for tomorrow
    finally:
        await campaigns.cancel(fhir, campaign_id=campaign.id, actor=STAFF)


async def test_pause_holds_the_run_resume_finishes_it_and_finished_campaigns_refuse_changes(
    world: World,
    fhir: FhirClient,
    api: httpx.AsyncClient,
    staff: dict[str, str],
) -> None:
    services, queue, sandbox, clock = world
    seeded = await seed(fhir, [Seed()] * 4, at=clock.now())
    campaign = await make_campaign(services, await make_segment(services, seeded))

    paused = await api.post(f"/api/v1/campaigns/{campaign.id}/pause", headers=staff)
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    await run_to_the_end(services, queue, clock)
    assert sandbox.sent == []

    await campaigns.resume(services.fhir, queue, campaign_id=campaign.id, actor=STAFF, now=clock.now())
    await run_to_the_end(services, queue, clock)
    assert len(sandbox.sent) == 4
    assert (await campaigns.get(fhir, campaign.id)).status == "completed"

    for action in ("pause", "resume", "cancel"):
        refused = await api.post(f"/api/v1/campaigns/{campaign.id}/{action}", headers=staff)
        assert refused.status_code == 409, refused.text
        assert "completed" in refused.json()["message"]

    other = await make_campaign(
        services, await make_segment(services, seeded), start=clock.now() + timedelta(days=1)
    )
    cancelled = await api.post(f"/api/v1/campaigns/{other.id}/cancel", headers=staff)
    assert cancelled.json()["status"] == "cancelled"
    assert (await api.post(f"/api/v1/campaigns/{other.id}/pause", headers=staff)).status_code == 409


async def test_an_email_campaign_counts_patients_without_an_address(world: World, fhir: FhirClient) -> None:
    services, queue, sandbox, clock = world
    seeded = await seed(
        fhir, [Seed(email="a@example.org"), Seed(email="b@example.org"), Seed()], at=clock.now()
    )
    campaign = await make_campaign(services, await make_segment(services, seeded), channel="email")
    await run_to_the_end(services, queue, clock)

    _, report = await campaigns.analytics(fhir, campaign_id=campaign.id)
    assert report.total.sent == 2 and report.total.suppressed["no_number"] == 1
    assert sorted(m.to.address for m in sandbox.sent) == ["a@example.org", "b@example.org"]


async def test_campaigns_that_cannot_be_sent_are_refused_at_save_time(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, world: Any
) -> None:
    services = world[0]
    seeded = await seed(fhir, [Seed()], at=services.clock.now())
    segment = await make_segment(services, seeded)
    base = {"name": "Bad", "segment": segment, "channel": "sms"}
    before = await fhir.count(
        "CommunicationRequest", {"_profile": "https://fhir.prm.health/StructureDefinition/prm-campaign"}
    )
    cases: dict[str, dict[str, Any]] = {
        "variants.0.template": {"variants": [{"template": "health_checkup_invitation", "variables": OFFER_A}], "channel": "whatsapp"},
        "variants.0.variables.offer": {"variants": [{"template": "health_checkup_invitation", "variables": {"clinic_name": "S", "clinic_phone": "1"}}]},
        "channel": {"variants": [{"template": "appointment_reminder_24h"}], "channel": "email"},
        "languages": {"variants": [{"template": "health_checkup_invitation", "variables": OFFER_A}], "languages": ["ta"]},
        "segment": {"variants": [{"template": "health_checkup_invitation", "variables": OFFER_A}], "segment": "nosuchsegment"},
        "variants.0.variables.patient_name": {"variants": [{"template": "health_checkup_invitation", "variables": {**OFFER_A, "patient_name": "x"}}]},
    }  # fmt: skip
    unknown: dict[str, Any] = {"variants": [{"template": "no_such_template"}]}
    for field, body in [*cases.items(), ("variants.0.template", unknown)]:
        refused = await api.post("/api/v1/campaigns", json={**base, **body}, headers=staff)
        assert refused.status_code == 422, (field, refused.text)
        assert refused.json()["fields"][0]["field"] == field, refused.text
    offset = {
        **base,
        **cases["segment"],
        "segment": segment,
        "window": {"start": "10:00+05:30", "end": "19:00"},
    }
    refused = await api.post("/api/v1/campaigns", json=offset, headers=staff)
    assert refused.status_code == 422 and "offset" in refused.text
    after = await fhir.count(
        "CommunicationRequest", {"_profile": "https://fhir.prm.health/StructureDefinition/prm-campaign"}
    )
    assert after == before
    assert (await api.post("/api/v1/campaigns", json={**base, **cases["channel"]})).status_code == 401
