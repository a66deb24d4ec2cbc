"""HTTP API of message templates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.errors import error_responses
from app.messaging import catalog
from app.messaging.catalog import LANGUAGES, NAME_PATTERN
from app.messaging.schemas import RenderedOut, RenderIn, TemplateOut, TemplateSummaryOut
from app.security import StaffUser

router = APIRouter(prefix="/api/v1/templates", tags=["messaging"])

TemplateName = Annotated[
    str,
    Path(pattern=NAME_PATTERN, max_length=64, description="A template name, e.g. appointment_reminder_24h"),
]


@router.get("", response_model=list[TemplateSummaryOut], responses=error_responses(401))
async def list_templates(_: StaffUser) -> list[TemplateSummaryOut]:
    """Every message template: its variables, channels and languages."""
    return [TemplateSummaryOut.of(template, LANGUAGES) for template in catalog.templates()]


@router.get("/{name}", response_model=TemplateOut, responses=error_responses(401, 404, 422))
async def get_template(name: TemplateName, _: StaffUser) -> TemplateOut:
    """One template with its text in every language."""
    return TemplateOut.full(catalog.template(name), LANGUAGES)


@router.post("/{name}/render", response_model=RenderedOut, responses=error_responses(401, 404, 422))
async def render(name: TemplateName, body: RenderIn, _: StaffUser) -> RenderedOut:
    """Fill a template in the patient's language (English when it has none); 422 names a missing or
    unknown variable."""
    return RenderedOut.of(catalog.render(name, language=body.language, variables=body.variables))
