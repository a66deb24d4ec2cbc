"""Twilio's forms into the core's DTOs: what is required, what is kept, what is dropped."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from adapters.twilio.schemas import parse_message, parse_status
from app.errors import Invalid
from app.ports.inbound import DeliveryReport, InboundMedia, InboundMessage, ReportedStatus
from app.ports.messaging import MessageChannel
from tests.support.twilio import inbound_form, status_form

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


def parse(form: dict[str, str]) -> InboundMessage:
    return parse_message(form, region="IN", received_at=NOW)


def test_a_whatsapp_message_becomes_the_dto_with_e164_addresses() -> None:
    form = inbound_form(sender="+919844111173", text="Need an appointment", sid="SM" + "a" * 32)

    message = parse(form)

    assert message == InboundMessage(
        provider_id="SM" + "a" * 32,
        channel=MessageChannel.WHATSAPP,
        sender="+919844111173",
        recipient="+918041234567",
        text="Need an appointment",
        received_at=NOW,
        media=(),
        profile_name="Test Profile",
        button_payload=None,
    )


def test_a_number_without_the_whatsapp_prefix_is_sms_and_any_format_is_normalised() -> None:
    message = parse(inbound_form(sender="098441 11173", whatsapp=False))

    assert (message.channel, message.sender) == (MessageChannel.SMS, "+919844111173")


def test_media_are_kept_with_their_content_types_and_bad_urls_dropped() -> None:
    form = inbound_form(
        sender="+919844111173",
        text=None,
        NumMedia="3",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        MediaContentType0="image/jpeg",
        MediaUrl1="javascript:alert(1)",
        MediaUrl2="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2",
        MediaContentType2="audio/ogg",
    )

    message = parse(form)

    assert message.text is None
    assert message.media == (
        InboundMedia("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "image/jpeg"),
        InboundMedia("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2", "audio/ogg"),
    )


def test_malformed_optional_fields_are_dropped_not_refused() -> None:
    form = inbound_form(
        sender="+919844111173",
        text="hi\x00 there\x1b",
        To="not a number",
        NumMedia="lots",
        MediaUrl0="https://media.example/1",
        ProfileName="\x07",
        Unknown="kept out",
    )

    message = parse(form)

    assert (message.text, message.recipient, message.profile_name) == ("hi there", None, None)
    assert [m.url for m in message.media] == ["https://media.example/1"]  # NumMedia unreadable: look anyway


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"MessageSid": ""}, "MessageSid", "MessageSid: is required"),
        ({"MessageSid": "SM/../x"}, "MessageSid", "MessageSid: is not a message SID"),
        ({"From": ""}, "From", "From: is required"),
        ({"From": "whatsapp:12"}, "From", "From: is not a phone number"),
    ],
)
def test_what_the_prm_cannot_work_without_is_refused_naming_the_field(
    change: dict[str, str], field: str, message: str
) -> None:
    form = {**inbound_form(sender="+919844111173"), **change}
    form.pop("SmsMessageSid")

    with pytest.raises(Invalid) as raised:
        parse(form)

    assert raised.value.field == field
    assert raised.value.message.startswith(message)


@pytest.mark.parametrize(
    ("twilio", "recorded"),
    [("accepted", "queued"), ("queued", "queued"), ("sending", "queued"), ("sent", "sent"),
     ("delivered", "delivered"), ("read", "read"), ("failed", "failed"), ("undelivered", "undelivered")],
)  # fmt: skip
def test_twilio_statuses_map_onto_delivery_statuses(twilio: str, recorded: str) -> None:
    report = parse_status(status_form(sid="SM1", status=twilio), reported_at=NOW)

    assert report == DeliveryReport("SM1", ReportedStatus(recorded), None, NOW)


def test_a_failure_keeps_twilios_error_code_and_drops_an_unreadable_one() -> None:
    failed = parse_status(status_form(sid="SM1", status="undelivered", error_code="21610"), reported_at=NOW)
    odd = parse_status(status_form(sid="SM1", status="failed", error_code="<b>"), reported_at=NOW)

    assert failed is not None and failed.error_code == "21610"
    assert odd is not None and odd.error_code is None


def test_statuses_that_say_nothing_about_delivery_are_ignored_and_a_missing_one_refused() -> None:
    assert parse_status(status_form(sid="SM1", status="canceled"), reported_at=NOW) is None
    with pytest.raises(Invalid, match="MessageStatus: is required"):
        parse_status({"MessageSid": "SM1"}, reported_at=NOW)


def test_payloads_round_trip_through_json() -> None:
    message = parse(inbound_form(sender="+919844111173", NumMedia="1", MediaUrl0="https://m.example/1"))
    report = DeliveryReport("SM1", ReportedStatus.FAILED, "30008", NOW)

    assert InboundMessage.from_payload(json.loads(json.dumps(message.to_payload()))) == message
    assert DeliveryReport.from_payload(json.loads(json.dumps(report.to_payload()))) == report


def test_a_list_reply_carries_the_picked_rows_id_and_its_title_as_text() -> None:
    form = inbound_form(
        sender="+919844111173", text="2 December, 11:00 AM", ListId="slot-b", ListTitle="ignored"
    )
    without_body = inbound_form(sender="+919844111173", text=None, ListId="slot-b", ListTitle="2 December")

    assert (parse(form).list_id, parse(form).text) == ("slot-b", "2 December, 11:00 AM")
    assert (parse(without_body).list_id, parse(without_body).text) == ("slot-b", "2 December")
    assert parse(inbound_form(sender="+919844111173", ListId="x" * 300)).list_id == "x" * 200
    assert parse(inbound_form(sender="+919844111173", ListId="  ")).list_id is None
    assert InboundMessage.from_payload(json.loads(json.dumps(parse(form).to_payload()))) == parse(form)
