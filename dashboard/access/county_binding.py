"""A wall screen is bound to one county: every address it asks for must name that county.

A screen's session names its county; these functions make each request a screen sends name it
(adding it where none is named) or find that it names another one (to refuse).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, quote

from dashboard.access.auth import Principal, Role

COUNTY_DEFAULTED = ("/api/live/", "/api/geo/")
"""Routes that serve the server's default county when none is named: a screen's own is named for it."""
ADDRESS_PROPERTIES = frozenset({"search", "href"})
ADDRESS_IDS = frozenset({"page-address"})
"""Callback values that are a page's address (``layouts.wall.ADDRESS``: the wall's page is built
from it), whose ``county=`` decides what a screen is served."""


def screen_county(principal: Principal | None) -> str | None:
    """The county a wall screen is bound to; ``None`` for everyone else."""
    return principal.county if principal is not None and principal.role == Role.screen else None


def counties_named(query: str) -> list[str]:
    """Every ``county`` value of a query string (a repeated key is read first by one parser, last by another)."""
    return [value for key, value in parse_qsl(query.lstrip("?"), keep_blank_values=True) if key == "county"]


def bind_query(query: str, county: str) -> str | None:
    """``query`` (without its ``?``) naming ``county``; ``None`` when it names another county."""
    named = counties_named(query)
    if any(name != county for name in named):
        return None
    return query if named else "&".join(p for p in (query, "county=" + quote(county, safe="")) if p)


def bind_address(address: str, county: str) -> str | None:
    """A path or URL whose query names ``county``; ``None`` when it names another. A fragment is
    dropped: no page is built from it, and a page that splits at ``?`` only would read it as part
    of the county."""
    path, _, query = address.partition("#")[0].partition("?")
    bound = bind_query(query, county)
    return None if bound is None else f"{path}?{bound}"


def _callback_values(items: object) -> Iterable[dict[str, object]]:
    """The ``{id, property, value}`` entries of a callback's inputs or state (pattern-matching ones nest in lists)."""
    if isinstance(items, dict):
        yield items
    elif isinstance(items, list):
        for item in items:
            yield from _callback_values(item)


def _strings(value: object) -> Iterable[str]:
    """Strings anywhere in a callback value (a county may hide in any text that holds an address)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


def bind_callback(request: dict[str, object], county: str) -> bool | None:
    """Make every address a screen's callback request carries name the screen's county, so a page
    built from it can only be that county's: whether anything changed, or ``None`` (refuse) when
    any value names another county.

    The wall's page callback reads ``county`` from the address and falls back to the server's
    default county without one; the binding is made here, for every callback, so no screen
    callback has to remember it."""
    changed = False
    for item in (*_callback_values(request.get("inputs")), *_callback_values(request.get("state"))):
        value, prop = item.get("value"), item.get("property")
        if prop in ADDRESS_PROPERTIES and (value is None or isinstance(value, str)):
            text = value or ""
            bound = bind_query(text.lstrip("?"), county) if prop == "search" else bind_address(text, county)
            bound = None if bound is None else ("?" + bound if prop == "search" else bound)
        elif isinstance(item.get("id"), str) and item["id"] in ADDRESS_IDS and (value is None or isinstance(value, str)):
            bound = bind_address(value or "/", county)
        else:
            if any(name != county for text in _strings(value) for name in counties_named(text.partition("?")[2])):
                return None
            continue
        if bound is None:
            return None
        changed = changed or bound != value
        item["value"] = bound
    return changed
