"""docs/reconciliation.md stays true: one row per construct of the earlier PRM's inventory, real homes, real tests."""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.config import Settings
from app.ports.jobs import Job
from tests.support.servers import ROOT
from tests.unit.docs.routes import api_operations

INVENTORY = ROOT.parent / "shared" / "reference" / "seed-prm-inventory.md"
DOC = ROOT / "docs" / "reconciliation.md"
STATUSES = ("done", "partial", "planned", "superseded")

_ITEM = re.compile(r"^(\s*)(?:- |\d+\. )(.*)$")
_SEPARATOR = re.compile(r"^\|[-| :]+\|$")
_CUTS = (":", " (", " {", " — ", ";", ". ", " →")
_METHOD = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) /\S*$")


@dataclass(frozen=True)
class Line:
    """One list item, table row, bold-led paragraph or subsection heading of the inventory."""

    section: int
    group: str  # the ### subsection's first word (section 1), else ""
    kind: str  # item, row, bold, head
    indent: int
    text: str


def _words(text: str, *, cut: bool, limit: int) -> str:
    """A slug of the text's lead: markdown dropped, cut at the first separator, at most `limit` words."""
    plain = re.sub(r"[`*]", "", text).strip()
    if cut:
        ends = [plain.find(sep) for sep in _CUTS if plain.find(sep) > 0]
        plain = plain[: min(ends)] if ends else plain
    return "-".join(re.findall(r"[a-z0-9]+", plain.lower())[:limit])


def _label(line: Line) -> str:
    """The construct's name: a table row's first cell, a bold paragraph's bold text, an item's lead."""
    if line.kind == "row":
        return _words(line.text.strip("|").split("|")[0], cut=False, limit=5)
    if line.kind == "bold":
        return _words(line.text.split("**")[1], cut=True, limit=5)
    return _words(line.text, cut=True, limit=4)


def _lines(text: str) -> list[Line]:
    """The inventory's items, rows, bold paragraphs and headings in sections 1-9 (continuation lines joined)."""
    lines: list[Line] = []
    section, group = 0, ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if heading := re.match(r"^## (\d+)\. ", raw):
            section, group = int(heading.group(1)), ""
        elif raw.startswith("## "):
            section = 0
        elif raw.startswith("### "):
            group = _words(raw[4:].split()[0], cut=False, limit=3)
            lines.append(Line(section, group, "head", -1, raw[4:]))
        elif not 1 <= section <= 9:
            continue
        elif stripped.startswith("|"):
            if not _SEPARATOR.match(stripped):
                lines.append(Line(section, group, "row", 99, stripped))
        elif item := _ITEM.match(raw):
            lines.append(Line(section, group, "item", len(item.group(1)), item.group(2)))
        elif stripped.startswith("**"):
            lines.append(Line(section, group, "bold", -1, stripped))
        elif stripped and raw.startswith(" ") and lines and lines[-1].kind == "item":
            last = lines[-1]
            lines[-1] = Line(last.section, last.group, last.kind, last.indent, f"{last.text} {stripped}")
    # a table's first row is its header
    return [line for i, line in enumerate(lines) if not (line.kind == "row" and lines[i - 1].kind != "row")]


def inventory_ids(text: str) -> list[str]:
    """Every construct's id, in the inventory's order (the rule is written at the top of the doc)."""
    lines = _lines(text)
    ids: list[str] = []
    top = ""  # the label of the enclosing top-level list item
    for i, line in enumerate(lines):
        after = lines[i + 1] if i + 1 < len(lines) else None
        if line.kind == "item" and line.indent == 0:
            top = _label(line)
        elif line.kind != "item":
            top = ""
        prefix = ".".join(part for part in (str(line.section), line.group) if part)
        if line.kind == "head":
            if after is None or after.kind == "head" or after.section != line.section:
                ids.append(prefix)
            continue
        if line.kind == "item" and after is not None and after.kind == "item" and after.indent > line.indent:
            continue  # a parent: its children are the constructs
        parent = top if line.kind == "item" and line.indent > 0 else ""
        ids.append(".".join(part for part in (prefix, parent, _label(line)) if part))
    counts: Counter[str] = Counter()
    unique = []
    for construct in ids:
        counts[construct] += 1
        unique.append(construct if counts[construct] == 1 else f"{construct}-{counts[construct]}")
    return unique


@dataclass(frozen=True)
class Row:
    """One row of the reconciliation table."""

    id: str
    home: str
    status: str
    note: str
    test: str


def _cells(line: str) -> list[str]:
    """A markdown table row's cells (pipes inside backticks are kept)."""
    cells, current, quoted = [], "", False
    for char in line.strip()[1:-1]:
        if char == "`":
            quoted = not quoted
        if char == "|" and not quoted:
            cells.append(current.strip())
            current = ""
        else:
            current += char
    cells.append(current.strip())
    return cells


