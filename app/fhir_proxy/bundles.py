"""Judge a transaction or batch before it goes to HAPI: every entry by the same policy as a request."""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from app.config import Role
from app.fhir_proxy.outcome import operation_outcome
from app.fhir_proxy.policy import Decision, UnsupportedRequest, classify_entry, decide, entry_query

# A gzip body is inflated to judge it; this caps what a small compressed body may expand to.
MAX_INSPECTED_BYTES = 32 * 1024 * 1024


def judge(role: Role, body: bytes, headers: Mapping[str, str]) -> Response | None:
    """None when every entry is allowed for `role`, else the 4xx OperationOutcome to answer."""
    content_type = headers.get("content-type", "")
    if "json" not in content_type:
        return operation_outcome(
            415, None, "Send transaction and batch Bundles as JSON (Content-Type: application/fhir+json)"
        )
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        return operation_outcome(415, None, f"Content-Encoding {encoding!r} is not supported (use gzip)")
    try:
        text = _inflate(body) if encoding == "gzip" else body
    except OverflowError:
        return operation_outcome(413, None, f"The Bundle expands beyond {MAX_INSPECTED_BYTES} bytes")
    except zlib.error:
        return operation_outcome(400, None, "The request body is not valid gzip")
    try:
        bundle = json.loads(text)
    except ValueError:
        return operation_outcome(400, None, "The request body is not valid JSON")
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return operation_outcome(400, None, "POST to the FHIR base takes a transaction or batch Bundle")
    if bundle.get("type") not in ("transaction", "batch"):
        return operation_outcome(
            400, None, "POST to the FHIR base takes a Bundle of type transaction or batch"
        )
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        return operation_outcome(400, None, "Bundle.entry must be a list")
    for index, entry in enumerate(entries):
        refusal = _judge_entry(role, index, entry)
        if refusal is not None:
            return refusal
    return None


def _judge_entry(role: Role, index: int, entry: Any) -> Response | None:
    request = entry.get("request") if isinstance(entry, dict) else None
    method = request.get("method") if isinstance(request, dict) else None
    url = request.get("url") if isinstance(request, dict) else None
    if not isinstance(method, str) or not isinstance(url, str):
        return operation_outcome(400, None, f"Bundle.entry[{index}] has no request.method and request.url")
    try:
        interaction = classify_entry(method, url)
    except UnsupportedRequest as exc:
        return operation_outcome(400, None, f"Bundle.entry[{index}]: {exc}")
    decision = decide(role, interaction, entry_query(url))
    if decision.check_subscription:
        decision = Decision(False, "write Subscriptions one at a time, not in a transaction or batch")
    if not decision.allowed:
        return operation_outcome(
            403,
            None,
            f"Refused Bundle.entry[{index}] ({interaction.describe()}): {decision.reason}; nothing was written",
        )
    return None


def _inflate(body: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = inflater.decompress(body, MAX_INSPECTED_BYTES + 1)
    if len(out) > MAX_INSPECTED_BYTES or inflater.unconsumed_tail:
        raise OverflowError
    return out
