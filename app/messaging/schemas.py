"""API models of message templates."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.inputs import InputModel
from app.messaging.catalog import NAME_PATTERN, Rendered, Template

# A BCP-47 tag such as `hi` or `kn-IN`; anything we have no template language for falls back to English.
LANGUAGE_TAG = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
VariableName = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
VariableValue = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class TemplateSummaryOut(BaseModel):
    """What a template needs and where it can go."""

    name: str
    version: int
    category: str
    channels: list[str]
    languages: list[str]
    variables: dict[str, str] = Field(description="Each variable's name and what it holds")

    @classmethod
    def of(cls, template: Template, languages: tuple[str, ...]) -> TemplateSummaryOut:
        return cls(
            name=template.name,
            version=template.version,
            category=template.category,
            channels=[str(channel) for channel in template.channels],
            languages=list(languages),
            variables=dict(template.variables),
        )


class QuickReplyOut(BaseModel):
    """A quick reply and its title in each language."""

    id: str
    title: dict[str, str]


class TranslationOut(BaseModel):
    """A template's text in one language, placeholders as written."""

    body: str
    subject: str | None
    content_sid: str | None


class TemplateOut(TemplateSummaryOut):
    """A template with its quick replies and its text in every language."""

    quick_replies: list[QuickReplyOut]
    translations: dict[str, TranslationOut]

    @classmethod
    def full(cls, template: Template, languages: tuple[str, ...]) -> TemplateOut:
        summary = TemplateSummaryOut.of(template, languages)
        return cls(
            **summary.model_dump(),
            quick_replies=[
                QuickReplyOut(id=reply.id, title=reply.title.model_dump()) for reply in template.quick_replies
            ],
            translations={
                language: TranslationOut(**template.translation(language).model_dump())
                for language in languages
            },
        )


class RenderIn(InputModel):
    """Values for a template's variables, and the patient's preferred language."""

    language: str | None = Field(
        default=None,
        pattern=LANGUAGE_TAG,
        max_length=35,
        description="The patient's preferred language (BCP-47); English when left out or not available",
        examples=["hi", "kn-IN"],
    )
    variables: dict[VariableName, VariableValue] = Field(max_length=50, examples=[{"patient_name": "Ananya"}])


class RenderedReplyOut(BaseModel):
    """A quick reply in the rendered language."""

    id: str
    title: str


class RenderedOut(BaseModel):
    """A filled-in template."""

    name: str
    version: int
    language: str = Field(description="The language used (the preferred one, or the English fallback)")
    body: str
    subject: str | None = Field(description="Email subject; null for templates not sent by email")
    quick_replies: list[RenderedReplyOut]
    content_sid: str | None = Field(description="Twilio ContentSid of this template and language, if mapped")

    @classmethod
    def of(cls, rendered: Rendered) -> RenderedOut:
        return cls(
            name=rendered.name,
            version=rendered.version,
            language=rendered.language,
            body=rendered.body,
            subject=rendered.subject,
            quick_replies=[RenderedReplyOut(id=r.id, title=r.title) for r in rendered.quick_replies],
            content_sid=rendered.content_sid,
        )
