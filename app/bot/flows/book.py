"""Booking by chat: doctor or department -> up to 10 free slots -> the patient picks (or narrows: "afternoon",
"after 5", "next Monday"; or "none of these") -> confirm -> book. Also picks the new slot of a reschedule.

Dialogue data: `roles` (role ids searched), `who` (how they are named), `from` (ISO day the search starts),
`pref` (part_of_day / after / before), `offered` (slot ids shown) and `starts` (their ISO starts),
`chosen` (the slot to confirm), `moving` (the appointment a reschedule moves).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import structlog

from app.bot import present
from app.bot.announce import announce_booking
from app.bot.flows import intake, waitlist
from app.bot.replies import NONE_OF_THESE, Preference, pick, preference, yes_no
from app.bot.turn import BOT, Turn
from app.bot.understand import Request, understand
from app.directory.index import RoleEntry
from app.errors import SlotTaken
from app.language.specialties import SPECIALTIES
from app.language.when import resolve_when
from app.opportunities.booking import book_with_opportunity
from app.scheduling import booking
from app.scheduling.search import FreeSlot, find_free_slots
from app.vocabulary import Channel

log = structlog.get_logger(__name__)

NAME = "book"
SOURCE = "whatsapp"
MAX_OFFERED = 10
# Several doctors and days in one list: at most this many slots of the same doctor on the same day.
PER_DOCTOR_DAY = 3


def _who(roles: list[RoleEntry]) -> str:
    doctors = {r.practitioner_id for r in roles}
    if len(doctors) == 1:
        return present.doctor(roles[0].practitioner_name)
    display = {s.code: s.display for s in SPECIALTIES}
    return display.get(roles[0].specialty or "", roles[0].specialty or "")


async def start(turn: Turn, request: Request, *, moving: str | None = None) -> None:
    """Offer slots for what the patient asked, or ask which doctor or department."""
    if not request.roles:
        turn.dialogue.ask(NAME, "department", moving=moving)
        turn.say("ask_department")
        return
    pref = request.preference or (
        Preference(part_of_day=request.when.part_of_day)
        if request.when and request.when.part_of_day
        else None
    )
    day = request.when.date if request.when and request.when.date else None
    data: dict[str, Any] = {
        "roles": [r.role_id for r in request.roles],
        "who": _who(request.roles),
        "from": day.isoformat() if day else None,
        "pref": _pref_data(pref),
        "moving": moving,
    }
    turn.dialogue.finish()
    turn.dialogue.ask(NAME, "slot", **data)
    await offer(turn)


def _pref_data(pref: Preference | None) -> dict[str, str | None]:
    if pref is None:
        return {}
    return {
        "part_of_day": pref.part_of_day,
        "after": pref.after.isoformat() if pref.after else None,
        "before": pref.before.isoformat() if pref.before else None,
    }


def _pref(data: dict[str, Any]) -> Preference:
    values = data.get("pref") or {}
    return Preference(
        part_of_day=values.get("part_of_day") if values.get("part_of_day") != "night" else None,
        after=time.fromisoformat(values["after"]) if values.get("after") else None,
        before=time.fromisoformat(values["before"]) if values.get("before") else None,
    )


async def _roles(turn: Turn) -> list[RoleEntry]:
    index = await turn.bot.directory.get()
    wanted = set(turn.dialogue.data.get("roles", []))
    return [r for r in index.roles if r.role_id in wanted and r.active and r.schedule_id]


async def _search(turn: Turn) -> list[FreeSlot]:
    """Free slots of the dialogue's roles from its day on, fitting its preference, spread over doctors and days."""
    data = turn.dialogue.data
    roles = await _roles(turn)
    first = turn.now
    if data.get("from"):
        first = max(turn.now, datetime.fromisoformat(data["from"]).replace(tzinfo=turn.bot.tz))
    pref = _pref(data)
    found = await find_free_slots(
        turn.bot.fhir,
        roles,
        start=first,
        end=first + timedelta(days=turn.bot.search_days),
        now=turn.now,
        part_of_day=pref.part_of_day,
    )
    chosen: list[FreeSlot] = []
    per: dict[tuple[str, str], int] = {}
    for free in found:
        key = (free.role.practitioner_id, free.start.date().isoformat())
        if pref.fits(free.start) and per.get(key, 0) < PER_DOCTOR_DAY:
            per[key] = per.get(key, 0) + 1
            chosen.append(free)
        if len(chosen) == MAX_OFFERED:
            break
    return chosen


async def offer(turn: Turn) -> None:
    """Show the free slots (numbered, a list where the channel has one), or offer the waitlist when none fits."""
    data = turn.dialogue.data
    found = await _search(turn)
    if not found:
        if data.get("moving"):
            turn.dialogue.finish()
            turn.say("no_slots_moving", who=data["who"], days=str(turn.bot.search_days))
            return
        turn.dialogue.ask(NAME, "waitlist")
        turn.say("no_slots", who=data["who"], days=str(turn.bot.search_days))
        return
    data["offered"] = [f.slot["id"] for f in found]
    data["starts"] = [f.start.isoformat() for f in found]
    turn.dialogue.ask(NAME, "slot")
    turn.offer("slots", [present.slot_option(f, turn.language) for f in found], who=data["who"])


