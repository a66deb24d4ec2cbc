"""Load `fhir_profiles/` into HAPI idempotently: PUT each resource by its fixed id only when HAPI holds
something different, wait until changed SearchParameters answer searches, then write the examples.

HAPI reindexes resources stored before a SearchParameter was created or changed by itself
(JpaStorageSettings.markResourcesForReindexingUponSearchParameterChange, a Batch2 job finishing in
seconds with hapi-config's job tuning); tests/conformance proves it, so the loader does not call
`$reindex` a second time.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from app.fhir.client import FhirClient, Resource
from app.fhir.errors import FhirError, FhirInvalid, FhirNotFound, FhirUnavailable

log = structlog.get_logger(__name__)

# fhir_profiles/ at the project root, next to app/.
PROFILES_DIR = Path(__file__).resolve().parents[2] / "fhir_profiles"
EXAMPLES_FOLDER = "examples"
# Terminology before the profiles that bind to it, profiles before the search parameters and examples;
# the intake questionnaires (project content, not profiles) before the examples that answer them, and the
# analytics Measures before the roll-up example that names one.
CONFORMANCE_FOLDERS = (
    "CodeSystem",
    "ValueSet",
    "StructureDefinition",
    "NamingSystem",
    "SearchParameter",
    "Questionnaire",
    "Measure",
)

# HAPI registers a new SearchParameter within a second on one node; a cluster refreshes its
# registry from the database every few seconds. A minute means something is wrong.
SEARCH_PARAMETER_ACTIVATION_TIMEOUT_SECONDS = 60.0
SEARCH_PARAMETER_POLL_SECONDS = 0.25
# Parallel reads while comparing (the server has a pool of 10 DB connections).
READ_CONCURRENCY = 8

# Meta elements the server owns; everything else (profile, tag, security) is content.
_SERVER_META = ("versionId", "lastUpdated", "source")
# A search value of the right type per SearchParameter type that matches nothing of ours.
_PROBE_VALUES = {
    "token": "prm-probe",
    "string": "prm-probe",
    "quantity": "0",
    "number": "0",
    "date": "1900-01-01",
    "reference": "prm-probe",
    "uri": "urn:prm:probe",
}
_RELATIVE_REFERENCE = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")


class ConformanceError(RuntimeError):
    """The content could not be loaded: a bad file, a rejected write, a parameter never active.

    HAPI being unreachable or failing is not this: it surfaces as FhirUnavailable.
    """


@dataclass
class LoadReport:
    """What one load did, as `Type/id` references."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # SearchParameter id -> seconds until HAPI accepted a search with it (codes repeat across types).
    activated_search_parameters: dict[str, float] = field(default_factory=dict)

    @property
    def changed(self) -> list[str]:
        """Every resource this load wrote."""
        return [*self.created, *self.updated]

    def counts(self) -> dict[str, int]:
        """Created / updated / unchanged counts."""
        return {"created": len(self.created), "updated": len(self.updated), "unchanged": len(self.unchanged)}

    def summary(self) -> str:
        """One line for people."""
        c = self.counts()
        line = f"created {c['created']}, updated {c['updated']}, unchanged {c['unchanged']}"
        if self.activated_search_parameters:
            line += f"; search parameters active: {', '.join(sorted(self.activated_search_parameters))}"
        return line


def read_conformance_resources(profiles_dir: Path = PROFILES_DIR) -> list[Resource]:
    """The conformance resources under `profiles_dir`, in load order (folder by folder, by file name)."""
    if not profiles_dir.is_dir():
        # An installed copy of the package without the repository's fhir_profiles/ next to it.
        raise ConformanceError(f"{profiles_dir} does not exist")
    resources: list[Resource] = []
    for folder in CONFORMANCE_FOLDERS:
        for path in sorted((profiles_dir / folder).glob("*.json")):
            resource = _read(path)
            if resource["resourceType"] != folder:
                raise ConformanceError(f"{path}: a {resource['resourceType']} in folder {folder}/")
            resources.append(resource)
    return resources


def read_examples(profiles_dir: Path = PROFILES_DIR) -> list[Resource]:
    """The examples under `profiles_dir`/examples, ordered so that referenced resources come first."""
    examples = [_read(path) for path in sorted((profiles_dir / EXAMPLES_FOLDER).glob("*.json"))]
    return dependency_order(examples)


async def load_conformance(
    fhir: FhirClient, *, include_examples: bool = True, profiles_dir: Path = PROFILES_DIR
) -> LoadReport:
    """Bring HAPI's copy of the PRM's conformance resources (and examples) in line with the files."""
    report = LoadReport()
    resources = read_conformance_resources(profiles_dir)
    changed = await _changed(fhir, resources, report)
    for resource, existed in changed:
        await _put(fhir, resource, existed, report)
    parameters = [r for r, _ in changed if r["resourceType"] == "SearchParameter"]
    for parameter in (p for p in parameters if p.get("status") == "active"):
        report.activated_search_parameters[parameter["id"]] = await wait_until_searchable(fhir, parameter)
    if include_examples:
        examples = read_examples(profiles_dir)
        await _write_examples(fhir, await _changed(fhir, examples, report), report)
    log.info("conformance.loaded", **report.counts())
    return report


