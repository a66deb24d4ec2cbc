"""Scripted WhatsApp conversations for the bot's tests: a patient writes (a signed Twilio webhook), a real
rq worker runs the receive, bot and send jobs, and the test reads back what the bot replied from HAPI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from app.config import Settings
from app.fhir.canonical import SID_MESSAGE_KEY
from app.fhir.client import FhirClient
from app.messaging.resources import message_of
from tests.messaging.twilio_webhooks import communications, drain, post_signed
from tests.support.twilio import INBOUND_PATH, inbound_form

# A turn never writes more replies than this (greeting, answer, question ...).
MAX_REPLIES = 6


@dataclass
class Chat:
    """One patient's WhatsApp conversation with the bot."""

    api: httpx.AsyncClient
    fhir: FhirClient
    settings: Settings
    phone: str
    inbound: list[dict[str, Any]] = field(default_factory=list)  # the stored inbound Communications
    announced: set[str] = field(default_factory=set)  # appointment messages already returned

    async def say(self, text: str | None, **extra: str) -> list[str]:
        """Send `text` (or a form with `extra` fields: ButtonPayload, media ...); the bot's reply texts
        (a booking, move or cancellation it made is answered with the appointment's message, first)."""
        form = inbound_form(sender=self.phone, text=text, **extra)
        response = await post_signed(self.api, INBOUND_PATH, form)
        assert response.status_code == 200, response.text
        await drain(self.settings)
        [stored] = await communications(self.fhir, form["MessageSid"])
        self.inbound.append(stored)
        return [*await self.appointment_messages(), *await replies_to(self.fhir, stored["id"])]

    async def appointment_messages(self) -> list[str]:
        """The appointment messages (keyed `appointment/...`) new on the thread since the last call."""
        texts = []
        for message in await self.fhir.search(
            "Communication", {"conversation-thread": self.thread, "_count": "200"}
        ):
            keys = [
                i.get("value", "")
                for i in message.get("identifier", [])
                if i.get("system") == SID_MESSAGE_KEY
            ]
            if message["id"] not in self.announced and any(k.startswith("appointment/") for k in keys):
                self.announced.add(message["id"])
                text = message_of(message).text
                assert text is not None
                texts.append(text)
        return texts

    @property
    def thread(self) -> str:
        """The conversation (Task) id."""
        thread = message_of(self.inbound[-1]).thread_id
        assert thread is not None
        return thread


async def replies_to(fhir: FhirClient, communication_id: str) -> list[str]:
    """The texts the bot replied to one inbound message, in order (each created once, by its key)."""
    texts = []
    for n in range(MAX_REPLIES):
        found = await fhir.search(
            "Communication", {"identifier": f"{SID_MESSAGE_KEY}|bot/{communication_id}/{n}"}
        )
        if not found:
            break
        assert len(found) == 1
        text = message_of(found[0]).text
        assert text is not None
        texts.append(text)
    return texts