async def resume(turn: Turn) -> bool:
    """The patient's answer to the step the flow is at; False when it does not answer it."""
    step = turn.dialogue.step
    if step == "department":
        request = await understand(turn, turn.text)
        if not request.roles:
            return False
        await start(turn, request, moving=turn.dialogue.data.get("moving"))
        return True
    if step == "slot":
        return await _on_slot_answer(turn)
    if step == "confirm":
        if turn.button in turn.dialogue.data.get("offered", []):
            # Another row of the list tapped instead of yes/no: that slot is the choice now.
            return await _on_slot_answer(turn)
        return await _on_confirm(turn)
    if step == "waitlist":
        return await waitlist.on_answer(turn, roles=await _roles(turn))
    return False


async def _on_slot_answer(turn: Turn) -> bool:
    data = turn.dialogue.data
    starts = [datetime.fromisoformat(s) for s in data.get("starts", [])]
    # A preference first: "the evening one" narrows the list, it does not reject it.
    narrowed = preference(turn.text)
    index = pick(turn.text, starts)
    if index is None and narrowed is not None:
        data["pref"] = _pref_data(narrowed)
        await offer(turn)
        return True
    if index == NONE_OF_THESE:
        await _other_days(turn, starts)
        return True
    if index is not None:
        data["chosen"] = data["offered"][index]
        data["chosen_start"] = data["starts"][index]
        turn.dialogue.ask(NAME, "confirm")
        free = await _chosen(turn)
        if free is None:
            turn.say("slot_taken")
            await offer(turn)
            return True
        key = "confirm_move" if data.get("moving") else "confirm_booking"
        turn.say(key, **present.slot_values(free, turn.language))
        return True
    when = resolve_when(turn.text, now=turn.now)
    if when is not None and when.date is not None:
        data["from"] = when.date.isoformat()
        if when.part_of_day:
            data["pref"] = _pref_data(Preference(part_of_day=when.part_of_day))
        await offer(turn)
        return True
    return False


async def _other_days(turn: Turn, starts: list[datetime]) -> None:
    """After 'none of these': the days after the last one shown, and the whole department's doctors."""
    data = turn.dialogue.data
    if starts:
        data["from"] = (max(starts).date() + timedelta(days=1)).isoformat()
    index = await turn.bot.directory.get()
    roles = await _roles(turn)
    specialties = {r.specialty for r in roles if r.specialty}
    widened = [r for r in index.roles if r.active and r.schedule_id and r.specialty in specialties]
    if widened:
        data["roles"] = sorted({r.role_id for r in [*roles, *widened]})
        data["who"] = _who(widened)
    await offer(turn)


async def _chosen(turn: Turn) -> FreeSlot | None:
    """The chosen slot, if it is still free."""
    data = turn.dialogue.data
    start = datetime.fromisoformat(data["chosen_start"])
    found = await find_free_slots(
        turn.bot.fhir, await _roles(turn), start=start, end=start + timedelta(minutes=1), now=turn.now
    )
    return next((f for f in found if f.slot["id"] == data["chosen"]), None)


async def _on_confirm(turn: Turn) -> bool:
    answer = yes_no(turn.text)
    if answer is None:
        return False
    data = turn.dialogue.data
    if not answer:
        turn.dialogue.finish()
        turn.say("not_done")
        return True
    patient_id = turn.dialogue.patient_id
    if patient_id is None:
        return False
    try:
        appointment = await (_move if data.get("moving") else _book)(turn, patient_id)
    except SlotTaken:
        log.info(
            "bot.slot_taken", slot=f"Slot/{data['chosen']}", communication=f"Communication/{turn.message_id}"
        )
        turn.say("slot_taken")
        await offer(turn)
        return True
    moving = data.get("moving")
    await announce_booking(turn, appointment, key="moved" if moving else "booked")
    turn.dialogue.finish()
    if not moving:
        await intake.offer(turn)
    return True


async def _already(turn: Turn, patient_id: str, slot_id: str) -> dict[str, Any] | None:
    """The appointment an earlier run of this very turn made (a retried job books nothing twice)."""
    found = await turn.bot.fhir.search(
        "Appointment", {"slot": f"Slot/{slot_id}", "patient": f"Patient/{patient_id}", "status": "booked"}
    )
    return found[0] if found else None


async def _book(turn: Turn, patient_id: str) -> dict[str, Any]:
    bot, slot_id = turn.bot, turn.dialogue.data["chosen"]
    if done := await _already(turn, patient_id, slot_id):
        return done
    appointment, _ = await book_with_opportunity(
        bot.fhir,
        bot.directory,
        bot.state,
        slot_id=slot_id,
        patient_id=patient_id,
        reason=None,
        channel=Channel.WHATSAPP,
        source=SOURCE,
        actors=[BOT],
        now=turn.now,
    )
    log.info(
        "bot.booked",
        appointment=f"Appointment/{appointment['id']}",
        communication=f"Communication/{turn.message_id}",
    )
    return appointment


async def _move(turn: Turn, patient_id: str) -> dict[str, Any]:
    bot, data = turn.bot, turn.dialogue.data
    if done := await _already(turn, patient_id, data["chosen"]):
        return done
    moved = await booking.reschedule(
        bot.fhir,
        bot.directory,
        bot.state,
        appointment_id=data["moving"],
        slot_id=data["chosen"],
        actors=[BOT],
        now=turn.now,
        channel=Channel.WHATSAPP,
    )
    log.info("bot.rescheduled", appointment=f"Appointment/{moved['id']}", old=f"Appointment/{data['moving']}")
    return moved