def doc_rows(text: str) -> list[Row]:
    """The reconciliation rows: table rows whose first cell is a backticked id and that have five cells."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("| `"):
            continue
        cells = _cells(line)
        if len(cells) != 5 or cells[3].split(" ")[0].rstrip(":") not in STATUSES:
            continue
        status, _, note = cells[3].partition(" ")
        rows.append(Row(cells[0].strip("`"), cells[2], status.rstrip(":"), note.strip(), cells[4]))
    return rows


def doc_totals(text: str) -> dict[str, tuple[int, ...]]:
    """The totals table at the top: group -> (done, partial, planned, superseded, total)."""
    totals = {}
    for line in text.splitlines():
        cells = _cells(line) if line.startswith("| ") else []
        if len(cells) == 6 and all(cell.strip("*").isdigit() for cell in cells[1:]):
            named = re.search(r"`([^`]+)`", cells[0])
            totals[named.group(1) if named else cells[0].strip("*")] = tuple(
                int(c.strip("*")) for c in cells[1:]
            )
    return totals


def group_of(construct: str) -> str:
    """A row's module: section 1's subsection ("1.patients"), else the section ("2")."""
    parts = construct.split(".")
    return ".".join(parts[:2]) if parts[0] == "1" else parts[0]


def _names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def home_problems(row: Row, operations: frozenset[str]) -> list[str]:
    """What in a row's home does not exist: routes, files, jobs, profiles, settings."""
    problems = []
    for name in _names(row.home):
        if _METHOD.match(name):
            ok = name in operations
        elif name.startswith("Job."):
            ok = name[4:] in Job.__members__
        elif name.startswith("profile:"):
            ok = (ROOT / "fhir_profiles" / "StructureDefinition" / f"{name[8:]}.json").is_file()
        elif name.startswith("Settings."):
            ok = name[9:] in Settings.model_fields
        elif "/" in name or name.endswith((".py", ".md", ".json")):
            ok = (ROOT / name.rstrip("/")).exists()
        else:
            problems.append(
                f"{row.id}: cannot tell what `{name}` is (use METHOD /path, a path, Job., profile:, Settings.)"
            )
            continue
        if not ok:
            problems.append(f"{row.id}: `{name}` does not exist")
    return problems


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def missing_tests(row: Row) -> list[str]:
    """What a row's test cell names that does not exist (files, and test functions in them)."""
    problems = []
    for name in _names(row.test):
        path, _, function = name.partition("::")
        if not path.startswith("tests/") or not (ROOT / path).is_file():
            problems.append(f"{row.id}: test file {path} does not exist")
        elif function and function not in _test_functions(ROOT / path):
            problems.append(f"{row.id}: {path} has no {function}")
    return problems


@pytest.fixture(scope="module")
def inventory() -> list[str]:
    if not INVENTORY.is_file():
        pytest.fail(
            f"the earlier PRM's inventory is not at {INVENTORY} (CI keeps ../shared beside the clone)"
        )
    return inventory_ids(INVENTORY.read_text())


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return doc_rows(DOC.read_text())


def test_every_inventory_construct_has_exactly_one_row(inventory: list[str], rows: list[Row]) -> None:
    assert len(inventory) == len(set(inventory)), "the id rule gives two constructs one id"
    counts = Counter(row.id for row in rows)
    missing = [construct for construct in inventory if construct not in counts]
    doubled = sorted(construct for construct, n in counts.items() if n > 1)
    unknown = sorted(set(counts) - set(inventory))
    assert not missing, f"constructs without a row: {missing}"
    assert not doubled, f"constructs with more than one row: {doubled}"
    assert not unknown, f"rows for constructs the inventory does not have: {unknown}"


def test_the_rows_follow_the_inventory_order(inventory: list[str], rows: list[Row]) -> None:
    written = [row.id for row in rows]
    first = next((i for i, (a, b) in enumerate(zip(written, inventory, strict=False)) if a != b), None)
    assert first is None, f"row {first + 1} is {written[first]}, the inventory has {inventory[first]} there"


def test_done_and_partial_rows_name_homes_that_exist(rows: list[Row]) -> None:
    operations = api_operations()
    problems = [
        problem
        for row in rows
        if row.status in {"done", "partial"}
        for problem in home_problems(row, operations)
    ]
    unnamed = [row.id for row in rows if row.status in {"done", "partial"} and not _names(row.home)]
    assert not problems, "\n".join(problems)
    assert not unnamed, f"done/partial rows naming no home: {unnamed}"


def test_every_named_test_exists_and_done_rows_name_one(rows: list[Row]) -> None:
    problems = [problem for row in rows for problem in missing_tests(row)]
    untested = [row.id for row in rows if row.status == "done" and not _names(row.test)]
    assert not problems, "\n".join(problems)
    assert not untested, f"done rows naming no test: {untested}"


def test_every_status_says_what_it_needs_to(rows: list[Row]) -> None:
    silent = [row.id for row in rows if row.status in {"partial", "superseded"} and len(row.note) < 10]
    no_issue = [
        row.id
        for row in rows
        if row.status == "planned" and not re.search(r"issue \d+|no open issue", row.note)
    ]
    assert not silent, f"partial rows must say what is missing, superseded ones why: {silent}"
    assert not no_issue, f"planned rows must name the open issue: {no_issue}"


def test_the_totals_at_the_top_equal_the_rows(rows: list[Row]) -> None:
    totals = doc_totals(DOC.read_text())
    counted: dict[str, Counter[str]] = {}
    for row in rows:
        counted.setdefault(group_of(row.id), Counter())[row.status] += 1
    expected = {
        group: (*(counts[status] for status in STATUSES), sum(counts.values()))
        for group, counts in counted.items()
    }
    overall = Counter(row.status for row in rows)
    expected["all"] = (*(overall[status] for status in STATUSES), len(rows))
    wrong = {
        group: (totals.get(group), counts)
        for group, counts in expected.items()
        if totals.get(group) != counts
    }
    stray = sorted(set(totals) - set(expected))
    assert not wrong, f"totals (done, partial, planned, superseded, total) written vs counted: {wrong}"
    assert not stray, f"totals for modules without rows: {stray}"
