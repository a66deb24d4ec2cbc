"""Intake against the real HAPI: the questionnaires are listed in three languages, answers are checked
against them, and a submission writes exactly the expected resources in one transaction."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.fhir.client import FhirClient
from tests.clinic import Clinic, bookable, make_patient

pytestmark = pytest.mark.integration

CARDIOLOGY = {
    "chief-complaint": "Chest pain when climbing stairs",
    "symptoms": ["chest pain", "सांस फूलना"],
    "smoker": False,
    "allergies": ["Penicillin", "Peanuts"],
    "medications": ["Metformin 500 mg"],
    "conditions": ["Diabetes", "High blood pressure"],
    "consent": True,
}


async def _search(fhir: FhirClient, kind: str, param: str, patient_id: str) -> list[dict[str, Any]]:
    return await fhir.search(kind, {param: f"Patient/{patient_id}"})


async def test_the_questionnaires_are_listed_in_english_hindi_and_kannada(
    api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    listed = await api.get("/api/v1/questionnaires", headers=staff)

    assert listed.status_code == 200, listed.text
    by_id = {q["id"]: q for q in listed.json()}
    assert {"intake-general", "intake-cardiology", "intake-orthopedics"} <= set(by_id)
    cardiology = by_id["intake-cardiology"]
    assert cardiology["version"] == "1.0.0"
    assert cardiology["specialty"] == "cardiology"
    assert set(cardiology["title"]) == {"en", "hi", "kn"}
    links = [q["link_id"] for q in cardiology["questions"]]
    assert links == [
        "chief-complaint",
        "symptoms",
        "smoker",
        "allergies",
        "medications",
        "conditions",
        "consent",
    ]
    for question in cardiology["questions"]:
        assert set(question["text"]) == {"en", "hi", "kn"}, question["link_id"]
    assert by_id["intake-orthopedics"]["questions"][2] | {"text": None} == {
        "link_id": "pain-score", "type": "integer", "text": None, "required": False, "repeats": False,
        "options": [], "minimum": 0, "maximum": 10,
    }  # fmt: skip


async def test_an_intake_is_extracted_into_problems_allergies_medicines_and_the_appointment_reason(
    api: httpx.AsyncClient, admin: dict[str, str], staff: dict[str, str], clinic: Clinic, fhir: FhirClient
) -> None:
    _, slot, patient = await bookable(api, admin, staff, clinic)
    booked = await api.post(
        "/api/v1/appointments",
        json={"slot": slot, "patient": patient["id"], "reason": "Checkup", "channel": "dashboard"},
        headers=staff,
    )
    assert booked.status_code == 201, booked.text

    sent = await api.post(
        f"/api/v1/patients/{patient['id']}/intake",
        json={"questionnaire": "intake-cardiology", "version": "1.0.0", "answers": CARDIOLOGY},
        headers=staff,
    )

    assert sent.status_code == 201, sent.text
    out = sent.json()
    assert (len(out["conditions"]), len(out["allergies"]), len(out["medications"])) == (2, 2, 1)
    assert out["appointment"] == f"Appointment/{booked.json()['id']}"
    pid = patient["id"]
    conditions = await _search(fhir, "Condition", "subject", pid)
    allergies = await _search(fhir, "AllergyIntolerance", "patient", pid)
    medications = await _search(fhir, "MedicationStatement", "subject", pid)
    responses = await _search(fhir, "QuestionnaireResponse", "subject", pid)
    assert sorted(c["code"]["text"] for c in conditions) == ["Diabetes", "High blood pressure"]
    assert sorted(a["code"]["text"] for a in allergies) == ["Peanuts", "Penicillin"]
    assert [m["medicationCodeableConcept"]["text"] for m in medications] == ["Metformin 500 mg"]
    assert len(responses) == 1
    qr = responses[0]
    assert qr["questionnaire"] == "https://fhir.prm.health/Questionnaire/intake-cardiology|1.0.0"
    symptoms = next(i for i in qr["item"] if i["linkId"] == "symptoms")
    assert symptoms["answer"] == [{"valueString": "Chest pain"}, {"valueString": "Breathlessness"}]
    assert medications[0]["derivedFrom"] == [{"reference": out["questionnaire_response"]}]
    assert conditions[0]["evidence"][0]["detail"] == [{"reference": out["questionnaire_response"]}]
    appointment = await fhir.read("Appointment", booked.json()["id"])
    assert {"text": "Chest pain when climbing stairs"} in appointment["reasonCode"]
    provenance = await fhir.search("Provenance", {"target": out["questionnaire_response"]})
    targets = {t["reference"] for t in provenance[0]["target"]}
    assert targets == {
        out["questionnaire_response"], *out["conditions"], *out["allergies"], *out["medications"], out["appointment"]
    }  # fmt: skip

    view = (await api.get(f"/api/v1/patients/{pid}/360", headers=staff)).json()["intake"]
    assert view["latest"]["chief-complaint"] == ["Chest pain when climbing stairs"]
    assert view["latest_questionnaire"].endswith("intake-cardiology|1.0.0")
    assert sorted(c["text"] for c in view["conditions"]) == ["diabetes", "high blood pressure"]
    assert len(view["allergies"]) == 2 and len(view["medications"]) == 1

    general = {k: v for k, v in CARDIOLOGY.items() if k != "smoker"}
    general |= {"symptoms": ["Fever"], "conditions": ["diabetes", "Asthma"], "allergies": []}
    again = await api.post(
        f"/api/v1/patients/{pid}/intake",
        json={"questionnaire": "intake-general", "answers": general},
        headers=staff,
    )
    assert again.status_code == 201, again.text
    assert (
        len(again.json()["conditions"]),
        len(again.json()["allergies"]),
        len(again.json()["medications"]),
    ) == (
        1,
        0,
        0,
    )
    assert len(await _search(fhir, "Condition", "subject", pid)) == 3


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"chief-complaint": None}, "answers.chief-complaint"),
        ({"symptoms": ["Sneezing"]}, "answers.symptoms"),
        ({"smoker": "yes"}, "answers.smoker"),
        ({"consent": False}, "answers.consent"),
        ({"chief-complaint": ["a", "b"]}, "answers.chief-complaint"),
        ({"favourite-colour": "blue"}, "answers.favourite-colour"),
    ],
)
async def test_bad_answers_are_refused_naming_the_question_and_nothing_is_written(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, change: dict[str, Any], field: str
) -> None:
    patient = await make_patient(api, staff)

    sent = await api.post(
        f"/api/v1/patients/{patient['id']}/intake",
        json={"questionnaire": "intake-cardiology", "answers": {**CARDIOLOGY, **change}},
        headers=staff,
    )

    assert sent.status_code == 422, sent.text
    assert field in sent.text
    assert await _search(fhir, "QuestionnaireResponse", "subject", patient["id"]) == []
    assert await _search(fhir, "Condition", "subject", patient["id"]) == []


async def test_a_pain_score_out_of_range_and_a_stale_version_are_refused(
    api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    patient = await make_patient(api, staff)
    url = f"/api/v1/patients/{patient['id']}/intake"
    answers = {"chief-complaint": "Knee pain", "pain-score": 11, "consent": True}

    out_of_range = await api.post(
        url, json={"questionnaire": "intake-orthopedics", "answers": answers}, headers=staff
    )
    stale = await api.post(
        url,
        json={
            "questionnaire": "intake-orthopedics",
            "version": "0.9.0",
            "answers": {**answers, "pain-score": 7},
        },
        headers=staff,
    )
    unknown = await api.post(url, json={"questionnaire": "intake-dental", "answers": answers}, headers=staff)
    no_patient = await api.post(
        "/api/v1/patients/no-such-patient/intake",
        json={"questionnaire": "intake-orthopedics", "answers": {**answers, "pain-score": 7}},
        headers=staff,
    )
    ok = await api.post(
        url,
        json={"questionnaire": "intake-orthopedics", "answers": {**answers, "pain-score": 7}},
        headers=staff,
    )

    assert out_of_range.status_code == 422 and "answers.pain-score" in out_of_range.text
    assert stale.status_code == 422 and stale.json()["fields"][0]["field"] == "version"
    assert unknown.status_code == 404
    assert no_patient.status_code == 404
    assert ok.status_code == 201, ok.text
    assert ok.json()["appointment"] is None
