"""HTTP API of analytics (staff): each report as JSON, or as CSV with `Accept: text/csv`."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from app.analytics import service
from app.analytics.rows import MAX_DAYS, Period
from app.analytics.schemas import AppointmentsReport, CallsReport, LeadsReport, MessagesReport, TicketsReport
from app.analytics.service import Report
from app.deps import AppSettings, Fhir, Now
from app.errors import Invalid, error_responses
from app.inputs import QueryId
from app.security import StaffUser

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

_WHEN = "A local date (2026-12-01) or an ISO-8601 time with an offset (its local date counts)"
_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "The report"}
}


def _day(value: str, field: str, tz: ZoneInfo) -> date:
    """The local date a query value names."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(field, f"{value!r} is not a date (2026-12-01) or an ISO-8601 time") from None
    if moment.tzinfo is None:
        raise Invalid(field, "a time needs an offset (2026-12-01T00:00:00+05:30)")
    return moment.astimezone(tz).date()


def period(
    settings: AppSettings,
    start: Annotated[str, Query(max_length=40, description=_WHEN)],
    end: Annotated[str, Query(max_length=40, description=_WHEN + "; included")],
) -> Period:
    """The report's period from the query, in the clinic's time zone."""
    tz = ZoneInfo(settings.default_timezone)
    first, last = _day(start, "start", tz), _day(end, "end", tz)
    if last < first:
        raise Invalid("end", "must not be before start")
    if last - first >= timedelta(days=MAX_DAYS):
        raise Invalid("end", f"a report covers at most {MAX_DAYS} days")
    return Period(first=first, last=last, tz=tz)


ReportPeriod = Annotated[Period, Depends(period)]


def _answer(request: Request, report: Report, model: type[BaseModel], name: str, when: Period) -> Any:
    """The report as CSV when the caller accepts it, else as its JSON model."""
    if "text/csv" not in request.headers.get("accept", ""):
        return model.model_validate(report.body)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(report.columns)
    writer.writerows(["" if v is None else v for v in row] for row in report.rows)
    filename = f"{name}-{when.first.isoformat()}-{when.last.isoformat()}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/appointments",
    response_model=AppointmentsReport,
    responses={**_CSV, **error_responses(401, 403, 422, 503)},
)
async def appointments(
    request: Request,
    when: ReportPeriod,
    fhir: Fhir,
    _: StaffUser,
    location: QueryId = None,
    practitioner: QueryId = None,
    department: Annotated[
        str | None, Query(pattern=r"^[a-z][a-z-]{1,40}$", description="A specialty code")
    ] = None,
) -> Any:
    """Appointments starting in the period, per day and in all, with no-show and cancellation rates."""
    report = await service.appointments(
        fhir, period=when, location_id=location, practitioner_id=practitioner, department=department
    )
    return _answer(request, report, AppointmentsReport, "appointments", when)


@router.get("/leads", response_model=LeadsReport, responses={**_CSV, **error_responses(401, 403, 422, 503)})
async def leads(request: Request, when: ReportPeriod, fhir: Fhir, _: StaffUser) -> Any:
    """The lead funnel and conversion by source, of the leads created in the period."""
    return _answer(request, await service.leads(fhir, period=when), LeadsReport, "leads", when)


@router.get(
    "/tickets", response_model=TicketsReport, responses={**_CSV, **error_responses(401, 403, 422, 503)}
)
async def tickets(request: Request, when: ReportPeriod, fhir: Fhir, now: Now, _: StaffUser) -> Any:
    """Ticket volume, SLA compliance and the median time to resolve, of the tickets opened in the period."""
    return _answer(request, await service.tickets(fhir, period=when, now=now), TicketsReport, "tickets", when)


@router.get(
    "/messages", response_model=MessagesReport, responses={**_CSV, **error_responses(401, 403, 422, 503)}
)
async def messages(request: Request, when: ReportPeriod, fhir: Fhir, _: StaffUser) -> Any:
    """Message volume and delivery and read rates by channel."""
    return _answer(request, await service.messages(fhir, period=when), MessagesReport, "messages", when)


@router.get("/calls", response_model=CallsReport, responses={**_CSV, **error_responses(401, 403, 422, 503)})
async def calls(request: Request, when: ReportPeriod, fhir: Fhir, _: StaffUser) -> Any:
    """Voice call outcomes."""
    return _answer(request, await service.calls(fhir, period=when), CallsReport, "calls", when)
