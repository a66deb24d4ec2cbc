"""What each role may do through `/fhir`: requests classified by FHIR interaction, not HTTP method.

`classify` turns a method, path segments and query into a `FhirInteraction`; `decide` answers
whether a role may perform it. The same two functions judge every entry of a transaction or batch.
Pure: no I/O, table-tested in tests/unit/fhir_proxy/test_policy.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qsl, urlsplit

from app.config import Role
from app.fhir_proxy.paths import PathRefused, fhir_segments


class Kind(StrEnum):
    """FHIR RESTful interactions (http://hl7.org/fhir/R4/http.html) plus operations and paging."""

    CAPABILITIES = "capabilities"
    READ = "read"
    VREAD = "vread"
    SEARCH = "search"
    HISTORY = "history"
    PAGE = "page"
    OPERATION = "operation"
    CREATE = "create"
    UPDATE = "update"
    PATCH = "patch"
    DELETE = "delete"
    BUNDLE = "transaction/batch"


READS = frozenset({Kind.CAPABILITIES, Kind.READ, Kind.VREAD, Kind.SEARCH, Kind.HISTORY, Kind.PAGE})
WRITES = frozenset({Kind.CREATE, Kind.UPDATE, Kind.PATCH, Kind.DELETE})

# Operations that only read; everyone with a key may run them.
READ_OPERATIONS = frozenset({"$validate", "$everything", "$meta", "$expand", "$lookup", "$validate-code"})
# FHIR Bulk Data export (kick-off at system, Patient and Group level, then polling and cancelling):
# a copy of everything, so integration and admin keys only; the files are Binary reads.
EXPORT_OPERATIONS = frozenset({"$export", "$export-poll-status"})
EXPORT_ROLES = frozenset({Role.INTEGRATION, Role.ADMIN})
# Named so the refusal can say why; any operation not in READ_OPERATIONS is refused as well.
ADMIN_OPERATIONS = frozenset(
    {
        "$expunge",
        "$delete-expunge",
        "$reindex",
        "$reindex-dryrun",
        "$mark-all-resources-for-reindexing",
        "$perform-reindexing-pass",
        "$meta-delete",
        "$meta-add",
        "$trigger-subscription",
        "$merge",
        "$import",
    }
)
# Records of who did what are written by the PRM and HAPI only.
AUDIT_TYPES = frozenset({"Provenance", "AuditEvent"})
# Conformance content is loaded by the PRM's own loader (app/conformance), never through /fhir.
CONFORMANCE_TYPES = frozenset(
    {
        "CapabilityStatement",
        "CodeSystem",
        "CompartmentDefinition",
        "ConceptMap",
        "ExampleScenario",
        "GraphDefinition",
        "ImplementationGuide",
        "MessageDefinition",
        "NamingSystem",
        "OperationDefinition",
        "SearchParameter",
        "StructureDefinition",
        "StructureMap",
        "TerminologyCapabilities",
        "ValueSet",
    }
)
# Subscriptions carry their receivers' secrets (channel.header, e.g. the change feed's bearer token):
# nobody reads them through /fhir, and no system-wide read may sweep them up.
SECRET_TYPES = frozenset({"Subscription"})
# Registered delivery endpoints admit Subscriptions: only admins register them, through the PRM API.
MANAGED_TYPES = frozenset({"Endpoint"})
# Query parameters that turn a delete into a destructive administrative act.
FORBIDDEN_PARAMETERS = frozenset({"_cascade", "_expunge"})
WRITER_ROLES = frozenset({Role.INTEGRATION, Role.ADMIN})

_RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")


class UnsupportedRequest(ValueError):
    """The request is not a FHIR REST interaction the PRM knows (answered 400)."""


@dataclass(frozen=True)
class FhirInteraction:
    """One classified request: what it does, on which type, with which operation."""

    kind: Kind
    resource_type: str | None = None
    operation: str | None = None
    conditional: bool = False

    def describe(self) -> str:
        """A short human label: 'create Patient', 'operation $expunge on Patient'."""
        if self.kind == Kind.OPERATION:
            where = f" on {self.resource_type}" if self.resource_type else ""
            return f"operation {self.operation}{where}"
        prefix = "conditional " if self.conditional else ""
        return f"{prefix}{self.kind.value} {self.resource_type or '(system)'}".rstrip()


@dataclass(frozen=True)
class Decision:
    """Whether the role may go ahead; `reason` says why not."""

    allowed: bool
    reason: str = ""
    # Allowed only if the body passes: a Subscription must deliver to a registered endpoint.
    check_subscription: bool = False


ALLOW = Decision(True)


def classify(method: str, segments: Sequence[str], query: Sequence[tuple[str, str]]) -> FhirInteraction:
    """The interaction a request performs, or UnsupportedRequest."""
    method = "GET" if method == "HEAD" else method
    keys = {key for key, _ in query}
    if segments and segments[-1].startswith("$"):
        return _operation(segments)
    if not segments:
        return _system(method, keys)
    resource_type = segments[0]
    if resource_type in ("metadata", "_history", "_search"):
        return _system_named(method, resource_type)
    if not _RESOURCE_TYPE.fullmatch(resource_type):
        raise UnsupportedRequest(f"{resource_type!r} is not a FHIR resource type")
    if len(segments) == 1:
        return _type_level(method, resource_type, conditional=bool(keys))
    return _below_type(method, resource_type, segments[1:])


def _operation(segments: Sequence[str]) -> FhirInteraction:
    resource_type = segments[0] if len(segments) > 1 else None
    if resource_type is not None and not _RESOURCE_TYPE.fullmatch(resource_type):
        raise UnsupportedRequest(f"{resource_type!r} is not a FHIR resource type")
    return FhirInteraction(Kind.OPERATION, resource_type, operation=segments[-1])


def _system(method: str, keys: set[str]) -> FhirInteraction:
    if method == "GET":
        return FhirInteraction(Kind.PAGE if "_getpages" in keys else Kind.SEARCH)
    if method == "POST":
        return FhirInteraction(Kind.BUNDLE)
    raise UnsupportedRequest(f"{method} on the FHIR base is not a FHIR interaction")


def _system_named(method: str, name: str) -> FhirInteraction:
    if name == "metadata" and method == "GET":
        return FhirInteraction(Kind.CAPABILITIES)
    if name == "_history" and method == "GET":
        return FhirInteraction(Kind.HISTORY)
    if name == "_search" and method == "POST":
        return FhirInteraction(Kind.SEARCH)
    raise UnsupportedRequest(f"{method} /{name} is not a FHIR interaction")


def _type_level(method: str, resource_type: str, *, conditional: bool) -> FhirInteraction:
    kinds = {"GET": Kind.SEARCH, "POST": Kind.CREATE, "PUT": Kind.UPDATE, "PATCH": Kind.PATCH}
    if method == "DELETE":
        if not conditional:
            raise UnsupportedRequest(
                "A delete on a resource type needs search parameters (conditional delete)"
            )
        return FhirInteraction(Kind.DELETE, resource_type, conditional=True)
    if method not in kinds:
        raise UnsupportedRequest(f"{method} on a resource type is not a FHIR interaction")
    # A create is conditional through If-None-Exist; the router tells us, the query does not.
    return FhirInteraction(kinds[method], resource_type, conditional=conditional and method != "GET")


def _below_type(method: str, resource_type: str, rest: Sequence[str]) -> FhirInteraction:
    first = rest[0]
    if len(rest) == 1 and first == "_search" and method in ("GET", "POST"):
        return FhirInteraction(Kind.SEARCH, resource_type)
    if len(rest) == 1 and first == "_history" and method == "GET":
        return FhirInteraction(Kind.HISTORY, resource_type)
    if first.startswith("_"):
        raise UnsupportedRequest(f"{method} {resource_type}/{first} is not a FHIR interaction")
    if len(rest) == 1:
        kinds = {"GET": Kind.READ, "PUT": Kind.UPDATE, "PATCH": Kind.PATCH, "DELETE": Kind.DELETE}
        if method not in kinds:
            raise UnsupportedRequest(f"{method} on a resource instance is not a FHIR interaction")
        return FhirInteraction(kinds[method], resource_type)
    if method == "GET" and rest[1] == "_history":
        if len(rest) == 2:
            return FhirInteraction(Kind.HISTORY, resource_type)
        if len(rest) == 3:
            return FhirInteraction(Kind.VREAD, resource_type)
    if method == "GET" and len(rest) == 2 and _RESOURCE_TYPE.fullmatch(rest[1]):
        # A compartment search such as Patient/123/Appointment.
        return FhirInteraction(Kind.SEARCH, rest[1])
    raise UnsupportedRequest(f"{method} on this path is not a FHIR interaction")


def decide(role: Role, interaction: FhirInteraction, query: Sequence[tuple[str, str]] = ()) -> Decision:
    """May `role` perform `interaction` through /fhir? (A Bundle's entries are judged separately.)"""
    if forbidden := sorted({key for key, _ in query} & FORBIDDEN_PARAMETERS):
        return Decision(False, f"The parameter {forbidden[0]} is never allowed through /fhir")
    kind = interaction.kind
    if kind in READS:
        return _decide_read(interaction, query)
    if kind == Kind.BUNDLE:
        return ALLOW
    if kind == Kind.OPERATION:
        return _decide_operation(role, interaction)
    if role not in WRITER_ROLES:
        return Decision(False, f"Role {role.value!r} may only read through /fhir; use the PRM API to write")
    return write_decision(interaction)


def _decide_read(interaction: FhirInteraction, query: Sequence[tuple[str, str]]) -> Decision:
    if interaction.resource_type in SECRET_TYPES:
        return Decision(
            False, f"{interaction.resource_type} resources carry delivery secrets; not readable here"
        )
    if interaction.resource_type is None and interaction.kind == Kind.HISTORY:
        return Decision(False, "History across every type is not offered; read a type's _history")
    if interaction.resource_type is None and interaction.kind == Kind.SEARCH:
        types = {t.strip() for key, value in query if key == "_type" for t in value.split(",")}
        if not types or types & SECRET_TYPES:
            return Decision(False, "A search across types must name them with _type (Subscription excluded)")
    return ALLOW


def _decide_operation(role: Role, interaction: FhirInteraction) -> Decision:
    operation = interaction.operation or ""
    if operation in READ_OPERATIONS:
        return ALLOW
    if operation in EXPORT_OPERATIONS:
        if role in EXPORT_ROLES:
            return ALLOW
        return Decision(False, f"{operation} (bulk export) is for integration and admin keys only")
    if operation in ADMIN_OPERATIONS:
        return Decision(False, f"{operation} is an administrative operation, never allowed through /fhir")
    return Decision(False, f"The operation {operation} is not on the /fhir allow-list")


def write_decision(interaction: FhirInteraction) -> Decision:
    """May a writer role create, update, patch or delete this resource type through /fhir?"""
    resource_type = interaction.resource_type or ""
    if resource_type in AUDIT_TYPES:
        return Decision(
            False, f"{resource_type} is written by the PRM only; it cannot be changed through /fhir"
        )
    if resource_type in CONFORMANCE_TYPES:
        return Decision(
            False, f"{resource_type} is conformance content, loaded by the PRM's own loader, not /fhir"
        )
    if resource_type in MANAGED_TYPES:
        return Decision(
            False,
            f"{resource_type} resources are registered through /api/v1/integrations/endpoints, not /fhir",
        )
    if resource_type == "Subscription":
        return subscription_write_decision(interaction)
    return ALLOW


def subscription_write_decision(interaction: FhirInteraction) -> Decision:
    """Create and update of a Subscription, if its body names a registered endpoint (the router checks)."""
    if interaction.kind in (Kind.CREATE, Kind.UPDATE) and not interaction.conditional:
        return Decision(True, check_subscription=True)
    return Decision(
        False,
        "Subscriptions are created and updated one at a time (no patch, delete or conditional writes), "
        "to an endpoint registered with the PRM",
    )


def classify_entry(method: str, url: str) -> FhirInteraction:
    """Classify a transaction/batch entry's request (relative URL, maybe with a query)."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        raise UnsupportedRequest("Entry URLs must be relative to the FHIR base, not absolute")
    try:
        segments = fhir_segments("/" + parts.path.lstrip("/") if parts.path else "")
    except PathRefused as exc:
        raise UnsupportedRequest(str(exc)) from exc
    if not segments:
        raise UnsupportedRequest("A transaction or batch cannot contain another one")
    return classify(method.upper(), segments, parse_qsl(parts.query, keep_blank_values=True))


def entry_query(url: str) -> list[tuple[str, str]]:
    """The query parameters of an entry URL."""
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)
