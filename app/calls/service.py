"""Processing one post-call event (the PROCESS_VOICE_EVENT job): the caller's patient (matched by
E.164 phone, or registered from the extraction), the call on the patient's voice thread with its
recording and transcript, then the action its intent calls for (app/calls/actions.py).

Idempotent: the call is a conditional create on its id, and the action is recorded on the call
(Communication.about) and keyed on the call id; a replayed event stores nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from app.calls import actions
from app.calls import resources as res
from app.calls.rules import CallRules
from app.conversations import service as conversations
from app.directory.index import DirectoryCache
from app.errors import Conflict
from app.fhir.builders import Actor, AgentKind, provenance
from app.fhir.bundle import Transaction, response_resources
from app.fhir.client import FhirClient, Resource
from app.fhir.records import update_edited
from app.language.phones import InvalidPhone, normalize_phone
from app.locking import exclusive
from app.patients import service as patients
from app.ports.media import MediaFetcher, MediaRejected, MediaUnavailable
from app.ports.state import StateStore
from app.ports.voice import VoiceEvent

log = structlog.get_logger(__name__)

VOICE_AGENT = Actor(kind=AgentKind.VOICE_AGENT)
# Several patients share the caller's number: the one named this well (0-100) is the caller.
NAME_ACCEPT = 88


@dataclass(frozen=True)
class CallOutcome:
    """What a call became: its Communication, its patient, and what it led to."""

    communication: str
    patient: str | None
    outcome: tuple[str, ...]


async def process_call(
    fhir: FhirClient,
    state: StateStore,
    directory: DirectoryCache,
    *,
    event: VoiceEvent,
    rules: CallRules,
    fetcher: MediaFetcher | None,
    now: datetime,
) -> CallOutcome:
    """Record a finished call and act on it once (a replay returns what the first run did)."""
    async with exclusive(state, "voice-call", event.call.id):
        existing = await fhir.search("Communication", res.call_search(event.call.id), limit=1)
        call = existing[0] if existing else None
        if call is None:
            patient_id, address = await _caller(fhir, state, event, rules)
            thread = await conversations.ensure_conversation(
                fhir, state, channel="voice", address=address, patient_id=patient_id, at=event.call.started_at
            )
            call = await _record(
                fhir,
                event,
                thread_id=str(thread["id"]),
                patient_id=patient_id,
                fetcher=fetcher if rules.fetch_recordings else None,
            )
            await conversations.record_message(
                fhir, str(thread["id"]), at=event.call.started_at, inbound=event.call.direction == "inbound"
            )
        patient_id = _patient_of(call)
        done = res.outcome_of(call)
        if not done and event.extraction is not None:
            done = await actions.act(
                actions.Act(
                    fhir=fhir, state=state, directory=directory, rules=rules, now=now, actor=VOICE_AGENT
                ),
                event=event,
                extraction=event.extraction,
                patient_id=patient_id,
            )
            if done:
                call = await _mark(fhir, call, done)
    log.info(
        "voice.call.processed",
        communication=f"Communication/{call['id']}",
        call_id=event.call.id,
        patient=f"Patient/{patient_id}" if patient_id else None,
        intent=event.extraction.intent.value if event.extraction else None,
        outcome=done,
    )
    return CallOutcome(
        f"Communication/{call['id']}", f"Patient/{patient_id}" if patient_id else None, tuple(done)
    )


def _patient_of(call: Resource) -> str | None:
    ref = str((call.get("subject") or {}).get("reference", ""))
    return ref.removeprefix("Patient/") if ref.startswith("Patient/") else None


async def _caller(
    fhir: FhirClient, state: StateStore, event: VoiceEvent, rules: CallRules
) -> tuple[str | None, str]:
    """(the caller's patient id or None, the thread address): matched by the number, else registered
    from the extraction when it gives a name (the number, or the one the caller said, as the phone)."""
    said = event.extraction.patient if event.extraction else None
    phones = [p for p in (event.caller, said.phone if said else None) if p]
    e164 = next((n for n in (_e164(p, rules.region) for p in phones) if n), None)
    if e164 is None:
        return None, event.caller
    found = sorted(
        await patients.find_by_phone(fhir, phone=e164, region=rules.region), key=lambda p: str(p["id"])
    )
    if len(found) > 1 and said and said.name:
        found = [p for p in found if patients.name_score(said.name, p) >= NAME_ACCEPT] or found
    if len(found) == 1:
        return str(found[0]["id"]), e164
    if found or not (said and said.name):
        return None, e164
    patient, created = await patients.register(
        fhir,
        state,
        name=said.name,
        phone=e164,
        region=rules.region,
        gender=said.gender,
        birth_date=said.dob,
        preferred_language=None,
        preferred_channel=None,
        actors=[VOICE_AGENT],
        mrn_prefix=rules.mrn_prefix,
    )
    if created:
        log.info("voice.caller.registered", patient=f"Patient/{patient['id']}", call_id=event.call.id)
    return str(patient["id"]), e164


def _e164(raw: str, region: str) -> str | None:
    try:
        return normalize_phone(raw, region=region)
    except InvalidPhone:
        return None


async def _record(
    fhir: FhirClient,
    event: VoiceEvent,
    *,
    thread_id: str,
    patient_id: str | None,
    fetcher: MediaFetcher | None,
) -> Resource:
    """The call, its recording and transcript, and their Provenance in one transaction (conditional on
    the call id: a concurrent or earlier run's resources are returned, not duplicated)."""
    call_id = event.call.id
    tx = Transaction()
    targets: list[str] = []
    if event.recording is not None:
        binary, size, why_not = None, None, None
        if fetcher is not None:
            try:
                media = await fetcher.fetch(event.recording.url)
                binary = tx.update(res.recording_binary(call_id, media.data, media.content_type, patient_id))
                size, targets = media.size, [binary]
            except (MediaRejected, MediaUnavailable) as exc:
                why_not = getattr(exc, "reason", "unavailable")
                log.info("voice.recording.not_downloaded", call_id=call_id, reason=why_not)
        document = res.recording_document(
            event, event.recording, binary=binary, size=size, why_not=why_not, patient_id=patient_id
        )
        targets.append(tx.create(document, if_none_exist=res.call_search(call_id, res.RECORDING_SUFFIX)))
    if event.transcript is not None:
        document = res.transcript_document(event, event.transcript, patient_id=patient_id)
        targets.append(tx.create(document, if_none_exist=res.call_search(call_id, res.TRANSCRIPT_SUFFIX)))
    documents = [t for t in targets if not t.startswith("Binary/")]
    communication = res.call_communication(
        event, thread_id=thread_id, patient_id=patient_id, documents=documents
    )
    call_ref = tx.create(communication, if_none_exist=res.call_search(call_id))
    tx.create(provenance(targets=[call_ref, *targets], actors=[VOICE_AGENT], activity="call.record"))
    written = response_resources(await fhir.transaction(tx.bundle()))
    call = next(r for r in written if r.get("resourceType") == "Communication")
    log.info(
        "voice.call.recorded",
        communication=f"Communication/{call['id']}",
        call_id=call_id,
        documents=len(documents),
    )
    return call


async def _mark(fhir: FhirClient, call: Resource, outcome: list[str]) -> Resource:
    """Record on the call what it led to (a replay then does nothing)."""

    def edit(resource: Resource) -> bool:
        if res.outcome_of(resource):
            return False
        resource["about"] = [{"reference": ref} for ref in outcome]
        return True

    return await update_edited(
        fhir,
        call,
        edit,
        on_conflict=Conflict("The call kept changing while its outcome was recorded; retry"),
        actors=[VOICE_AGENT],
        activity="call.outcome",
    )
