"""The plan being built: normalised entities, what resolved, what is missing or unclear."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import dateparser

from app.language import terms
from app.language.periods import resolve_period
from app.language.phones import InvalidPhone, normalize_phone
from app.language.specialties import specialty_code
from app.language.when import When, resolve_when
from app.ports.nlu import ExtractedEntities, Extraction, Intent
from app.understanding.schemas import Action, Entities, FormField, Resolved
from app.vocabulary import Gender


@dataclass
class Draft:
    """Everything interpretation learns; turned into the API's Plan and kept for execution."""

    intent: Intent
    text: str
    now: datetime  # aware, in the clinic's time zone
    entities: Entities
    when: When | None
    gender: str | None = None
    birth_date: str | None = None
    resolved: Resolved = field(default_factory=Resolved)
    actions: list[Action] = field(default_factory=list)
    form: dict[str, FormField] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    clarifications: list[str] = field(default_factory=list)
    alternatives: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    answer: str | None = None  # a read intent's answer in words (else the summary words its results)
    remembered_appointment: str | None = None  # "that appointment": the session's last one, if upcoming

    def fill(self, name: str, value: Any, source: str, label: str) -> None:
        """Set one form field."""
        self.form[name] = FormField(value=value, source=source, label=label)

    def need(self, name: str, label: str, *, why: str | None = None) -> None:
        """Mark a required field as missing (and say why, if there is more to say)."""
        if name not in self.missing:
            self.missing.append(name)
        self.form.setdefault(name, FormField(value=None, source="missing", label=label))
        if why:
            self.clarifications.append(why)

    def act(self, kind: str, summary: str, *, destructive: bool = False) -> None:
        """Add an action confirming will perform (destructive: it ends or closes something)."""
        self.actions.append(Action(type=kind, summary=summary, destructive=destructive))


def normalise(extraction: Extraction, *, text: str, now: datetime, tz: ZoneInfo, region: str) -> Draft:
    """The extractor's raw entities made canonical by code: E.164 phone, specialty code, a time in
    the clinic's zone. Anything that does not normalise becomes a clarification, not a guess."""
    raw = extraction.entities
    local_now = now.astimezone(tz)
    clarifications: list[str] = []
    phone = None
    if raw.patient_phone:
        try:
            phone = normalize_phone(raw.patient_phone, region=region)
        except InvalidPhone:
            clarifications.append(f"{raw.patient_phone!r} is not a valid phone number.")
    specialty = None
    if raw.specialty:
        specialty = specialty_code(raw.specialty)
        if specialty is None:
            clarifications.append(f"I do not know the specialty {raw.specialty!r}.")
    when = resolve_when(raw.when, now=local_now) if raw.when else None
    if raw.when and when is None:
        clarifications.append(f"I could not read a date or time in {raw.when!r}.")
    entities = Entities(
        patient_phone=phone,
        patient_name=_clean(raw.patient_name),
        practitioner_name=_clean(raw.practitioner_name),
        specialty=specialty,
        start=when.start if when else None,
        date=when.date.isoformat() if when and when.date else None,
        time=when.time.strftime("%H:%M") if when and when.time else None,
        reason=_clean(raw.reason),
        message=_clean(raw.message),
        **_more_entities(raw, today=local_now.date(), region=region, clarifications=clarifications),
    )
    birth_date = None
    if raw.birth_date:
        birth_date = parse_birth_date(raw.birth_date, today=local_now.date())
        if birth_date is None:
            clarifications.append(f"I could not read the birth date {raw.birth_date!r}.")
    draft = Draft(
        intent=extraction.intent,
        text=text,
        now=local_now,
        entities=entities,
        when=when,
        gender=raw.gender if raw.gender in tuple(Gender) else None,
        birth_date=birth_date.isoformat() if birth_date else None,
    )
    draft.clarifications.extend(clarifications)
    return draft


def parse_birth_date(text: str, *, today: date) -> date | None:
    """A birth date written any usual way ("3 March 1992", "03/03/1992", "1992-03-03"), day first."""
    parsed = dateparser.parse(
        text,
        languages=["en"],
        settings={"PREFER_DATES_FROM": "past", "DATE_ORDER": "DMY", "STRICT_PARSING": True},
    )
    if parsed is None or parsed.date() > today:
        return None
    return parsed.date()


# Closed vocabularies made codes (words staff use -> the PRM's codes), and what each is called.
_CODED = {
    "category": (terms.TICKET_CATEGORIES, "ticket category"),
    "priority": (terms.TICKET_PRIORITIES, "priority"),
    "lost_reason": (terms.LOST_REASONS, "reason"),
    "channel": (terms.CHANNELS, "channel"),
    "language": (terms.LANGUAGES, "language"),
    "tag": (terms.PATIENT_TAGS, "patient tag"),
    "metric": (terms.METRICS, "figure"),
    "contact_relationship": (terms.RELATIONSHIPS, "relationship"),
}


def _more_entities(
    raw: ExtractedEntities, *, today: date, region: str, clarifications: list[str]
) -> dict[str, Any]:
    """The entities of tickets, leads, journeys, messages, patient details and reports, normalised:
    phones in E.164, a date range as days; what does not normalise becomes a clarification."""
    found: dict[str, Any] = {
        key: _clean(getattr(raw, key))
        for key in ("template", "segment", "ticket", "assignee", "stage", "email", "address", "contact_name")
    }
    found |= {"mine": raw.mine, "overdue": raw.overdue}
    for key, (table, what) in _CODED.items():
        written = _clean(getattr(raw, key))
        found[key] = terms.code_of(table, written)
        if written and found[key] is None:
            known = ", ".join(sorted(set(table.values())))
            clarifications.append(f"I do not know the {what} {written!r} (one of: {known}).")
    for key in ("new_phone", "contact_phone"):
        written = getattr(raw, key)
        if written:
            try:
                found[key] = normalize_phone(written, region=region)
            except InvalidPhone:
                clarifications.append(f"{written!r} is not a valid phone number.")
    if raw.period:
        period = resolve_period(raw.period, today=today)
        if period is None:
            clarifications.append(f"I could not read a date range in {raw.period!r}.")
        else:
            found["period_start"], found["period_end"] = (day.isoformat() for day in period)
    return found


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = " ".join(value.split()).strip(" ,.;:")
    return cleaned or None
