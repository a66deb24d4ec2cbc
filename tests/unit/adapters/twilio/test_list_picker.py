"""WhatsApp list messages through TwilioMessenger.send_list and the list-picker Contents (Twilio faked: respx)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from adapters.twilio.content import CONTENT_URL, create_list_pickers, list_picker_definition
from adapters.twilio.messenger import TwilioMessenger
from app.ports.messaging import Choice, ChoiceList, MessageChannel, MessageRejected, Recipient

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
PATIENT_PHONE = "+919844111173"
WHATSAPP = Recipient(MessageChannel.WHATSAPP, PATIENT_PHONE)
SMS = Recipient(MessageChannel.SMS, PATIENT_PHONE)
SID = "SM0123456789abcdef0123456789abcdef"
PICKERS = {n: f"HX{n:032x}" for n in range(1, 11)}
TEXT = "Free times with Dr. Rao:\n1. 2 December 2026, 10:30 AM - Dr. Rao (Whitefield)\n2. ..."
SLOTS = ChoiceList(
    body="Free times with Dr. Rao:",
    button="Choose",
    choices=(
        Choice("slot-a", "2 December, 10:30 AM", "Dr. Rao (Whitefield)"),
        Choice("slot-b", "2 December, 11:00 AM", "Dr. Rao (Whitefield)"),
    ),
)


@pytest.fixture
def twilio() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=2.0) as client:
        yield client


def messenger(http: httpx.AsyncClient, pickers: dict[int, str] | None = None) -> TwilioMessenger:
    return TwilioMessenger(
        account_sid=ACCOUNT_SID,
        auth_token="test-twilio-auth-token",
        whatsapp_from="+14155238886",
        sms_from="+15005550006",
        public_base_url="https://prm.clinic.example",
        list_picker_sids=PICKERS if pickers is None else pickers,
        http_client=http,
    )


def sent_form(route: respx.Route) -> dict[str, str]:
    assert route.call_count == 1
    return {k: v[0] for k, v in parse_qs(route.calls.last.request.content.decode()).items()}


async def test_a_whatsapp_list_goes_as_the_list_picker_for_its_row_count(
    twilio: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    route = twilio.post(MESSAGES_URL).respond(201, json={"sid": SID, "status": "queued"})

    result = await messenger(http).send_list(WHATSAPP, TEXT, SLOTS, reference="comm-1")

    assert result.provider_id == SID
    form = sent_form(route)
    assert form["ContentSid"] == PICKERS[2]
    assert json.loads(form["ContentVariables"]) == {
        "1": "Free times with Dr. Rao:",
        "2": "Choose",
        "3": "2 December, 10:30 AM",
        "4": "slot-a",
        "5": "Dr. Rao (Whitefield)",
        "6": "2 December, 11:00 AM",
        "7": "slot-b",
        "8": "Dr. Rao (Whitefield)",
    }
    assert "Body" not in form
    assert form["To"] == f"whatsapp:{PATIENT_PHONE}"


@pytest.mark.parametrize(
    ("to", "pickers"),
    [(SMS, PICKERS), (WHATSAPP, {}), (WHATSAPP, {1: PICKERS[1]})],
    ids=["sms", "no-list-pickers", "none-for-two-rows"],
)
async def test_without_a_list_the_numbered_text_goes(
    twilio: respx.MockRouter, http: httpx.AsyncClient, to: Recipient, pickers: dict[int, str]
) -> None:
    route = twilio.post(MESSAGES_URL).respond(201, json={"sid": SID, "status": "queued"})

    await messenger(http, pickers).send_list(to, TEXT, SLOTS, reference="comm-2")

    form = sent_form(route)
    assert form["Body"] == TEXT
    assert "ContentSid" not in form


async def test_eleven_options_are_cut_to_ten(twilio: respx.MockRouter, http: httpx.AsyncClient) -> None:
    route = twilio.post(MESSAGES_URL).respond(201, json={"sid": SID, "status": "queued"})
    eleven = ChoiceList(
        "Pick one", "Choose", tuple(Choice(f"id-{n}", f"Option {n}", "x") for n in range(1, 12))
    )

    await messenger(http).send_list(WHATSAPP, TEXT, eleven, reference="comm-3")

    form = sent_form(route)
    assert form["ContentSid"] == PICKERS[10]
    variables = json.loads(form["ContentVariables"])
    assert len(variables) == 2 + 3 * 10
    assert (variables["30"], variables["31"]) == ("Option 10", "id-10")


async def test_long_or_empty_texts_are_fitted_to_twilios_limits(
    twilio: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    route = twilio.post(MESSAGES_URL).respond(201, json={"sid": SID, "status": "queued"})
    long = ChoiceList(
        body="b" * 1100,
        button="Choose one of these times please",
        choices=(
            Choice("slot-a", "Wednesday 24 September 2026, 10:30 AM", "Dr. " + "Venkatanarasimha " * 6),
            Choice("slot-b", "  2 Dec\n10:30  ", None),
        ),
    )

    await messenger(http).send_list(WHATSAPP, TEXT, long, reference="comm-4")

    variables = json.loads(sent_form(route)["ContentVariables"])
    assert variables["3"] == "Wednesday 24 September\u2026" and len(variables["3"]) == 23
    assert len(variables["1"]) == 1024 and variables["1"].endswith("\u2026")
    assert len(variables["2"]) <= 20 and variables["2"].endswith("\u2026")
    assert len(variables["5"]) <= 72 and variables["5"].startswith("Dr. Venkatanarasimha")
    # A title on one line; a missing description is the title (Twilio refuses an empty variable).
    assert variables["6"] == variables["8"] == "2 Dec 10:30"
    assert all(len(variables[str(title)]) <= 24 for title in (3, 6))


def test_a_list_picker_content_has_a_variable_for_every_text() -> None:
    definition = list_picker_definition(3)

    picker = definition["types"]["twilio/list-picker"]
    assert (picker["body"], picker["button"]) == ("{{1}}", "{{2}}")
    assert picker["items"] == [
        {"item": "{{3}}", "id": "{{4}}", "description": "{{5}}"},
        {"item": "{{6}}", "id": "{{7}}", "description": "{{8}}"},
        {"item": "{{9}}", "id": "{{10}}", "description": "{{11}}"},
    ]
    assert set(definition["variables"]) == {str(n) for n in range(1, 12)}
    assert all(len(definition["variables"][str(n)]) <= 24 for n in (3, 6, 9))
    with pytest.raises(ValueError, match="1 to 10 rows"):
        list_picker_definition(11)


async def test_the_ten_contents_are_created_and_their_sids_returned(
    twilio: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    answers = iter(httpx.Response(201, json={"sid": PICKERS[n]}) for n in range(1, 11))
    route = twilio.post(CONTENT_URL).mock(side_effect=lambda request: next(answers))

    sids = await create_list_pickers(http, account_sid=ACCOUNT_SID, auth_token="token")

    assert sids == PICKERS
    bodies = [json.loads(call.request.content) for call in route.calls]
    assert [b["friendly_name"] for b in bodies] == [f"prm_list_picker_{n}" for n in range(1, 11)]
    assert [len(b["types"]["twilio/list-picker"]["items"]) for b in bodies] == list(range(1, 11))
    assert route.calls.last.request.headers["authorization"].startswith("Basic ")


async def test_a_refused_content_names_twilios_code(
    twilio: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    twilio.post(CONTENT_URL).respond(400, json={"code": 20001, "message": "Invalid types"})

    with pytest.raises(MessageRejected, match="code 20001") as refused:
        await create_list_pickers(http, account_sid=ACCOUNT_SID, auth_token="token")

    assert refused.value.provider_code == "20001"
