"""What a voice-agent platform tells the PRM after a call: the native post-call event (DESIGN.md 6.3).

The webhook adapters (adapters/voice_agent) parse the native body, or map a platform's own payload,
into a `VoiceEvent`; the PROCESS_VOICE_EVENT job carries it (`to_payload`) to app/calls. Unknown
fields are kept at every level (`extras()` lists them) and stored with the call. It carries phone
numbers, names and the transcript: never logged.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

# Ids become job ids, FHIR identifier values and token searches: no separators of either.
VendorId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:\-]{1,128}$")]
Text = Annotated[str, StringConstraints(max_length=20_000)]
Short = Annotated[str, StringConstraints(max_length=200)]
# The one event the PRM acts on; other event names are acknowledged and ignored.
CALL_COMPLETED = "call.completed"


class VoiceIntent(StrEnum):
    """What the platform's model says the caller wanted."""

    BOOK_APPOINTMENT = "book_appointment"
    RESCHEDULE_APPOINTMENT = "reschedule_appointment"
    CANCEL_APPOINTMENT = "cancel_appointment"
    INQUIRY = "inquiry"
    COMPLAINT = "complaint"
    CALLBACK = "callback"
    EMERGENCY = "emergency"
    OTHER = "other"


class _Open(BaseModel):
    """Unknown fields are kept, never rejected (the platform may add some)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Call(_Open):
    """The call itself."""

    id: VendorId
    direction: Literal["inbound", "outbound"] = "inbound"
    from_: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(alias="from")
    to: Annotated[str, StringConstraints(max_length=32)] | None = None
    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    duration_seconds: float | None = Field(default=None, ge=0)
    language: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")] | None = None
    agent_id: Short | None = None


class Recording(_Open):
    """Where the platform keeps the audio."""

    url: Annotated[str, StringConstraints(pattern=r"^https?://", max_length=2000)]
    content_type: Short | None = None
    duration_seconds: float | None = Field(default=None, ge=0)


class Segment(_Open):
    """One turn of the conversation."""

    speaker: Short
    start: float = Field(ge=0)
    end: float = Field(ge=0)
    text: Text


class Transcript(_Open):
    """What was said: the whole text and its turns."""

    text: Text | None = None
    segments: list[Segment] = Field(default_factory=list, max_length=2000)


class CallerDetails(_Open):
    """Who the platform's model thinks called."""

    name: Short | None = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    dob: date | None = None
    gender: Literal["male", "female", "other", "unknown"] | None = None


class AppointmentRequest(_Open):
    """The appointment the caller asked for (or the one to move or cancel)."""

    practitioner_name: Short | None = None
    specialty: Short | None = None
    preferred_start: AwareDatetime | None = None
    preferred_date: date | None = None
    preferred_time: Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] | None = None
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None
    location: Short | None = None


class CallExtraction(_Open):
    """The platform's reading of the call."""

    intent: VoiceIntent
    confidence: float = Field(ge=0, le=1)
    summary: Text | None = None
    patient: CallerDetails | None = None
    appointment: AppointmentRequest | None = None


class VoiceEvent(_Open):
    """The native post-call event (DESIGN.md 6.3)."""

    event_id: VendorId
    event: Annotated[str, StringConstraints(pattern=r"^[a-z_]+(\.[a-z_]+)*$", max_length=64)]
    call: Call
    recording: Recording | None = None
    transcript: Transcript | None = None
    extraction: CallExtraction | None = None

    @property
    def caller(self) -> str:
        """The patient's side of the call: who called in, or who the agent called."""
        return self.call.from_ if self.call.direction == "inbound" else (self.call.to or self.call.from_)

    def to_payload(self) -> dict[str, Any]:
        """The job payload (JSON, extra fields included)."""
        return self.model_dump(mode="json", by_alias=True)

    def extras(self) -> dict[str, Any]:
        """Every field the contract does not define, by dotted path (`call.sip_trunk`, `metadata`)."""
        found: dict[str, Any] = {}
        _collect(self, "", found)
        return found


def _collect(model: BaseModel, prefix: str, found: dict[str, Any]) -> None:
    for name, value in (model.model_extra or {}).items():
        found[prefix + name] = value
    for name in type(model).model_fields:
        value = getattr(model, name)
        key = (type(model).model_fields[name].alias or name) + "."
        if isinstance(value, BaseModel):
            _collect(value, prefix + key, found)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    _collect(item, f"{prefix}{key}{index}.", found)
