"""The template API over the real app: render in Hindi, 422 naming a missing variable, 404 for no template."""

from __future__ import annotations

import httpx
import pytest

from app.messaging.catalog import templates

pytestmark = pytest.mark.integration

REMINDER = {
    "patient_name": "Ananya",
    "clinic_name": "Sunrise Clinic",
    "practitioner_name": "Dr. Meera Rao",
    "time": "10:30 AM",
    "location_name": "Indiranagar",
}


async def test_templates_render_in_the_patients_language(
    api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    listing = await api.get("/api/v1/templates", headers=staff)
    response = await api.post(
        "/api/v1/templates/appointment_reminder_2h/render",
        json={"language": "hi-IN", "variables": REMINDER},
        headers=staff,
    )

    assert listing.status_code == 200
    assert sorted(t["name"] for t in listing.json()) == sorted(t.name for t in templates())
    assert response.status_code == 200
    assert response.json() == {
        "name": "appointment_reminder_2h",
        "version": 1,
        "language": "hi",
        "body": "नमस्ते Ananya, Sunrise Clinic (Indiranagar) में Dr. Meera Rao के साथ आपका अपॉइंटमेंट लगभग 2 घंटे "
        "में, 10:30 AM पर है। कृपया जवाब देकर पुष्टि करें, समय बदलें या रद्द करें।",
        "subject": None,
        "quick_replies": [
            {"id": "confirm", "title": "पुष्टि करें"},
            {"id": "reschedule", "title": "समय बदलें"},
            {"id": "cancel", "title": "रद्द करें"},
        ],
        "content_sid": None,
    }


async def test_a_missing_variable_is_a_422_naming_it(api: httpx.AsyncClient, staff: dict[str, str]) -> None:
    variables = {k: v for k, v in REMINDER.items() if k != "time"}

    response = await api.post(
        "/api/v1/templates/appointment_reminder_2h/render", json={"variables": variables}, headers=staff
    )

    assert response.status_code == 422
    assert response.json() == {
        "error": "validation_error",
        "message": "variables.time: is required by template appointment_reminder_2h",
        "fields": [{"field": "variables.time", "message": "is required by template appointment_reminder_2h"}],
    }


async def test_an_unknown_template_is_a_404(api: httpx.AsyncClient, staff: dict[str, str]) -> None:
    rendered = await api.post("/api/v1/templates/birthday/render", json={"variables": {}}, headers=staff)
    read = await api.get("/api/v1/templates/birthday", headers=staff)

    assert rendered.status_code == 404
    assert rendered.json() == {"error": "not_found", "message": "Template 'birthday' does not exist"}
    assert read.status_code == 404
