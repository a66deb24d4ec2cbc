"""Search queries for the gateway: parameters, page sizes and next links."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

SearchParams = Mapping[str, str | Sequence[str]] | Sequence[tuple[str, str]]

# Each search page asks for this many entries; paging follows Bundle.link[next].
DEFAULT_PAGE_SIZE = 100
# HAPI's largest page (hapi-config StorageConfig): a larger `_count` gets this many.
MAX_PAGE_SIZE = 500


def next_link(bundle: dict[str, Any]) -> str | None:
    """The URL of a search page's next page, if any."""
    for link in bundle.get("link", []):
        if link.get("relation") == "next":
            url: str = link["url"]
            return url
    return None


def flatten(items: Sequence[tuple[str, str | Sequence[str]]]) -> list[tuple[str, str]]:
    """Parameters with several values as one pair per value (repeated parameters AND)."""
    flat: list[tuple[str, str]] = []
    for key, value in items:
        if isinstance(value, str):
            flat.append((key, value))
        else:
            flat.extend((key, v) for v in value)
    return flat


def as_query(params: SearchParams | None) -> list[tuple[str, str]] | None:
    """Search parameters as (name, value) pairs."""
    if params is None:
        return None
    items = list(params.items()) if isinstance(params, Mapping) else list(params)
    return flatten(items)


def query_params(params: SearchParams | None) -> httpx.QueryParams | None:
    """Search parameters as httpx query parameters."""
    query = as_query(params)
    return httpx.QueryParams(tuple(query)) if query is not None else None


def with_count(params: SearchParams | None) -> list[tuple[str, str]]:
    """Search parameters with a page size: the one asked for, else DEFAULT_PAGE_SIZE."""
    query = as_query(params) or []
    if not any(key == "_count" for key, _ in query):
        query.append(("_count", str(DEFAULT_PAGE_SIZE)))
    return query


def counted(search_url: str) -> str:
    """A search URL (`Type?query`) with a page size: the one it asks for, else DEFAULT_PAGE_SIZE."""
    if any(key == "_count" for key, _ in parse_qsl(urlsplit(search_url).query)):
        return search_url
    return f"{search_url}&_count={DEFAULT_PAGE_SIZE}"


def page_is_full(search_url: str, matches: int) -> bool:
    """Whether an unpaged answer to `search_url` (from `counted`) with `matches` matches filled its
    page, so more may exist."""
    asked = int(dict(parse_qsl(urlsplit(search_url).query))["_count"])
    return matches >= min(asked, MAX_PAGE_SIZE)
