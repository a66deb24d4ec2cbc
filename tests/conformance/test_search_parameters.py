"""The PRM's custom SearchParameters find resources written after they were loaded, and resources
written before a parameter existed (HAPI reindexes them by itself after the SearchParameter write)."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from pathlib import Path

import pytest

from app.conformance import LoadReport, load_conformance, read_conformance_resources
from app.fhir.canonical import (
    EXT_BOOKING_CHANNEL,
    EXT_CHANNEL,
    EXT_CONVERSATION_TAG,
    EXT_ESTIMATED_VALUE,
    EXT_PREFERRED_CHANNEL,
    EXT_SOURCE_CHANNEL,
    EXT_THREAD,
    EXT_TICKET_CATEGORY,
    SID_STAFF_USER,
)
from app.fhir.client import FhirClient, Resource
from tests.conformance.conftest import Made
from tests.conformance.support import new_from, set_extension
from tests.factories import unique

pytestmark = pytest.mark.integration

# Seconds HAPI may take to reindex old resources for a new parameter (measured: about 5 s with
# hapi-config's Batch2 tuning, about 110 s with HAPI's defaults).
REINDEX_TIMEOUT_SECONDS = 180
SEARCH_PARAMETERS = {
    r["id"]: r for r in read_conformance_resources() if r["resourceType"] == "SearchParameter"
}
ISO_4217 = "urn:iso:std:iso:4217"


async def write_one_of_each(made: Made, thread: str) -> dict[str, tuple[Resource, str, str]]:
    """One new resource per custom parameter: SearchParameter id -> (resource, code value that
    matches it, a value of the same kind that does not)."""
    appointment = new_from("Appointment/prm-example-appointment")
    patient = new_from("Patient/prm-example-patient")
    opportunity = new_from("Task/prm-example-opportunity")
    ticket = new_from("Task/prm-example-ticket")
    message = new_from("Communication/prm-example-communication")
    conversation = new_from("Task/prm-example-conversation")
    set_extension(conversation, EXT_CONVERSATION_TAG, valueString="billing-query")
    set_extension(appointment, EXT_BOOKING_CHANNEL, valueCode="voice")
    set_extension(patient, EXT_PREFERRED_CHANNEL, valueCode="sms")
    set_extension(opportunity, EXT_SOURCE_CHANNEL, valueCode="campaign")
    set_extension(opportunity, EXT_ESTIMATED_VALUE, valueMoney={"value": 2750.50, "currency": "INR"})
    set_extension(ticket, EXT_TICKET_CATEGORY, valueCode="billing")
    set_extension(message, EXT_THREAD, valueString=thread)
    set_extension(message, EXT_CHANNEL, valueCode="sms")
    ex = {"appointment": appointment, "patient": patient, "opportunity": opportunity, "ticket": ticket,
          "message": message, "conversation": conversation}  # fmt: skip
    stored = {name: await made.create(resource) for name, resource in ex.items()}
    return {
        "appointment-booking-channel": (stored["appointment"], "voice", "whatsapp"),
        "patient-preferred-channel": (stored["patient"], "sms", "email"),
        "patient-tag": (stored["patient"], "needs-interpreter", "vip"),  # the example's tag
        "task-source-channel": (stored["opportunity"], "campaign", "referral"),
        "task-estimated-value": (stored["opportunity"], f"ge2750|{ISO_4217}|INR", f"gt2750.5|{ISO_4217}|INR"),
        "task-ticket-category": (stored["ticket"], "billing", "complaint"),
        # The example ticket is due 2026-01-11T12:00:00+05:30.
        "task-due": (stored["ticket"], "lt2026-01-11T12:00:01+05:30", "lt2026-01-11T12:00:00+05:30"),
        "communication-conversation-thread": (stored["message"], thread, thread + "-other"),
        "prm-channel": (stored["message"], "sms", "whatsapp"),
        "task-conversation-tag": (stored["conversation"], "billing-query", "billing"),
        "task-channel": (stored["conversation"], "whatsapp", "sms"),
        "task-owner-identifier": (
            stored["conversation"],
            f"{SID_STAFF_USER}|reception@example",
            f"{SID_STAFF_USER}|someone@example",
        ),
    }


async def matches(fhir: FhirClient, resource: Resource, code: str, value: str) -> int:
    """How many resources match `code=value`, restricted to this one resource's id."""
    return await fhir.count(resource["resourceType"], {code: value, "_id": resource["id"]})


