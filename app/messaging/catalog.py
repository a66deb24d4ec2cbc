"""Message templates: versioned JSON files in `templates/`, checked when this module is imported, rendered
by plain `{{variable}}` substitution (no template engine: patient text can never run as code)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from app.errors import Invalid, NotFound
from app.inputs import control_character
from app.vocabulary import ContactChannel

TEMPLATES_DIR = Path(__file__).with_name("templates")
# Every template exists in each of these; English is the fallback for any other preference.
LANGUAGES: tuple[str, ...] = ("en", "hi", "kn")
DEFAULT_LANGUAGE = "en"
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
_PLACEHOLDER = re.compile(r"\{\{([a-z][a-z0-9_]{0,63})\}\}")
# WhatsApp limits: a template body is at most 1024 characters, a quick-reply button title 20.
MAX_BODY = 1024
MAX_BUTTON_TITLE = 20

Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_BODY)]
ButtonTitle = Annotated[str, StringConstraints(min_length=1, max_length=MAX_BUTTON_TITLE)]
# A Twilio Content API template id.
ContentSid = Annotated[str, StringConstraints(pattern=r"^HX[0-9a-f]{32}$")]


class TemplateFileError(RuntimeError):
    """A template file is malformed; the message names the file."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Titles(_Strict):
    """A quick-reply title in every language."""

    en: ButtonTitle
    hi: ButtonTitle
    kn: ButtonTitle


class QuickReply(_Strict):
    """A button the patient can tap instead of typing; its id comes back in the reply."""

    id: Name
    title: Titles


class Translation(_Strict):
    """One language of a template."""

    body: Text
    subject: Text | None = None
    content_sid: ContentSid | None = None


class Template(_Strict):
    """A message template as its file declares it."""

    name: Name
    version: int = Field(ge=1)
    # Only utility messages (about the patient's own care) live here: marketing needs marketing consent.
    category: Literal["utility"]
    channels: tuple[ContactChannel, ...] = Field(min_length=1)
    variables: dict[Name, Text] = Field(description="Each variable's name and a one-line description")
    quick_replies: tuple[QuickReply, ...] = ()
    en: Translation
    hi: Translation
    kn: Translation

    def translation(self, language: str) -> Translation:
        """The template in `language` (one of LANGUAGES)."""
        translation: Translation = getattr(self, language)
        return translation

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if ContactChannel.VOICE in self.channels or len(set(self.channels)) != len(self.channels):
            raise ValueError("channels: each of whatsapp, sms, email at most once")
        if len({reply.id for reply in self.quick_replies}) != len(self.quick_replies):
            raise ValueError("quick_replies: ids must be unique")
        declared = set(self.variables)
        for language in LANGUAGES:
            translation = self.translation(language)
            _check_text(translation.body, f"{language}.body", declared, exact=True)
            if (ContactChannel.EMAIL in self.channels) != (translation.subject is not None):
                raise ValueError(f"{language}.subject: required for email templates, and only for them")
            if translation.subject is not None:
                _check_text(translation.subject, f"{language}.subject", declared, exact=False)
        return self


def _check_text(text: str, where: str, declared: set[str], *, exact: bool) -> None:
    """Placeholders well formed and declared (all of them in a body, so that none is silently dropped)."""
    if (char := control_character(text)) is not None:
        raise ValueError(f"{where}: contains the control character U+{ord(char):04X}")
    if "{{" in _PLACEHOLDER.sub("", text) or "}}" in _PLACEHOLDER.sub("", text):
        raise ValueError(f"{where}: a placeholder is not of the form {{{{variable_name}}}}")
    used = set(_PLACEHOLDER.findall(text))
    if undeclared := sorted(used - declared):
        raise ValueError(f"{where}: undeclared variables {', '.join(undeclared)}")
    if exact and (unused := sorted(declared - used)):
        raise ValueError(f"{where}: declared variables not used: {', '.join(unused)}")


def load_catalog(directory: Path = TEMPLATES_DIR) -> Mapping[str, Template]:
    """Every `*.json` template in `directory`, by name; TemplateFileError names the first bad file."""
    templates: dict[str, Template] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            template = Template.model_validate_json(path.read_bytes())
        except ValidationError as exc:
            raise TemplateFileError(f"message template {path.name}: {exc}") from exc
        if template.name != path.stem:
            raise TemplateFileError(f"message template {path.name}: name {template.name!r} is not the file's")
        templates[template.name] = template
    if not templates:
        raise TemplateFileError(f"no message templates in {directory}")
    return MappingProxyType(templates)


# Loaded on import, so a bad file stops the API (and any worker) at start-up, naming the file.
CATALOG: Mapping[str, Template] = load_catalog()


def templates() -> list[Template]:
    """Every template, by name."""
    return [CATALOG[name] for name in sorted(CATALOG)]


def template(name: str) -> Template:
    """One template; NotFound if no file declares it."""
    if name not in CATALOG:
        raise NotFound("Template", name)
    return CATALOG[name]


def choose_language(preferred: str | None) -> str:
    """The template language for a preference (a BCP-47 tag like `hi-IN`): its primary language if we
    have it, else English."""
    primary = (preferred or "").strip().split("-")[0].split("_")[0].lower()
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


@dataclass(frozen=True)
class RenderedReply:
    """A quick reply in the rendered language."""

    id: str
    title: str


@dataclass(frozen=True)
class Rendered:
    """A template filled in: what a messenger sends."""

    name: str
    version: int
    language: str
    body: str
    subject: str | None
    quick_replies: tuple[RenderedReply, ...]
    content_sid: str | None


def render(
    name: str,
    *,
    language: str | None,
    variables: Mapping[str, str],
    content_sids: Mapping[str, str] | None = None,
) -> Rendered:
    """Fill a template in the chosen language; Invalid names a missing, unknown or malformed variable.
    `content_sids` (keys `<name>.<language>`) override the files' Twilio ContentSids."""
    found = template(name)
    for variable in found.variables:
        if variable not in variables:
            raise Invalid(f"variables.{variable}", f"is required by template {name}")
    for variable in sorted(variables):
        if variable not in found.variables:
            raise Invalid(f"variables.{variable}", f"is not a variable of template {name}")
        value = variables[variable]
        if not value.strip():
            raise Invalid(f"variables.{variable}", "may not be empty")
        # Values are inserted once and never re-read, but a `{{` would look like a placeholder downstream.
        if "{{" in value:
            raise Invalid(f"variables.{variable}", "may not contain '{{'")
    chosen = choose_language(language)
    translation = found.translation(chosen)

    def fill(text: str) -> str:
        return _PLACEHOLDER.sub(lambda match: variables[match.group(1)], text)

    return Rendered(
        name=found.name,
        version=found.version,
        language=chosen,
        body=fill(translation.body),
        subject=None if translation.subject is None else fill(translation.subject),
        quick_replies=tuple(
            RenderedReply(id=reply.id, title=getattr(reply.title, chosen)) for reply in found.quick_replies
        ),
        content_sid=(content_sids or {}).get(f"{name}.{chosen}", translation.content_sid),
    )