async def wait_until_searchable(
    fhir: FhirClient,
    parameter: Resource,
    *,
    timeout_seconds: float = SEARCH_PARAMETER_ACTIVATION_TIMEOUT_SECONDS,
) -> float:
    """Poll a search with the parameter's code on each base until HAPI stops calling it unknown; seconds."""
    code, kind, where = parameter["code"], parameter["type"], f"SearchParameter/{parameter['id']}"
    probe = _PROBE_VALUES.get(kind)
    if probe is None:
        raise ConformanceError(f"{where}: cannot probe type {kind!r}")
    started = time.monotonic()
    for base in parameter["base"]:
        while True:
            try:
                await fhir.count(base, {code: probe})
                break
            except FhirInvalid as exc:
                if not _unknown_parameter(exc):
                    raise ConformanceError(f"{where}: {exc.message}") from exc
            if time.monotonic() - started > timeout_seconds:
                raise ConformanceError(f"{where}: {base}?{code} still unknown after {timeout_seconds:.0f}s")
            await asyncio.sleep(SEARCH_PARAMETER_POLL_SECONDS)
    seconds = round(time.monotonic() - started, 2)
    log.info("conformance.search_parameter.active", search_parameter=where, code=code, seconds=seconds)
    return seconds


def comparable(resource: Resource) -> Resource:
    """The resource without what the server owns (meta.versionId/lastUpdated/source) and without text."""
    content = copy.deepcopy(resource)
    content.pop("text", None)
    meta = {k: v for k, v in (content.pop("meta", None) or {}).items() if k not in _SERVER_META}
    if meta:
        content["meta"] = meta
    return content


def dependency_order(resources: Sequence[Resource]) -> list[Resource]:
    """`resources` ordered so that each follows the ones it references (stable; a cycle keeps input order)."""
    pending = [(_ref(r), r) for r in resources]
    known = {key for key, _ in pending}
    needs = {key: {ref for ref in references(r) if ref in known and ref != key} for key, r in pending}
    ordered: list[Resource] = []
    placed: set[str] = set()
    while pending:
        ready = [(k, r) for k, r in pending if needs[k] <= placed] or pending[:1]
        for key, resource in ready:
            ordered.append(resource)
            placed.add(key)
        pending = [(k, r) for k, r in pending if k not in placed]
    return ordered


def references(value: Any) -> set[str]:
    """Every relative literal reference (`Type/id`) anywhere inside a resource."""
    found: set[str] = set()
    if isinstance(value, dict):
        ref = value.get("reference")
        if isinstance(ref, str) and (match := _RELATIVE_REFERENCE.match(ref)):
            found.add(f"{match.group(1)}/{match.group(2)}")
        for child in value.values():
            found |= references(child)
    elif isinstance(value, list):
        for child in value:
            found |= references(child)
    return found


# -- internals -----------------------------------------------------------------------------------


def _read(path: Path) -> Resource:
    try:
        resource = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConformanceError(f"{path}: {exc}") from exc
    if not isinstance(resource, dict) or not resource.get("resourceType") or not resource.get("id"):
        raise ConformanceError(f"{path}: not a FHIR resource with a resourceType and a fixed id")
    return resource


def _ref(resource: Resource) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


async def _changed(
    fhir: FhirClient, resources: Iterable[Resource], report: LoadReport
) -> list[tuple[Resource, bool]]:
    """(resource, exists in HAPI) for each resource whose content differs; the rest go to `unchanged`."""
    limit = asyncio.Semaphore(READ_CONCURRENCY)

    async def current(resource: Resource) -> Resource | None:
        async with limit:
            try:
                return await fhir.read(resource["resourceType"], resource["id"])
            except FhirNotFound:  # never written, or deleted (410): a PUT brings it back
                return None

    wanted = list(resources)
    stored = await asyncio.gather(*(current(r) for r in wanted))
    changed: list[tuple[Resource, bool]] = []
    for resource, existing in zip(wanted, stored, strict=True):
        if existing is not None and comparable(existing) == comparable(resource):
            report.unchanged.append(_ref(resource))
            log.debug("conformance.resource.unchanged", resource=_ref(resource))
        else:
            changed.append((resource, existing is not None))
    return changed


async def _put(fhir: FhirClient, resource: Resource, existed: bool, report: LoadReport) -> None:
    try:
        stored = await fhir.update(resource)
    except FhirUnavailable:
        raise  # HAPI down or failing: the caller may retry later; not a content problem
    except FhirError as exc:
        raise ConformanceError(f"{_ref(resource)} was rejected: {exc.message}") from exc
    _record(report, _ref(resource), existed, stored.get("meta", {}).get("versionId"))


async def _write_examples(fhir: FhirClient, changed: list[tuple[Resource, bool]], report: LoadReport) -> None:
    """Write the changed examples in one transaction: they reference each other, all or nothing."""
    if not changed:
        return
    bundle: Resource = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": r, "request": {"method": "PUT", "url": _ref(r)}} for r, _ in changed],
    }
    try:
        response = await fhir.transaction(bundle)
    except FhirUnavailable:
        raise
    except FhirError as exc:
        raise ConformanceError(f"the examples were rejected: {exc.message}") from exc
    for (resource, existed), entry in zip(changed, response.get("entry", []), strict=True):
        version = entry.get("resource", {}).get("meta", {}).get("versionId")
        _record(report, _ref(resource), existed, version)


def _record(report: LoadReport, ref: str, existed: bool, version: str | None) -> None:
    if existed:
        report.updated.append(ref)
        log.info("conformance.resource.updated", resource=ref, version=version)
    else:
        report.created.append(ref)
        log.info("conformance.resource.created", resource=ref, version=version)


def _unknown_parameter(exc: FhirInvalid) -> bool:
    # HAPI-0524: Unknown search parameter "x" for resource type "Y".
    return exc.status == 400 and ("HAPI-0524" in exc.message or "Unknown search parameter" in exc.message)
