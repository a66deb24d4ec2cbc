"""The FHIR shape of a segment (Group, profile prm-segment) and the Patient search it pushes into HAPI.

A segment is a definitional Group (actual false, no members): one characteristic per criterion (codes of
CodeSystem segment-criterion), AND-ed. The `segment-search` extension holds the part HAPI evaluates as a
Patient search (gender, language, opportunity stage through `_has`, the staff's own search); age bands
become birthdate ranges at evaluation time (they move with the date), and what FHIR search cannot say
exactly (visits, upcoming appointments, journeys, consents, engagement) is applied in `evaluate.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlencode

from app.fhir.builders import code_in, coding, extension, extension_value, meta_profile
from app.fhir.canonical import (
    CS_CHANNEL,
    CS_ENGAGEMENT_LEVEL,
    CS_OPPORTUNITY_STAGE,
    CS_SEGMENT_CRITERION,
    CS_SPECIALTY,
    EXT_SEGMENT_SEARCH,
    PROFILE_SEGMENT,
)
from app.fhir.client import Resource

GENDER_SYSTEM = "http://hl7.org/fhir/administrative-gender"
BCP47 = "urn:ietf:bcp:47"
UCUM = "http://unitsofmeasure.org"
# Search parameters the evaluation sets itself; a segment's own search may not.
RESERVED_PARAMETERS = (
    "_count",
    "_elements",
    "_offset",
    "_summary",
    "_total",
    "_sort",
    "_include",
    "_revinclude",
)


@dataclass(frozen=True)
class Criteria:
    """A segment's definition: every criterion set is required of a member (None: not a criterion)."""

    age_min: int | None = None
    age_max: int | None = None
    gender: str | None = None
    specialty_seen: str | None = None
    practitioner_seen: str | None = None
    last_visit_before: date | None = None
    last_visit_after: date | None = None
    upcoming_appointment: bool | None = None
    journey: str | None = None
    opportunity_stage: str | None = None
    language: str | None = None
    channel_consent: str | None = None
    marketing_opt_out: bool | None = None
    engagement: str | None = None
    search: str | None = None

    def in_code(self) -> bool:
        """Whether any criterion is applied in the PRM (so a count needs the full evaluation)."""
        return any(
            getattr(self, name) is not None
            for name in (
                "specialty_seen",
                "practitioner_seen",
                "last_visit_before",
                "last_visit_after",
                "upcoming_appointment",
                "journey",
                "channel_consent",
                "marketing_opt_out",
                "engagement",
            )
        )


@dataclass(frozen=True)
class Segment:
    """A stored segment."""

    id: str
    name: str
    description: str | None
    criteria: Criteria
    search: str


def static_search(criteria: Criteria) -> list[tuple[str, str]]:
    """The Patient search parameters that do not depend on the date: active patients, then the criteria
    HAPI can evaluate exactly, then the segment's own search."""
    params = [("active:not", "false")]
    if criteria.gender:
        params.append(("gender", criteria.gender))
    if criteria.language:
        params.append(("language", criteria.language))
    if criteria.opportunity_stage:
        params.append(
            ("_has:Task:patient:business-status", f"{CS_OPPORTUNITY_STAGE}|{criteria.opportunity_stage}")
        )
    return params + own_search(criteria.search)


def own_search(search: str | None) -> list[tuple[str, str]]:
    """The staff's extra Patient search (a query string) as parameters."""
    return parse_qsl(search or "", keep_blank_values=True)


def reserved_in(search: str | None) -> list[str]:
    """Parameters of the segment's own search that the evaluation controls."""
    return sorted({key for key, _ in own_search(search) if key in RESERVED_PARAMETERS})


def age_search(criteria: Criteria, today: date) -> list[tuple[str, str]]:
    """The age band as birthdate bounds on `today` (age >= min: born on or before today minus min years)."""
    params = []
    if criteria.age_min is not None:
        params.append(("birthdate", f"le{_years_before(today, criteria.age_min).isoformat()}"))
    if criteria.age_max is not None:
        params.append(("birthdate", f"gt{_years_before(today, criteria.age_max + 1).isoformat()}"))
    return params


def _years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February in a year without one
        return today.replace(year=today.year - years, day=28)


def _criterion(code: str, **value: Any) -> Resource:
    return {"code": {"coding": [coding(CS_SEGMENT_CRITERION, code)]}, **value, "exclude": False}


def _concept(system: str, code: str) -> Resource:
    return {"coding": [coding(system, code)]}


