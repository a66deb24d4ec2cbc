"""Campaigns and the other senders' budget and patients' wishes: two campaigns at once share one
sender's rate (real Redis timeline); a marketing opt-out (do not disturb) stops campaigns, not care
messages; STOP stops both."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import httpx
import pytest

from app.campaigns import service as campaigns
from app.consents import service as consents
from app.consents.resources import ConsentSource, Decision
from app.errors import OptedOut
from app.fhir.client import FhirClient
from app.messaging import resources as res
from app.messaging.service import prepare_template_message
from app.ports.jobs import Job
from tests.campaigns.support import (
    OFFER_A,
    STAFF,
    World,
    drain,
    make_campaign,
    make_segment,
    messages_of,
    run_to_the_end,
)
from tests.messaging.support import consent, reason_of
from tests.segments.support import Seed, seed
from workers.registry import JOBS

pytestmark = pytest.mark.integration


async def test_two_campaigns_at_once_share_the_senders_rate(world: World, fhir: FhirClient) -> None:
    services, queue, sandbox, clock = world
    seeded = await seed(fhir, [Seed()] * 25, at=clock.now())
    segment = await make_segment(services, seeded)
    ours = [await make_campaign(services, segment, name=f"Drive {n}") for n in (1, 2)]
    dispatches = queue.waiting(Job.DISPATCH_CAMPAIGN_RUN)
    assert len(dispatches) == 2
    for job in dispatches:
        job.done = True
    await asyncio.gather(*(JOBS[q.job](services, dict(q.payload)) for q in dispatches))  # together

    batches = sorted(
        ((q.at or clock.now(), len(q.payload["patients"])) for q in queue.waiting(Job.SEND_CAMPAIGN_BATCH)),
        key=lambda b: b[0],
    )
    assert [size for _, size in batches].count(10) == 4 and len(batches) == 6
    assert batches[0][0] == clock.now()
    for (at, size), (following, _) in itertools.pairwise(batches):
        assert following >= at + timedelta(seconds=size / 1.0), batches  # 1 message/s on the one sender
    assert batches[-1][0] >= clock.now() + timedelta(seconds=45)  # 50 messages, 5 in the last batch

    await run_to_the_end(services, queue, clock)
    for campaign in ours:
        run = (await campaigns.runs_of(fhir, campaign.id))[0]
        assert len(await messages_of(fhir, run.id)) == 25
    assert len(sandbox.sent) == 50


async def test_do_not_disturb_stops_campaigns_not_care_messages_and_stop_stops_both(
    world: World,
    fhir: FhirClient,
    api: httpx.AsyncClient,
    staff: dict[str, str],
) -> None:
    services, queue, sandbox, clock = world
    dnd, stopped, reachable = (seeded := await seed(fhir, [Seed()] * 3, at=clock.now())).ids
    put = await api.put(
        f"/api/v1/patients/{dnd}/consents/marketing", json={"decision": "opt-out"}, headers=staff
    )
    assert put.status_code == 200, put.text
    assert put.json()["marketing"]["decision"] == "opt-out" and put.json()["marketing"]["channel"] is None
    assert put.json()["current"]["whatsapp"]["decision"] == "opt-in"  # the channel is untouched
    view = await api.get(f"/api/v1/patients/{dnd}/360", headers=staff)
    assert view.json()["consent_decisions"]["marketing"]["decision"] == "opt-out", view.text
    await consent(fhir, stopped, "whatsapp", Decision.OPT_OUT, clock.now())  # STOP
    for flag, members in ((True, 1), (False, 2)):  # the segment criterion
        criteria = {"search": f"family={seeded.family}", "marketing_opt_out": flag}
        preview = await api.post("/api/v1/segments/preview", json=criteria, headers=staff)
        assert preview.json() == {"count": members}, preview.text

    campaign = await make_campaign(services, await make_segment(services, seeded))
    await run_to_the_end(services, queue, clock)
    run = (await campaigns.runs_of(fhir, campaign.id))[0]
    by_patient = {m.patient_id: m for m in map(res.message_of, await messages_of(fhir, run.id))}
    assert {p: (m.status, m.reason, m.marketing) for p, m in by_patient.items()} == {
        dnd: ("not-done", "marketing-opt-out", True), stopped: ("not-done", "opted-out", True),
        reachable: ("completed", None, True),
    }  # fmt: skip
    _, report = await campaigns.analytics(fhir, campaign_id=campaign.id)
    assert report.total.suppressed == {"consent": 1, "dnd": 1, "quiet_hours": 0, "no_number": 0}

    care = {"patient_name": "A", "clinic_name": "Sunrise", "practitioner_name": "Dr. Rao", "date": "1 Dec",
            "time": "10:30 AM", "location_name": "Indiranagar", "maps_link": "https://maps.example/x",
            "clinic_phone": "+918041234567"}  # fmt: skip
    confirmation = await prepare_template_message(
        services.fhir, services.state, queue, template="appointment_confirmation", variables=care,
        sender=STAFF, at=clock.now(), patient_id=dnd, channel="whatsapp",
    )  # fmt: skip
    with pytest.raises(OptedOut) as refused:  # STOP stops care messages on the channel too
        await prepare_template_message(
            services.fhir, services.state, queue, template="appointment_confirmation", variables=care,
            sender=STAFF, at=clock.now(), patient_id=stopped, channel="whatsapp",
        )  # fmt: skip
    assert type(refused.value) is OptedOut
    late = await prepare_template_message(
        services.fhir, services.state, queue, template="health_checkup_invitation",
        variables={**OFFER_A, "patient_name": "B"}, sender=STAFF, at=clock.now(), patient_id=reachable,
        channel="whatsapp", marketing=True,
    )  # fmt: skip
    # Opted out of marketing after the message was prepared, before its send job ran.
    await consents.record(
        fhir, patient_id=reachable, channel=None, decision=Decision.OPT_OUT, source=ConsentSource.STAFF,
        actors=[STAFF], recorded_at=clock.now(),
    )  # fmt: skip
    await drain(services, queue)
    assert res.message_of(await fhir.read("Communication", confirmation["id"])).status == "completed"
    assert await reason_of(fhir, late) == ("not-done", "marketing-opt-out", None)
    assert [m.reference for m in sandbox.sent if m.reference in (confirmation["id"], late["id"])] == [
        confirmation["id"]
    ]
