"""What a doc names: API operations, repository paths and modules in backticks, jobs; and which of them
do not exist in the code, for the tests that keep docs true."""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

from app.config import Settings
from app.ports.jobs import Job
from tests.support.servers import ROOT
from tests.unit.docs.routes import api_operations

# "GET /api/v1/tickets/{ticket_id}": a method, a space, a path up to whatever cannot be in one.
OPERATION = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE|HEAD) (/[^\s`'\"|,;)<\[\]?]*)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
JOB_NAME = re.compile(r"\bJob\.([A-Z][A-Z0-9]*_[A-Z0-9_]+)")  # Job.X in prose is a placeholder
CONSTANT = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
MODULE = re.compile(
    r"^(?:app|adapters|workers|bench)(?:\.[A-Za-z_][A-Za-z0-9_]*)+(?::[A-Za-z_][A-Za-z0-9_]*)?$"
)
PATH = re.compile(r"^[A-Za-z0-9_.\-/]+$")
SOURCE_DIRS = ("app", "adapters", "workers", "bench", "tests")


def operations(text: str) -> Iterator[str]:
    """Every "METHOD /path" the text names (a query string or a trailing full stop is not part of it)."""
    for match in OPERATION.finditer(text):
        yield f"{match.group(1)} {match.group(2).rstrip('.:')}"


def missing_operations(text: str) -> list[str]:
    """Operations the text names that the API's OpenAPI does not have, spelt exactly as it spells them."""
    known = api_operations()
    return sorted({op for op in operations(text) if op not in known})


@functools.cache
def _templates() -> list[tuple[str, re.Pattern[str]]]:
    """Each operation as a method and a pattern: `{path}` is any rest of the path, `{x}` one segment."""
    patterns = []
    for operation in api_operations():
        method, path = operation.split(" ", 1)
        pattern = re.sub(r"\\{path\\}", ".+", re.escape(path))
        pattern = re.sub(r"\\{[a-z_]+\\}", "[^/]+", pattern)
        patterns.append((method, re.compile(f"^{pattern}$")))
    return patterns


def unknown_operations(text: str) -> list[str]:
    """Operations the text names that match no operation of the OpenAPI, whatever their placeholders are
    called (`{id}`) and whatever FHIR path follows `/fhir/`. Shorthand is left alone: a path relative to
    the row (`/{id}/...`), a prefix (`/fhir/`, `.../tools/...`), alternatives (`{a,b}`)."""
    unknown = set()
    for operation in operations(text):
        method, path = operation.split(" ", 1)
        if path.startswith("/{") or path.endswith("/") or path.count("{") != path.count("}"):
            continue
        if not any(m == method and pattern.match(path) for m, pattern in _templates()):
            unknown.add(operation)
    return sorted(unknown)


def _tokens(text: str) -> Iterator[str]:
    """Each whitespace-separated word of each code span, without trailing punctuation."""
    for span in CODE_SPAN.finditer(text):
        for word in span.group(1).split():
            yield word.rstrip(",;:.)").lstrip("(")


def _top_level() -> set[str]:
    return {entry.name for entry in ROOT.iterdir() if not entry.name.startswith(".git")}


def _is_repo_path(word: str, top: set[str]) -> bool:
    """A path into the repository: its first part is a top-level entry and it holds no placeholder."""
    if not PATH.match(word) or word.startswith("/") or "..." in word:
        return False
    first = word.split("/", 1)[0]
    return first in top and ("/" in word or first == word)


def _module_exists(name: str) -> bool:
    """`app.x.y` or `app.x:attr` names an importable module, possibly followed by attributes of it."""
    dotted = name.replace(":", ".")
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            thing: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(thing, attribute):
                return False
            thing = getattr(thing, attribute)
        return True
    return False


def _built(path: str) -> bool:
    """A build output or run-time data (git-ignored: `hapi-config/target/...`, `var/...`)."""
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    return any(path.startswith(entry.strip("/")) for entry in ignored if entry.endswith("/"))


def _constant_defined(name: str) -> bool:
    """A module-level name assigned somewhere in the Python source (JOBS, HANDLER_MODULES ...), or a name
    the build, the scripts, compose or HAPI's configuration use (PG_TESTS, SPRING_DATASOURCE_URL ...)."""
    assignment = re.compile(rf"^{name}\b\s*(?::[^=\n]+)?=", re.MULTILINE)
    if any(
        assignment.search(path.read_text(encoding="utf-8"))
        for folder in SOURCE_DIRS
        for path in (ROOT / folder).rglob("*.py")
    ):
        return True
    word = re.compile(rf"\b{name}\b")
    others = [ROOT / "Makefile", ROOT / "docker-compose.yml", *(ROOT / "scripts").iterdir()]
    others += [p for p in (ROOT / "hapi-config" / "src").rglob("*") if p.is_file()]
    return any(word.search(path.read_text(encoding="utf-8")) for path in others)


def missing_names(text: str) -> list[str]:
    """Paths, modules, jobs and settings the text names in backticks (jobs also as `Job.X`) that do
    not exist."""
    top = _top_level()
    settings = set(Settings.model_fields)
    missing: set[str] = set()
    for word in _tokens(text):
        if _is_repo_path(word, top):
            if not (ROOT / word).exists() and not _built(word):
                missing.add(word)
        elif MODULE.match(word):
            if not _module_exists(word):
                missing.add(word)
        elif CONSTANT.match(word):
            if word.startswith("PRM_"):
                # Settings are PRM_<field>; test-only and script variables are not settings.
                if word.removeprefix("PRM_").lower() not in settings and not _in_scripts(word):
                    missing.add(word)
            elif word not in Job.__members__ and not _constant_defined(word):
                missing.add(word)
    missing.update(f"Job.{name}" for name in JOB_NAME.findall(text) if name not in Job.__members__)
    return sorted(missing)


def _in_scripts(variable: str) -> bool:
    """An environment variable the scripts, the Makefile, the test fixtures or the benches read (PRM_HAPI_DB ...)."""
    places = [
        *(ROOT / "scripts").iterdir(),
        ROOT / "Makefile",
        ROOT / "tests" / "conftest.py",
        *(ROOT / "tests" / "support").glob("*.py"),
        *(ROOT / "bench").glob("*.py"),
    ]
    return any(variable in path.read_text(encoding="utf-8") for path in places if path.is_file())


def read(path: Path) -> str:
    """A doc's text."""
    return path.read_text(encoding="utf-8")