async def test_every_custom_parameter_finds_a_resource_written_after_it(fhir: FhirClient, made: Made) -> None:
    written = await write_one_of_each(made, unique("thread-"))

    found = {
        sp: await matches(fhir, r, SEARCH_PARAMETERS[sp]["code"], hit) for sp, (r, hit, _) in written.items()
    }
    missed = {
        sp: await matches(fhir, r, SEARCH_PARAMETERS[sp]["code"], miss)
        for sp, (r, _, miss) in written.items()
    }

    assert set(written) == set(SEARCH_PARAMETERS)
    assert found == dict.fromkeys(SEARCH_PARAMETERS, 1)
    assert missed == dict.fromkeys(SEARCH_PARAMETERS, 0)


async def test_the_channel_parameter_covers_consents_and_reminders(fhir: FhirClient, made: Made) -> None:
    consent = await made.create(
        set_extension(new_from("Consent/prm-example-consent"), EXT_CHANNEL, valueCode="sms")
    )
    reminder = await made.create(new_from("CommunicationRequest/prm-example-reminder"))

    assert await matches(fhir, consent, "channel", "sms") == 1
    assert await matches(fhir, consent, "channel", "whatsapp") == 0
    assert await matches(fhir, reminder, "channel", "whatsapp") == 1


async def test_a_thread_search_is_exact_not_a_prefix_match(fhir: FhirClient, made: Made) -> None:
    thread = unique("thread-")
    message = set_extension(
        new_from("Communication/prm-example-communication"), EXT_THREAD, valueString=thread
    )
    await made.create(message)

    assert await fhir.count("Communication", {"conversation-thread": thread}) == 1
    assert await fhir.count("Communication", {"conversation-thread": thread[:-1]}) == 0


async def test_every_custom_parameter_finds_resources_written_before_it_existed(
    fhir: FhirClient, made: Made, tmp_path: Path
) -> None:
    # Resources first, then a copy of each SearchParameter under a fresh code, loaded by the loader.
    written = await write_one_of_each(made, unique("thread-"))
    tag = unique("t")
    variants = {}
    for sp_id, parameter in SEARCH_PARAMETERS.items():
        variant = copy.deepcopy(parameter)
        variant["id"] = f"{tag}-{sp_id}"[:64]
        variant["url"] = parameter["url"] + "-" + tag
        variant["code"] = f"{parameter['code']}-{tag}"
        variant["name"] = variant["code"].replace("-", "_")
        variants[sp_id] = variant
        path = tmp_path / "SearchParameter" / f"{variant['id']}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(variant), encoding="utf-8")

    try:
        report: LoadReport = await load_conformance(fhir, include_examples=False, profiles_dir=tmp_path)
        started = time.monotonic()
        pending = dict(written)
        while pending and time.monotonic() - started < REINDEX_TIMEOUT_SECONDS:
            for sp_id, (resource, hit, _) in list(pending.items()):
                if await matches(fhir, resource, variants[sp_id]["code"], hit) == 1:
                    del pending[sp_id]
            await asyncio.sleep(1)
        misses = {
            sp_id: await matches(fhir, resource, variants[sp_id]["code"], miss)
            for sp_id, (resource, _, miss) in written.items()
        }
    finally:
        for variant in variants.values():
            await fhir.delete("SearchParameter", variant["id"])

    assert sorted(report.created) == sorted(f"SearchParameter/{v['id']}" for v in variants.values())
    assert set(report.activated_search_parameters) == {v["id"] for v in variants.values()}
    assert all(seconds < 10 for seconds in report.activated_search_parameters.values())
    assert list(pending) == [], f"not reindexed within {REINDEX_TIMEOUT_SECONDS}s"
    assert misses == dict.fromkeys(SEARCH_PARAMETERS, 0)


async def test_estimated_value_compares_amounts_and_currencies(fhir: FhirClient, made: Made) -> None:
    task = new_from("Task/prm-example-opportunity")
    set_extension(task, EXT_ESTIMATED_VALUE, valueMoney={"value": 1200, "currency": "INR"})
    stored = await made.create(task)

    values = ["1200", "gt1000", "lt1000", f"1200|{ISO_4217}|INR", f"1200|{ISO_4217}|USD"]
    results = {value: await matches(fhir, stored, "estimated-value", value) for value in values}

    assert results == {
        "1200": 1,
        "gt1000": 1,
        "lt1000": 0,
        f"1200|{ISO_4217}|INR": 1,
        f"1200|{ISO_4217}|USD": 0,
    }
