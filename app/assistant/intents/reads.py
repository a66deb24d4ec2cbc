"""Analytics questions ("how many no-shows last week in cardiology"): answered from the analytics reports,
in one sentence and with the report's figures in the results."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from app.analytics import service as analytics
from app.analytics.rows import MAX_DAYS, Period
from app.assistant.intents.common import Context, Handler
from app.ports.nlu import Intent
from app.understanding.draft import Draft
from app.understanding.resolve import resolve_practitioner

# A question without a period is about the last 7 days up to today.
DEFAULT_DAYS = 7
# What each metric counts in the appointments report's statuses (None: every appointment).
_APPOINTMENT_STATUS = {"no-shows": "noshow", "cancellations": "cancelled", "appointments": None}


def _period(draft: Draft, ctx: Context) -> Period:
    e = draft.entities
    if e.period_start and e.period_end:
        first, last = date.fromisoformat(e.period_start), date.fromisoformat(e.period_end)
    elif draft.when and draft.when.date:
        first = last = draft.when.date
    else:
        last = draft.now.date()
        first = last - timedelta(days=DEFAULT_DAYS - 1)
    return Period(first=first, last=last, tz=ZoneInfo(ctx.timezone))


async def ask(draft: Draft, ctx: Context) -> None:
    """Answer: a count (and rate) from the analytics reports for a period, a department or a doctor."""
    metric = draft.entities.metric = draft.entities.metric or "appointments"
    period = _period(draft, ctx)
    if period.last - period.first >= timedelta(days=MAX_DAYS):
        draft.clarifications.append(f"A report covers at most {MAX_DAYS} days; ask about a shorter period.")
        return
    span = (
        f"{period.first:%d %b} to {period.last:%d %b %Y}"
        if period.first != period.last
        else f"{period.first:%d %b %Y}"
    )
    if metric in _APPOINTMENT_STATUS:
        roles = resolve_practitioner(draft, ctx.index) if draft.entities.practitioner_name else []
        if draft.entities.practitioner_name and len({r.practitioner_id for r in roles}) != 1:
            return  # the clarification asks which doctor
        report = await analytics.appointments(
            ctx.fhir,
            period=period,
            department=draft.entities.specialty if not roles else None,
            practitioner_id=roles[0].practitioner_id if roles else None,
        )
        status = _APPOINTMENT_STATUS[metric]
        count = report.body["total"] if status is None else report.body["by_status"].get(status, 0)
        where = (
            f" with Dr. {roles[0].practitioner_name}"
            if roles
            else f" in {draft.entities.specialty}"
            if draft.entities.specialty
            else ""
        )
        rate = {"no-shows": "no_show_rate", "cancellations": "cancellation_rate"}.get(metric)
        share = report.body.get(rate) if rate else None
        extra = f" (rate {share:.0%})" if isinstance(share, float) else ""
        draft.answer = f"{count} {metric}{where} from {span}{extra}."
        draft.results.append(
            {"metric": metric, "count": count, **{k: v for k, v in report.body.items() if k != "days"}}
        )
        return
    if draft.entities.specialty or draft.entities.practitioner_name:
        draft.notes.append(f"The {metric} report is clinic-wide: it is not split by doctor or department.")
    if metric == "leads":
        report = await analytics.leads(ctx.fhir, period=period)
    elif metric == "tickets":
        report = await analytics.tickets(ctx.fhir, period=period, now=ctx.real_now)
    else:
        report = await analytics.messages(ctx.fhir, period=period)
    count = report.body["total"]
    draft.answer = f"{count} {metric} from {span}."
    draft.results.append({"metric": metric, "count": count, **report.body})


HANDLERS: dict[Intent, Handler] = {Intent.ASK_ANALYTICS: ask}
