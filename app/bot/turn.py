"""One turn of the bot: the message being answered, the dialogue, what the bot will reply."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from app.bot import present, strings
from app.bot.dialogue import Dialogue
from app.directory.index import DirectoryCache
from app.fhir.builders import Actor, AgentKind
from app.fhir.client import FhirClient
from app.ports.jobs import JobQueue
from app.ports.messaging import Choice, ChoiceList
from app.ports.nlu import IntentExtractor
from app.ports.state import StateStore

BOT = Actor(kind=AgentKind.WHATSAPP_BOT)
# The dialogue's ids of the options offered last, in order: a tapped list row is its number.
OFFERED_IDS = "offered_ids"
_BLANK_LINES = re.compile(r"\n{2,}")


@dataclass(frozen=True)
class Bot:
    """What every turn runs on (from the process's services)."""

    fhir: FhirClient
    state: StateStore
    queue: JobQueue
    directory: DirectoryCache
    extractor: IntentExtractor
    region: str
    tz: ZoneInfo
    dialogue_ttl_seconds: int
    search_days: int
    ticket_sla: Mapping[str, int]  # the tickets' SLA overrides (settings.ticket_sla_minutes)
    mrn_prefix: str  # the clinic's (Settings.mrn_prefix), for patients the bot registers
    window_hours: int  # WhatsApp's session window (Settings.session_window_hours)


@dataclass
class Turn:
    """A patient's message and the bot's answer to it, built up by the flows."""

    bot: Bot
    now: datetime  # aware, in the clinic's time zone
    message_id: str  # the inbound Communication (a turn the bot starts itself: the key of what started it)
    text: str  # what the patient wrote (or said in a voice note), cleaned
    button: str | None  # the quick reply tapped, if any
    channel: str
    address: str
    conversation_id: str
    dialogue: Dialogue
    replies: list[str] = field(default_factory=list)
    lists: dict[int, ChoiceList] = field(default_factory=dict)  # reply position -> its options

    @property
    def language(self) -> str:
        """The language the bot answers in."""
        return self.dialogue.language or strings.DEFAULT_LANGUAGE

    def say(self, key: str, **values: str) -> None:
        """Add the text `key` (in the patient's language) to the replies."""
        self.replies.append(strings.text(key, self.language, **values))

    def say_text(self, text: str) -> None:
        """Add a text that is already in the patient's language (an FAQ answer)."""
        self.replies.append(text)

    def offer(self, key: str, options: Sequence[present.Option], **values: str) -> None:
        """Add the text `key` with `options` numbered in its {options}, and the same options as a list
        (shown where the channel has lists; the numbered text everywhere else)."""
        self.say(key, options=present.numbered([option.line for option in options]), **values)
        body = _BLANK_LINES.sub("\n", strings.text(key, self.language, options="", **values)).strip()
        self.lists[len(self.replies) - 1] = ChoiceList(
            body=body,
            button=strings.text("list_button", self.language),
            choices=tuple(Choice(id=o.id, title=o.title, description=o.description) for o in options),
        )
        self.dialogue.data[OFFERED_IDS] = [option.id for option in options]

    def take_tap(self) -> None:
        """A row tapped in the last list offered reads as its number, exactly as if typed."""
        offered = self.dialogue.data.get(OFFERED_IDS) or []
        if self.button is not None and self.button in offered:
            self.text = str(offered.index(self.button) + 1)
