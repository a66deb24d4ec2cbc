"""Executing message plans: queue free text or a filled template (the sending rules apply at send time)."""

from __future__ import annotations

from typing import Any

from app.assistant.execute.common import Execution, Executor, plan_tag, ref_id
from app.assistant.schemas import Plan
from app.errors import Invalid
from app.messaging import service as messaging
from app.ports.nlu import Intent
from app.vocabulary import ContactChannel

CORRECTABLE: dict[Intent, tuple[str, ...]] = {
    Intent.SEND_MESSAGE: ("patient", "message", "channel"),
}
REQUIRED: dict[Intent, tuple[tuple[str, ...], ...]] = {
    Intent.SEND_MESSAGE: (("patient", "message"), ("patient", "template", "variables")),
}


async def _message(
    plan: Plan, form: dict[str, Any], ex: Execution, written: list[str]
) -> dict[str, str | None]:
    patient_id = ref_id(form.get("patient"), "Patient", "patient")
    channel = ContactChannel(form.get("channel") or ContactChannel.WHATSAPP)
    if form.get("template"):
        if not form.get("variables"):
            raise Invalid("form.variables", f"the values of template {form['template']} are unknown")
        message = await messaging.prepare_template_message(
            ex.fhir,
            ex.state,
            ex.queue,
            template=str(form["template"]),
            variables=dict(form["variables"]),
            channel=channel,
            patient_id=patient_id,
            sender=ex.actors[0],
            at=ex.now,
            instruction=ex.instruction,
            key=f"assistant/{plan.plan_id}",
        )
    elif form.get("message"):
        message = await messaging.prepare_message(
            ex.fhir,
            ex.state,
            ex.queue,
            patient_id=patient_id,
            channel=channel,
            text=str(form["message"]),
            sender=ex.actors[0],
            at=ex.now,
            instruction=ex.instruction,
            identifier=plan_tag(plan),
        )
    else:
        raise Invalid("form.message", "the message is empty")
    written.append(f"Communication/{message['id']}")
    return {"patient": f"Patient/{patient_id}"}


EXECUTORS: dict[Intent, Executor] = {
    Intent.SEND_MESSAGE: _message,
}
