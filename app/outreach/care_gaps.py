"""Care gaps: rules in project data (`data/care_gaps.json`) that find patients overdue for care, and one
outreach ticket per gap (identifier `<rule>/<patient>/<anchor>`, so the daily job opens each once).

Two kinds of rule:
* `journey` + `days`: a patient on an active journey of that template, started more than `days` ago,
  with no visit (fulfilled or arrived) in the last `days` days and nothing booked ahead;
* `specialty` + `days`: a patient whose last visit in that department was more than `days` ago
  (within the last year) and who has nothing in that department after it (booked, held or visited).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from pydantic import BaseModel, ConfigDict, model_validator

from app.fhir.builders import Actor, AgentKind, instant
from app.fhir.canonical import CS_SPECIALTY, SID_CARE_GAP, journey_template_url
from app.fhir.client import FhirClient, Resource
from app.fhir.dates import parse_datetime
from app.scheduling.resources import participant
from app.tickets.service import create_ticket

log = structlog.get_logger(__name__)

RULES_FILE = Path(__file__).with_name("data") / "care_gaps.json"
LOOKBACK_DAYS = 365
_VISITED = ("fulfilled", "arrived")
_AHEAD = "booked,pending,arrived,fulfilled"
_PATIENTS_PER_SEARCH = 40
SYSTEM = Actor(kind=AgentKind.SYSTEM)


class Rule(BaseModel):
    """One care-gap rule: a journey or a department, and the days that make a gap."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    days: int
    journey: str | None = None
    specialty: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Rule:
        if (self.journey is None) == (self.specialty is None):
            raise ValueError(f"care-gap rule {self.id}: give exactly one of journey and specialty")
        return self


@dataclass(frozen=True)
class Gap:
    """A patient a rule finds, since when (their last visit, or the journey's start), and what anchors it."""

    rule: str
    patient_id: str
    since: datetime | None
    anchor: str


def load_rules(path: Path = RULES_FILE) -> list[Rule]:
    """The rules of the project data file."""
    return [Rule.model_validate(r) for r in json.loads(path.read_text())]


async def _appointments(
    fhir: FhirClient, patients: list[str], *, statuses: str, since: datetime
) -> list[Resource]:
    found: list[Resource] = []
    for i in range(0, len(patients), _PATIENTS_PER_SEARCH):
        chunk = ",".join(f"Patient/{p}" for p in patients[i : i + _PATIENTS_PER_SEARCH])
        params = [("patient", chunk), ("status", statuses), ("date", f"ge{instant(since)}")]
        found += await fhir.search("Appointment", params)
    return found


async def _journey_gaps(fhir: FhirClient, rule: Rule, *, now: datetime) -> list[Gap]:
    cutoff = now - timedelta(days=rule.days)
    plans = await fhir.search(
        "CarePlan", {"instantiates-canonical": journey_template_url(str(rule.journey)), "status": "active"}
    )
    started = {}
    for plan in plans:
        patient = str((plan.get("subject") or {}).get("reference", "")).removeprefix("Patient/")
        start = parse_datetime((plan.get("period") or {}).get("start"))
        if patient and start is not None and start <= cutoff:
            started[patient] = (plan["id"], start)
    seen = await _appointments(fhir, sorted(started), statuses=_AHEAD, since=cutoff)
    recent = {participant(a, "Patient") for a in seen if a.get("status") in _VISITED or _ahead(a, now)}
    return [
        Gap(rule.id, patient, start, f"CarePlan/{plan_id}")
        for patient, (plan_id, start) in sorted(started.items())
        if patient not in recent
    ]


def _ahead(appointment: Resource, now: datetime) -> bool:
    start = parse_datetime(appointment.get("start"))
    return appointment.get("status") in ("booked", "pending") and start is not None and start >= now


async def _follow_up_gaps(fhir: FhirClient, rule: Rule, *, now: datetime) -> list[Gap]:
    cutoff = now - timedelta(days=rule.days)
    params = [
        ("specialty", f"{CS_SPECIALTY}|{rule.specialty}"),
        ("status", _AHEAD),
        ("date", f"ge{instant(now - timedelta(days=LOOKBACK_DAYS))}"),
    ]
    by_patient: dict[str, list[Resource]] = defaultdict(list)
    for appointment in await fhir.search("Appointment", params):
        if (patient := participant(appointment, "Patient")) and parse_datetime(appointment.get("start")):
            by_patient[patient].append(appointment)
    gaps = []
    for patient, appointments in sorted(by_patient.items()):
        latest = max(appointments, key=lambda a: parse_datetime(a["start"]) or now)
        start = parse_datetime(latest["start"])
        if latest.get("status") in _VISITED and start is not None and start <= cutoff:
            gaps.append(Gap(rule.id, patient, start, f"Appointment/{latest['id']}"))
    return gaps


async def find_gaps(fhir: FhirClient, rule: Rule, *, now: datetime) -> list[Gap]:
    """The patients a rule finds today."""
    if rule.journey is not None:
        return await _journey_gaps(fhir, rule, now=now)
    return await _follow_up_gaps(fhir, rule, now=now)


def gap_key(gap: Gap) -> str:
    """The identifier value of a gap's ticket."""
    return f"{gap.rule}/{gap.patient_id}/{gap.anchor.replace('/', '-')}"


async def open_tickets(
    fhir: FhirClient, *, now: datetime, sla: Mapping[str, int], rules: list[Rule] | None = None
) -> list[str]:
    """One outreach ticket per gap of every rule (none for a gap that already has one); the new tickets' ids."""
    opened = []
    for rule in rules if rules is not None else load_rules():
        for gap in await find_gaps(fhir, rule, now=now):
            key = gap_key(gap)
            if await fhir.search("Task", {"identifier": f"{SID_CARE_GAP}|{key}"}):
                continue
            ticket = await create_ticket(
                fhir,
                patient_id=gap.patient_id,
                category="appointment",
                description=f"Care gap: {rule.title}. Contact the patient to book.",
                actors=[SYSTEM],
                identifier={"system": SID_CARE_GAP, "value": key},
                now=now,
                sla=sla,
            )
            opened.append(str(ticket["id"]))
            log.info(
                "care_gap.ticket",
                rule=rule.id,
                ticket=f"Task/{ticket['id']}",
                patient=f"Patient/{gap.patient_id}",
            )
    return opened
