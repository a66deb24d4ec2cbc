"""Patient documents against the real HAPI: uploads come back byte for byte, content is sniffed (415),
the size limit holds (413), and WhatsApp media shows in the same list."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import httpx
import pytest
import respx

from adapters.twilio.media import TwilioMediaFetcher
from app.fhir.client import FhirClient
from app.messaging.media import MediaItem, store_media
from tests.clinic import make_patient
from tests.factories import unique

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.7\n" + os.urandom(4000) + b"\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(3000)
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(2000)
ACCOUNT = "AC0123456789abcdef0123456789abcdef"


async def test_an_uploaded_pdf_is_listed_and_downloads_byte_identical(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    patient = await make_patient(api, staff)

    uploaded = await api.post(
        f"/api/v1/patients/{patient['id']}/documents",
        files={"file": ("report.pdf", PDF, "application/pdf")},
        data={"type": "lab-report", "description": "CBC"},
        headers=staff,
    )
    listed = await api.get(f"/api/v1/patients/{patient['id']}/documents", headers=staff)
    content = await api.get(
        f"/api/v1/patients/{patient['id']}/documents/{uploaded.json()['id']}/content", headers=staff
    )

    assert uploaded.status_code == 201, uploaded.text
    document = uploaded.json()
    assert (document["type"], document["source"], document["content_type"], document["size"]) == (
        "Laboratory report",
        "upload",
        "application/pdf",
        len(PDF),
    )
    assert (document["title"], document["description"]) == ("report.pdf", "CBC")
    assert [d["id"] for d in listed.json()] == [document["id"]]
    assert content.status_code == 200
    assert content.content == PDF
    assert content.headers["content-type"] == "application/pdf"
    stored = await fhir.read("DocumentReference", document["id"])
    assert stored["author"][0]["identifier"]["value"] == "reception@test"
    assert stored["type"]["coding"][0]["code"] == "11502-2"


@pytest.mark.parametrize(
    ("data", "claimed", "message"),
    [
        (JPEG, "image/png", "claims to be image/png but is image/jpeg"),
        (PNG, "application/pdf", "claims to be application/pdf but is image/png"),
        (b"MZ\x90\x00 not a document", "application/pdf", "is not a PDF, JPEG or PNG file"),
        (b"<html><script>alert(1)</script>", "text/html", "is not a PDF, JPEG or PNG file"),
    ],
)
async def test_a_file_that_is_not_what_it_claims_is_415_and_nothing_is_stored(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, data: bytes, claimed: str, message: str
) -> None:
    patient = await make_patient(api, staff)

    response = await api.post(
        f"/api/v1/patients/{patient['id']}/documents",
        files={"file": ("x", data, claimed)},
        data={"type": "other"},
        headers=staff,
    )

    assert response.status_code == 415
    assert response.json()["message"] == f"file: {message}"
    assert await fhir.search("DocumentReference", {"subject": f"Patient/{patient['id']}"}) == []


async def test_a_file_over_the_limit_is_413_and_nothing_is_stored(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient, settings: object
) -> None:
    patient = await make_patient(api, staff)
    limit = settings.max_document_bytes
    big = b"%PDF-1.7\n" + b"0" * limit

    response = await api.post(
        f"/api/v1/patients/{patient['id']}/documents",
        files={"file": ("big.pdf", big, "application/pdf")},
        data={"type": "other"},
        headers=staff,
    )

    assert response.status_code == 413
    assert await fhir.search("DocumentReference", {"subject": f"Patient/{patient['id']}"}) == []


async def test_bad_form_fields_are_422_and_another_patients_document_is_404(
    api: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    owner, other = await make_patient(api, staff), await make_patient(api, staff)
    url = f"/api/v1/patients/{owner['id']}/documents"

    bad_type = await api.post(
        url, files={"file": ("a.png", PNG, "image/png")}, data={"type": "x"}, headers=staff
    )
    no_file = await api.post(url, data={"type": "other"}, headers=staff)
    uploaded = await api.post(
        url, files={"file": ("a.png", PNG, "image/png")}, data={"type": "other"}, headers=staff
    )
    foreign = await api.get(
        f"/api/v1/patients/{other['id']}/documents/{uploaded.json()['id']}/content", headers=staff
    )

    assert (bad_type.status_code, no_file.status_code, uploaded.status_code) == (422, 422, 201)
    assert foreign.status_code == 404


async def test_whatsapp_media_appears_in_the_same_list_and_downloads(
    api: httpx.AsyncClient, staff: dict[str, str], fhir: FhirClient
) -> None:
    patient = await make_patient(api, staff)
    sid = unique("MM")
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}/Media/ME0"
    twilio = respx.MockRouter(assert_all_called=True)
    twilio.get(url).mock(
        return_value=httpx.Response(200, content=JPEG, headers={"Content-Type": "image/jpeg"})
    )
    client = httpx.AsyncClient(transport=httpx.MockTransport(twilio.async_handler))
    fetcher = TwilioMediaFetcher(account_sid=ACCOUNT, auth_token="t", max_bytes=1 << 20, http_client=client)
    stored = await store_media(
        fhir,
        fetcher,
        None,
        items=[MediaItem(url, "image/jpeg")],
        patient_id=patient["id"],
        received=datetime(2026, 11, 28, 9, 30, tzinfo=UTC),
        message_sid=sid,
    )
    await api.post(
        f"/api/v1/patients/{patient['id']}/documents",
        files={"file": ("rx.png", PNG, "image/png")},
        data={"type": "prescription"},
        headers=staff,
    )

    listed = (await api.get(f"/api/v1/patients/{patient['id']}/documents", headers=staff)).json()
    whatsapp = next(d for d in listed if d["source"] == "whatsapp")
    content = await api.get(
        f"/api/v1/patients/{patient['id']}/documents/{whatsapp['id']}/content", headers=staff
    )

    assert sorted(d["source"] for d in listed) == ["upload", "whatsapp"]
    assert f"DocumentReference/{whatsapp['id']}" == stored.documents[0]
    assert content.content == JPEG