def _characteristics(c: Criteria) -> list[Resource]:
    found: list[Resource] = []
    if c.age_min is not None or c.age_max is not None:
        band: Resource = {}
        if c.age_min is not None:
            band["low"] = {"value": c.age_min, "unit": "a", "system": UCUM, "code": "a"}
        if c.age_max is not None:
            band["high"] = {"value": c.age_max, "unit": "a", "system": UCUM, "code": "a"}
        found.append(_criterion("age", valueRange=band))
    coded = (
        ("gender", GENDER_SYSTEM, c.gender),
        ("specialty-seen", CS_SPECIALTY, c.specialty_seen),
        ("opportunity-stage", CS_OPPORTUNITY_STAGE, c.opportunity_stage),
        ("language", BCP47, c.language),
        ("channel-consent", CS_CHANNEL, c.channel_consent),
        ("engagement", CS_ENGAGEMENT_LEVEL, c.engagement),
    )
    found += [_criterion(code, valueCodeableConcept=_concept(s, v)) for code, s, v in coded if v]
    if c.practitioner_seen:
        found.append(
            _criterion(
                "practitioner-seen", valueReference={"reference": f"Practitioner/{c.practitioner_seen}"}
            )
        )
    if c.last_visit_before or c.last_visit_after:
        period = {
            k: v.isoformat() for k, v in (("start", c.last_visit_after), ("end", c.last_visit_before)) if v
        }
        found.append(_criterion("last-visit", valueBoolean=True, period=period))
    if c.upcoming_appointment is not None:
        found.append(_criterion("upcoming-appointment", valueBoolean=c.upcoming_appointment))
    if c.marketing_opt_out is not None:
        found.append(_criterion("marketing-opt-out", valueBoolean=c.marketing_opt_out))
    if c.journey:
        found.append(_criterion("journey", valueCodeableConcept={"text": c.journey}))
    return found


def segment_resource(*, name: str, description: str | None, criteria: Criteria) -> Resource:
    """A new prm-segment Group for a definition."""
    group: Resource = {
        "resourceType": "Group",
        "meta": meta_profile(PROFILE_SEGMENT),
        "extension": [extension(EXT_SEGMENT_SEARCH, valueString=urlencode(static_search(criteria)))],
        "type": "person",
        "actual": False,
        "name": name,
        "characteristic": _characteristics(criteria),
    }
    if description:
        group["text"] = {"status": "generated", "div": _div(description)}
    return group


def _div(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<div xmlns="http://www.w3.org/1999/xhtml">{escaped}</div>'


def _description(group: Resource) -> str | None:
    div = str((group.get("text") or {}).get("div") or "")
    inner = div.split(">", 1)[1].rsplit("</div>", 1)[0] if ">" in div else ""
    return inner.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") or None


def criteria_of(group: Resource) -> Criteria:
    """Read a segment's definition back (characteristics it does not know are ignored)."""
    values: dict[str, Any] = {}
    for item in group.get("characteristic", []):
        code = code_in(item.get("code"), CS_SEGMENT_CRITERION)
        concept = item.get("valueCodeableConcept")
        systems = {
            "gender": GENDER_SYSTEM,
            "specialty-seen": CS_SPECIALTY,
            "opportunity-stage": CS_OPPORTUNITY_STAGE,
            "language": BCP47,
            "channel-consent": CS_CHANNEL,
            "engagement": CS_ENGAGEMENT_LEVEL,
        }
        if code in systems:
            values[code.replace("-", "_")] = code_in(concept, systems[code])
        elif code == "age":
            band = item.get("valueRange") or {}
            values["age_min"] = _int((band.get("low") or {}).get("value"))
            values["age_max"] = _int((band.get("high") or {}).get("value"))
        elif code == "practitioner-seen":
            ref = str((item.get("valueReference") or {}).get("reference", ""))
            values["practitioner_seen"] = ref.removeprefix("Practitioner/") or None
        elif code == "last-visit":
            period = item.get("period") or {}
            values["last_visit_before"] = _date(period.get("end"))
            values["last_visit_after"] = _date(period.get("start"))
        elif code in ("upcoming-appointment", "marketing-opt-out") and isinstance(
            item.get("valueBoolean"), bool
        ):
            values[code.replace("-", "_")] = item["valueBoolean"]
        elif code == "journey":
            values["journey"] = (concept or {}).get("text")
    search = str(extension_value(group, EXT_SEGMENT_SEARCH) or "")
    known = set(urlencode(static_search(Criteria(**values))).split("&"))
    extra = [part for part in search.split("&") if part and part not in known]
    values["search"] = "&".join(extra) or None
    names = {f.name for f in fields(Criteria)}
    return Criteria(**{k: v for k, v in values.items() if k in names})


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _date(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def segment_of(group: Resource) -> Segment:
    """A stored Group read as a segment."""
    return Segment(
        id=str(group.get("id", "")),
        name=str(group.get("name") or ""),
        description=_description(group),
        criteria=criteria_of(group),
        search=str(extension_value(group, EXT_SEGMENT_SEARCH) or ""),
    )
