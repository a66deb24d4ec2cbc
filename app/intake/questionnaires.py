"""The intake questionnaires as the code reads them: items, their texts per language (FHIR translation
extension on `text`/`title`), and the checks an answer must pass. docs/intake.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.errors import Invalid
from app.fhir.builders import code_in
from app.fhir.canonical import CS_SPECIALTY
from app.fhir.client import Resource

TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
LANGUAGES = ("en", "hi", "kn")
ANSWERED_TYPES = ("string", "text", "boolean", "integer", "choice")
# The item whose answer must be "yes": the patient acknowledges the answers are kept in the record.
CONSENT_ITEM = "consent"

Answer = str | bool | int


def translations(element: Resource, key: str) -> dict[str, str]:
    """`element[key]` in English and every language its translation extension gives."""
    texts = {"en": str(element.get(key, ""))}
    for ext in element.get(f"_{key}", {}).get("extension", []):
        if ext.get("url") != TRANSLATION:
            continue
        parts = {e.get("url"): e for e in ext.get("extension", [])}
        lang, content = parts.get("lang", {}).get("valueCode"), parts.get("content", {}).get("valueString")
        if lang and content:
            texts[str(lang)] = str(content)
    return texts


@dataclass(frozen=True)
class Option:
    """A choice: the stored value (English) and its texts per language."""

    value: str
    texts: dict[str, str]


@dataclass(frozen=True)
class Item:
    """One question."""

    link_id: str
    kind: str
    texts: dict[str, str]
    required: bool
    repeats: bool
    options: tuple[Option, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    def text(self, language: str) -> str:
        """The question in `language` (English when there is no translation)."""
        return self.texts.get(language) or self.texts["en"]

    def check(self, raw: Any) -> list[Answer]:
        """The answer values of `raw` (one value or a list), or 422 naming `answers.<linkId>`."""
        values = [v.strip() if isinstance(v, str) else v for v in (raw if isinstance(raw, list) else [raw])]
        values = [v for v in values if v is not None and v != ""]
        where = f"answers.{self.link_id}"
        if not values:
            if self.required:
                raise Invalid(where, "is required")
            return []
        if len(values) > 1 and not self.repeats:
            raise Invalid(where, "takes one answer")
        return [self._one(v, where) for v in values]

    def _one(self, value: Any, where: str) -> Answer:
        if self.kind in ("string", "text"):
            if not isinstance(value, str) or len(value) > 500:
                raise Invalid(where, "must be text of at most 500 characters")
            return value
        if self.kind == "boolean":
            if not isinstance(value, bool):
                raise Invalid(where, "must be true or false")
            if self.link_id == CONSENT_ITEM and not value:
                raise Invalid(where, "must be acknowledged (true) to submit the intake")
            return value
        if self.kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise Invalid(where, "must be a whole number")
            if (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum
            ):
                raise Invalid(where, f"must be between {self.minimum} and {self.maximum}")
            return value
        option = self.option(value) if isinstance(value, str) else None
        if option is None:
            raise Invalid(where, f"must be one of {[o.value for o in self.options]}")
        return option.value

    def option(self, said: str) -> Option | None:
        """The option `said` names, in any of its languages, ignoring case."""
        wanted = said.strip().casefold()
        return next((o for o in self.options if any(t.casefold() == wanted for t in o.texts.values())), None)


@dataclass(frozen=True)
class Questionnaire:
    """A questionnaire as stored in HAPI."""

    id: str
    url: str
    version: str
    titles: dict[str, str]
    specialty: str | None
    items: tuple[Item, ...]

    @property
    def canonical(self) -> str:
        """`url|version`, what a QuestionnaireResponse names."""
        return f"{self.url}|{self.version}"

    def item(self, link_id: str) -> Item | None:
        """The item of `link_id`."""
        return next((i for i in self.items if i.link_id == link_id), None)

    def check(self, answers: dict[str, Any]) -> dict[str, list[Answer]]:
        """Every item's answer values, checked (422 naming the first item at fault)."""
        for link_id in answers:
            if self.item(link_id) is None:
                raise Invalid(f"answers.{link_id}", f"is not a question of {self.id}")
        return {i.link_id: i.check(answers.get(i.link_id)) for i in self.items}


def parse(resource: Resource) -> Questionnaire:
    """The Questionnaire resource as the code reads it (items of types it cannot answer are left out)."""
    specialty = next(
        (
            code
            for context in resource.get("useContext", [])
            if (code := code_in(context.get("valueCodeableConcept"), CS_SPECIALTY))
        ),
        None,
    )
    return Questionnaire(
        id=str(resource["id"]),
        url=str(resource.get("url", "")),
        version=str(resource.get("version", "")),
        titles=translations(resource, "title"),
        specialty=specialty,
        items=tuple(_item(i) for i in resource.get("item", []) if i.get("type") in ANSWERED_TYPES),
    )


def _item(item: Resource) -> Item:
    bounds = {e.get("url"): e.get("valueInteger") for e in item.get("extension", [])}
    return Item(
        link_id=str(item["linkId"]),
        kind=str(item["type"]),
        texts=translations(item, "text"),
        required=bool(item.get("required")),
        repeats=bool(item.get("repeats")),
        options=tuple(
            Option(str(o["valueString"]), translations(o, "valueString"))
            for o in item.get("answerOption", [])
            if "valueString" in o
        ),
        minimum=bounds.get(MIN_VALUE),
        maximum=bounds.get(MAX_VALUE),
    )
