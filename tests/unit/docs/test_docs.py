"""Every doc (README.md, docs/) names only what exists, and its relative links lead somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.servers import ROOT
from tests.unit.docs.names import missing_names, read, unknown_operations

DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
# The reconciliation map names the earlier PRM's files on purpose; its own test keeps its rows true.
MAPS = {"docs/reconciliation.md"}
LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)


def _name(doc: Path) -> str:
    return doc.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("doc", [d for d in DOCS if _name(d) not in MAPS], ids=_name)
def test_the_doc_names_only_operations_paths_modules_jobs_and_settings_that_exist(doc: Path) -> None:
    text = read(doc)

    assert unknown_operations(text) == []
    assert missing_names(text) == []


def broken_links(doc: Path) -> list[str]:
    """Relative links of a markdown file whose target does not exist (anchors and web links aside)."""
    broken = []
    for target in LINK.findall(CODE.sub("", read(doc))):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        if not (doc.parent / target.split("#", 1)[0]).exists():
            broken.append(target)
    return broken


@pytest.mark.parametrize("doc", DOCS, ids=_name)
def test_every_relative_link_resolves(doc: Path) -> None:
    assert broken_links(doc) == []


def test_a_broken_link_or_an_unknown_operation_is_caught(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        "[ok](doc.md) [web](https://example.org/x) [anchor](#top) [gone](missing.md#part) `f[x](y)`\n"
        "`GET /api/v1/tickets/{id}` `GET /fhir/Patient/1` `DELETE /api/v1/tickets/{id}` `POST /{id}/close`",
        encoding="utf-8",
    )

    assert broken_links(doc) == ["missing.md#part"]
    assert unknown_operations(read(doc)) == ["DELETE /api/v1/tickets/{id}"]


def test_the_readme_links_every_doc() -> None:
    readme = ROOT / "README.md"
    linked = {
        (ROOT / target.split("#", 1)[0]).resolve() for target in LINK.findall(CODE.sub("", read(readme)))
    }

    assert [_name(d) for d in DOCS if d != readme and d.resolve() not in linked] == []
