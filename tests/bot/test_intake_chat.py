"""Pre-visit questions in WhatsApp end to end (webhook -> receive job -> bot job -> send job): offered
after a cardiology booking, answered question by question with "back" and "skip", each message a new
job (the dialogue in Redis resumes it), then extracted like the dashboard's intake."""

from __future__ import annotations

import httpx
import pytest

from app.config import Settings
from app.fhir.client import FhirClient
from tests.bot.support import Chat
from tests.clinic import make_patient

pytestmark = pytest.mark.integration

OFFER = "Would you answer 7 short questions for the doctor before your visit? Reply yes or no."
HINT = '(Reply "skip" to leave it out, "back" for the previous question.)'


async def _book_cardiology(chat: Chat) -> list[str]:
    await chat.say("heart doctor tomorrow morning")
    await chat.say("1")
    return await chat.say("yes")


async def test_a_patient_answers_the_cardiology_questions_in_chat(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, settings: Settings, demo_clinic: None
) -> None:
    patient = await make_patient(api, staff, preferred_language="en")
    chat = Chat(api, fhir, settings, patient["phone"])
    ref = f"Patient/{patient['id']}"

    assert (await _book_cardiology(chat))[1] == OFFER
    assert await chat.say("yes") == ["1/7. What is the main reason for your visit?"]
    symptoms = await chat.say("Chest pain on walking")
    assert symptoms[0].startswith(
        "2/7. Which of these symptoms do you have?\n1. Chest pain\n2. Breathlessness"
    )
    assert symptoms[1:] == ["You can name several, separated by commas.", HINT]
    assert (await chat.say("1, palpitations"))[0] == "3/7. Do you smoke or chew tobacco?"
    assert (await chat.say("back"))[0].startswith("2/7. ")
    assert (await chat.say("1, 2"))[0] == "3/7. Do you smoke or chew tobacco?"
    assert (await chat.say("no"))[0].startswith("4/7. Are you allergic")
    assert (await chat.say("skip"))[0].startswith("5/7. Which medicines")
    assert (await chat.say("Aspirin 75"))[0].startswith("6/7. Do you have any long-term conditions")
    assert (await chat.say("Diabetes, high BP"))[0].startswith("7/7. I confirm these answers")
    assert await chat.say("skip") == [
        "This question needs an answer.",
        "7/7. I confirm these answers and agree that the clinic keeps them in my record.",
        "Reply yes or no.",
    ]
    assert await chat.say("yes") == ["Thank you, your answers are saved for the doctor."]

    [response] = await fhir.search("QuestionnaireResponse", {"subject": ref})
    answers = {i["linkId"]: i["answer"] for i in response["item"]}
    assert response["questionnaire"].endswith("/Questionnaire/intake-cardiology|1.0.0")
    assert answers["symptoms"] == [{"valueString": "Chest pain"}, {"valueString": "Breathlessness"}]
    assert answers["smoker"] == [{"valueBoolean": False}]
    assert "allergies" not in answers
    conditions = await fhir.search("Condition", {"subject": ref})
    assert sorted(c["code"]["text"] for c in conditions) == ["Diabetes", "high BP"]
    [medicine] = await fhir.search("MedicationStatement", {"subject": ref})
    assert medicine["medicationCodeableConcept"]["text"] == "Aspirin 75"
    assert await fhir.search("AllergyIntolerance", {"patient": ref}) == []
    [appointment] = await fhir.search("Appointment", {"patient": ref, "status": "booked"})
    assert appointment["reasonCode"] == [{"text": "Chest pain on walking"}]
    provenance = await fhir.search("Provenance", {"target": f"QuestionnaireResponse/{response['id']}"})
    assert provenance[0]["agent"][0]["type"]["coding"][0]["code"] == "whatsapp-bot"


async def test_questions_come_in_hindi_and_a_refused_offer_writes_nothing(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, settings: Settings, demo_clinic: None
) -> None:
    hindi = await make_patient(api, staff, preferred_language="hi")
    declining = await make_patient(api, staff, preferred_language="en")
    chat, other = Chat(api, fhir, settings, hindi["phone"]), Chat(api, fhir, settings, declining["phone"])

    await _book_cardiology(chat)
    first = await chat.say("haan")
    await _book_cardiology(other)
    declined = await other.say("no")

    assert first == ["1/7. आप किस मुख्य कारण से डॉक्टर को दिखाना चाहते हैं?"]
    assert declined == ["Okay. The clinic may ask these questions at your visit."]
    assert await fhir.search("QuestionnaireResponse", {"subject": f"Patient/{declining['id']}"}) == []
