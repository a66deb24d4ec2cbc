"""fhir_profiles/ is complete and consistent: every URL the code uses exists, every profile has an
example, bindings and extension profiles resolve, and HAPI's enforcement config names real profiles."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML comes with uvicorn[standard]
from fhir.resources.R4B import get_fhir_model_class  # R4B orders R4's elements alike

from app.conformance import PROFILES_DIR, read_conformance_resources, read_examples
from app.conformance.loader import references
from app.fhir import canonical
from app.fhir.canonical import CANONICAL_BASE, CS_SPECIALTY, SNOMED
from app.language.specialties import SPECIALTIES

ROOT = PROFILES_DIR.parent
CODE_FOLDERS = ("app", "adapters", "workers")
OUR_URL = re.compile(r"https://fhir\.prm\.health/[A-Za-z0-9_.\-/]+")
APPLICATION_YAML = ROOT / "hapi-config" / "src" / "main" / "resources" / "application.yaml"
ENFORCED_TYPES = {
    "Patient", "PractitionerRole", "Location", "Appointment", "Communication", "Task", "Consent",
    "CommunicationRequest", "Library", "Coverage", "Basic", "PlanDefinition", "CarePlan",
    "QuestionnaireResponse", "Condition", "AllergyIntolerance", "MedicationStatement", "Endpoint", "MeasureReport",
    "Group",
}  # fmt: skip
# Written by the PRM or HAPI without a PRM profile; must never be enforced.
UNPROFILED_TYPES = {
    "Organization",
    "Practitioner",
    "HealthcareService",
    "Schedule",
    "Slot",
    "Provenance",
    "Subscription",
}

CONFORMANCE = read_conformance_resources()
EXAMPLES = read_examples()


def defined_urls() -> set[str]:
    """Canonical URLs of the conformance resources, plus the identifier systems of the NamingSystems."""
    urls = {r["url"] for r in CONFORMANCE if "url" in r}
    for naming_system in (r for r in CONFORMANCE if r["resourceType"] == "NamingSystem"):
        urls |= {u["value"] for u in naming_system["uniqueId"] if u["type"] == "uri"}
    return urls


def strings_in(value: Any) -> list[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


def test_every_canonical_constant_exists_as_a_resource() -> None:
    ours = {
        name: value
        for name, value in vars(canonical).items()
        if name.isupper() and isinstance(value, str) and value.startswith(CANONICAL_BASE + "/")
    }

    missing = {name: url for name, url in ours.items() if url not in defined_urls()}

    assert len(ours) >= 45  # profiles, extensions, code systems, value sets, identifier systems
    assert missing == {}


def test_every_prm_url_in_the_code_exists_as_a_resource() -> None:
    used: dict[str, str] = {}
    for folder in CODE_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for url in OUR_URL.findall(path.read_text(encoding="utf-8")):
                used[url.rstrip(".")] = str(path.relative_to(ROOT))

    assert {url: where for url, where in used.items() if url not in defined_urls()} == {}


def test_every_prm_url_inside_the_profiles_resolves() -> None:
    # A canonical reference may pin a version (`url|version`, an intake answering its questionnaire).
    inside = {
        s.split("|")[0]
        for r in [*CONFORMANCE, *EXAMPLES]
        for s in strings_in(r)
        if s.startswith(CANONICAL_BASE + "/")
    }

    # Examples may name one another by canonical URL (a journey names its template's).
    example_urls = {e["url"] for e in EXAMPLES if "url" in e}

    assert sorted(inside - defined_urls() - example_urls) == []


def test_every_profile_has_a_valid_looking_example_and_every_example_a_known_profile() -> None:
    profiles = {
        r["url"]: r["type"]
        for r in CONFORMANCE
        if r["resourceType"] == "StructureDefinition" and r["kind"] == "resource"
    }
    declared = {p: e["resourceType"] for e in EXAMPLES for p in e.get("meta", {}).get("profile", [])}

    assert len(profiles) == 25
    assert {url: profiles[url] for url in profiles if url not in declared} == {}
    assert {url: t for url, t in declared.items() if profiles.get(url) != t} == {}


def test_profiles_are_differential_only_and_use_only_defined_extensions() -> None:
    extensions = {
        r["url"]
        for r in CONFORMANCE
        if r["resourceType"] == "StructureDefinition" and r["type"] == "Extension"
    }
    for sd in (r for r in CONFORMANCE if r["resourceType"] == "StructureDefinition"):
        assert "snapshot" not in sd, sd["id"]  # HAPI generates snapshots; test_enforcement proves it
        assert sd["fhirVersion"] == "4.0.1"
        used = {
            p for e in sd["differential"]["element"] for t in e.get("type", []) for p in t.get("profile", [])
        }
        assert used <= extensions, sd["id"]


def test_differential_elements_follow_the_base_resources_element_order() -> None:
    # HAPI's snapshot generator silently drops a differential element that comes out of order: a
    # businessStatus listed after statusReason made prm-opportunity's "min 1" unenforced.
    misplaced: dict[str, list[str]] = {}
    for sd in (r for r in CONFORMANCE if r["resourceType"] == "StructureDefinition"):
        base = get_fhir_model_class(sd["type"]).elements_sequence()
        positions = [_base_position(base, e["path"]) for e in sd["differential"]["element"]]
        if positions != sorted(positions):
            misplaced[sd["id"]] = [e["path"] for e in sd["differential"]["element"]]
    assert misplaced == {}


def _base_position(base: list[str], path: str) -> int:
    """Where the top-level element of `path` sits in its resource (-1 for the resource itself)."""
    parts = path.split(".")
    if len(parts) == 1:
        return -1
    name = parts[1]
    if name.endswith("[x]"):  # fhir.resources lists a choice element once per type: valueString, ...
        return next(i for i, element in enumerate(base) if element.startswith(name[:-3]))
    return base.index(name)


def test_examples_reference_only_other_examples() -> None:
    keys = {f"{e['resourceType']}/{e['id']}" for e in EXAMPLES}
    dangling = {f"{e['resourceType']}/{e['id']}": references(e) - keys for e in EXAMPLES}

    assert {k: v for k, v in dangling.items() if v} == {}
    # Loaded in an order where every reference points backwards.
    seen: set[str] = set()
    for e in EXAMPLES:
        assert references(e) - {f"{e['resourceType']}/{e['id']}"} <= seen, e["id"]
        seen.add(f"{e['resourceType']}/{e['id']}")


def test_specialty_code_system_matches_the_directory() -> None:
    code_system = next(r for r in CONFORMANCE if r.get("url") == CS_SPECIALTY)
    concepts = {c["code"]: (c["display"], c["property"][0]["valueCoding"]) for c in code_system["concept"]}

    assert concepts == {s.code: (s.display, {"system": SNOMED, "code": s.snomed}) for s in SPECIALTIES}
    assert code_system["count"] == 8


def test_hapi_enforces_every_prm_profile_and_nothing_else() -> None:
    config = yaml.safe_load(APPLICATION_YAML.read_text(encoding="utf-8"))
    enforced: dict[str, list[str]] = config["prm"]["enforced-profiles"]
    profile_types = {
        r["url"]: r["type"]
        for r in CONFORMANCE
        if r["resourceType"] == "StructureDefinition" and r["kind"] == "resource"
    }

    assert set(enforced) == ENFORCED_TYPES
    assert not UNPROFILED_TYPES & set(enforced)
    assert {url: t for t, urls in enforced.items() for url in urls if profile_types.get(url) != t} == {}
    assert sorted(url for urls in enforced.values() for url in urls) == sorted(profile_types)


def test_each_file_holds_one_resource_named_after_its_id() -> None:
    files = sorted(PROFILES_DIR.rglob("*.json"))
    for path in files:
        resource = json.loads(path.read_text(encoding="utf-8"))
        expected = (
            f"{resource['resourceType']}-{resource['id']}.json"
            if path.parent.name == "examples"
            else (f"{resource['id']}.json")
        )
        assert path.name == expected
        assert Path(path.parent.name) in (Path(resource["resourceType"]), Path("examples"))

    assert len(files) == len(CONFORMANCE) + len(EXAMPLES)
