"""Consents against the real HAPI: the API, the stored Consents' profile, opted_out and messaging."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.consents import service
from app.consents.resources import ConsentSource, Decision, Purpose, record_of
from app.demo.seed import ORGANIZATION_ID, demo_directory, load_demo
from app.errors import OptedOut
from app.fhir.builders import Actor, AgentKind
from app.fhir.canonical import EXT_CHANNEL, EXT_PREFERRED_CHANNEL, PROFILE_CONSENT
from app.fhir.client import FhirClient
from app.messaging.service import prepare_message
from app.patients.service import find_by_phone
from tests.clinic import make_patient

pytestmark = pytest.mark.integration


async def _put(
    api: httpx.AsyncClient, staff: dict[str, str], pid: str, channel: str, body: Any
) -> httpx.Response:
    return await api.put(f"/api/v1/patients/{pid}/consents/{channel}", json=body, headers=staff)


async def test_a_marketing_opt_out_is_its_own_valid_consent_beside_the_channels(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    pid = (await make_patient(api, staff))["id"]
    await _put(api, staff, pid, "sms", {"decision": "opt-in"})

    put = await _put(api, staff, pid, "marketing", {"decision": "opt-out"})

    assert put.status_code == 200, put.text
    assert (
        put.json()["marketing"]["decision"] == "opt-out"
        and put.json()["current"]["sms"]["decision"] == "opt-in"
    )
    assert [(h["purpose"], h["channel"]) for h in put.json()["history"]] == [
        ("marketing", None),
        ("contact", "sms"),
    ]
    assert await service.opt_out_of(fhir, patient_id=pid, channel="sms", marketing=False) is None
    assert await service.opt_out_of(fhir, patient_id=pid, channel="sms", marketing=True) is Purpose.MARKETING
    [stored] = await fhir.search("Consent", {"patient": f"Patient/{pid}", "category": "marketing"})
    outcome = await fhir.validate(stored, profile=PROFILE_CONSENT)
    assert [i for i in outcome.get("issue", []) if i["severity"] in ("error", "fatal")] == []
    both = {**stored, "extension": [*stored["extension"], {"url": EXT_CHANNEL, "valueCode": "sms"}]}
    refused = await fhir.validate(both, profile=PROFILE_CONSENT)  # prm-con-2: marketing has no channel
    assert any("prm-con-2" in str(i) for i in refused.get("issue", []) if i["severity"] == "error"), refused
    bad = await _put(api, staff, pid, "marketing", {"decision": "maybe"})
    assert bad.status_code == 422 and "decision" in bad.text


async def test_opt_in_then_opt_out_keeps_history_and_the_latest_wins(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    patient = await make_patient(api, staff)
    pid = patient["id"]

    first = await _put(api, staff, pid, "whatsapp", {"decision": "opt-in", "source": "registration"})
    second = await _put(api, staff, pid, "whatsapp", {"decision": "opt-out", "source": "staff"})
    got = await api.get(f"/api/v1/patients/{pid}/consents", headers=staff)

    assert first.status_code == 200, first.text
    assert first.json()["current"]["whatsapp"]["decision"] == "opt-in"
    assert second.status_code == 200, second.text
    assert got.status_code == 200
    body = got.json()
    assert body == second.json()
    assert body["current"]["whatsapp"]["decision"] == "opt-out"
    assert body["current"]["whatsapp"]["source"] == "staff"
    assert body["current"]["sms"] is None
    assert body["current"]["email"] is None
    assert body["current"]["voice"] is None
    assert [(h["decision"], h["source"]) for h in body["history"]] == [
        ("opt-out", "staff"),
        ("opt-in", "registration"),
    ]
    stored = await fhir.search("Consent", {"patient": f"Patient/{pid}"})
    assert len(stored) == 2
    assert {c["status"] for c in stored} == {"active"}
    for consent in stored:
        outcome = await fhir.validate(consent, profile=PROFILE_CONSENT)
        errors = [i for i in outcome.get("issue", []) if i["severity"] in ("error", "fatal")]
        assert errors == []
    assert (
        await service.opt_out_of(fhir, patient_id=pid, channel="whatsapp", marketing=False) is Purpose.CONTACT
    )
    assert await service.opt_out_of(fhir, patient_id=pid, channel="sms", marketing=True) is None
    assert (
        await service.may_contact(fhir, patient_id=pid, channel="whatsapp", business_initiated=False) is False
    )


async def test_a_message_is_refused_after_an_opt_out(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, app: FastAPI
) -> None:
    pid = (await make_patient(api, staff))["id"]
    services = app.state.services
    actor = Actor(kind=AgentKind.STAFF, user="reception@test")

    async def send(text: str) -> None:
        await prepare_message(
            fhir, services.state, services.queue, patient_id=pid, channel="sms", text=text, sender=actor,
            at=services.clock.now(),
        )  # fmt: skip

    await send("Hello")
    assert (await _put(api, staff, pid, "sms", {"decision": "opt-out"})).status_code == 200

    with pytest.raises(OptedOut):
        await send("Hello again")
    assert len(await fhir.search("Communication", {"subject": f"Patient/{pid}"})) == 1


async def test_the_latest_decision_by_date_wins_over_the_last_written(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    pid = (await make_patient(api, staff))["id"]
    actor = Actor(kind=AgentKind.STAFF, user="reception@test")
    for decision, day in ((Decision.OPT_IN, 2), (Decision.OPT_OUT, 1)):
        await service.record(
            fhir,
            patient_id=pid,
            channel="voice",
            decision=decision,
            source=ConsentSource.IMPORT,
            actors=[actor],
            recorded_at=datetime(2026, 1, day, tzinfo=UTC),
        )

    assert (await service.current(fhir, patient_id=pid))["voice"] == Decision.OPT_IN


async def test_unknown_patient_is_404(api: httpx.AsyncClient, staff: dict[str, str]) -> None:
    got = await api.get("/api/v1/patients/no-such-patient/consents", headers=staff)
    put = await _put(api, staff, "no-such-patient", "sms", {"decision": "opt-in"})

    assert got.status_code == 404
    assert got.json() == {"error": "not_found", "message": "Patient 'no-such-patient' does not exist"}
    assert put.status_code == 404
    assert put.json() == got.json()


async def test_bad_channel_or_decision_is_422_naming_the_field(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    pid = (await make_patient(api, staff))["id"]

    fax = await _put(api, staff, pid, "fax", {"decision": "opt-in"})
    email = await _put(api, staff, pid, "email", {"decision": "opt-in"})
    maybe = await _put(api, staff, pid, "sms", {"decision": "maybe"})
    source = await _put(api, staff, pid, "sms", {"decision": "opt-in", "source": "rumour"})

    assert fax.status_code == 422
    assert fax.json()["fields"][0]["field"] == "path.channel"
    assert email.status_code == 422
    why = "consents are recorded for whatsapp, sms, voice, not 'email'"
    assert email.json() == {
        "error": "validation_error",
        "message": f"channel: {why}",
        "fields": [{"field": "channel", "message": why}],
    }
    assert maybe.status_code == 422
    assert maybe.json()["fields"][0]["field"] == "body.decision"
    assert source.status_code == 422
    assert source.json()["fields"][0]["field"] == "body.source"
    assert await fhir.search("Consent", {"patient": f"Patient/{pid}"}) == []


async def test_consents_need_a_staff_key(api: httpx.AsyncClient) -> None:
    assert (await api.get("/api/v1/patients/x/consents")).status_code == 401


async def test_the_demo_seed_records_each_consent_once(
    demo_clinic: None, fhir: FhirClient, app: FastAPI
) -> None:
    services = app.state.services
    again = await load_demo(
        fhir,
        services.directory,
        services.state,
        now=datetime.now(UTC),
        mrn_prefix=services.settings.mrn_prefix,
        horizon_days=1,
    )

    assert again.consents_recorded == 0
    assert again.created == 0
    for person in demo_directory()["patients"]:
        [patient] = await find_by_phone(fhir, phone=person["phone"], region="IN")
        consents = await fhir.search("Consent", {"patient": f"Patient/{patient['id']}"})
        per_channel = sorted(r.channel for c in consents if (r := record_of(c)) is not None)
        assert per_channel == sorted(person["consents"])
        current = await service.current(fhir, patient_id=patient["id"])
        assert {c: current[c] for c in person["consents"]} == person["consents"]
        assert {e["url"]: e.get("valueCode") for e in patient["extension"]}[EXT_PREFERRED_CHANNEL] == (
            person["preferred_channel"]
        )
    org = await fhir.read("Organization", ORGANIZATION_ID)
    assert org["telecom"] == [{"system": "phone", "value": demo_directory()["organization"]["phone"]}]
    assert org["contact"][0]["telecom"][0]["value"] == demo_directory()["organization"]["emergency_phone"]
