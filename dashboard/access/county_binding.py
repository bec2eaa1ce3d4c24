"""A held principal is bound to its area: every address it asks for must name a county inside it.

A wall screen is bound to one county; a person created with ``--area`` (or ``--county``) to a
county, a city or a province (``dashboard.domain.area_scope``). These functions make each request
such a principal sends name a county (adding its home county where none is named) or find that
it names one outside its area (to refuse), so no route or callback has to remember the rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlsplit

from dashboard.access.auth import Principal, Role
from dashboard.domain.area_scope import ScopeLevel, contains, home_county, level_of

COUNTY_DEFAULTED = ("/api/live/", "/api/geo/")
"""Routes that serve the server's default county when none is named: a screen's own is named for it."""
ADDRESS_PROPERTIES = frozenset({"search", "href"})
ADDRESS_IDS = frozenset({"page-address"})
"""Callback values that are a page's address (``layouts.wall.ADDRESS``: the wall's page is built
from it), whose ``county=`` decides what a screen is served."""


AREA_KEYS = frozenset({"area", "township", "compare"})
"""Query keys whose values are area codes (``compare`` holds two, comma-separated): the tablet's
drill-down and comparison, the wall's township."""


@dataclass(frozen=True)
class Binding:
    """What a held principal's addresses may name: ``county`` is added where none is named (its
    home county); ``admits`` says whether a named county is inside its area; ``holds`` (a person
    only) whether an area code named under :data:`AREA_KEYS` is."""

    county: str
    admits: Callable[[str], bool]
    screen: bool
    """A wall (refused with 403, as always) or a person (404: outside their area is not there)."""
    holds: Callable[[str], bool] | None = None

    def refuses(self, query: str) -> bool:
        """Whether a query string names a county, or (for a person) an area, outside the area."""
        return any(not self.admits(county) for county in counties_named(query)) or (
            self.holds is not None and any(not self.holds(code) for code in areas_named(query)))


NO_COUNTY = "no_county"
"""The binding of a person whose area holds no county this deployment can show them (a city or a
province without the deployment's county): refused on every screen and screen route."""


def binding_for(principal: Principal | None, deployment_county: str | None) -> Binding | str | None:
    """The binding of a request's principal: ``None`` when it is held to no area (an unscoped
    admin, leader or officer, a source system), :data:`NO_COUNTY` when it must be refused, else
    its :class:`Binding`. ``deployment_county``: the county the deployment serves when none is
    named (``None`` while unknown)."""
    if principal is None or principal.area is None or principal.role == Role.api_client:
        return None
    area = principal.area
    if principal.role == Role.screen:
        return Binding(area, lambda county: county == area, screen=True)
    home = home_county(area, deployment_county) if deployment_county else (
        area if level_of(area) is ScopeLevel.county else None)
    if home is None:
        return NO_COUNTY
    return Binding(home, lambda county: level_of(county) is ScopeLevel.county and contains(area, county), screen=False,
                   holds=lambda code: contains(area, code))


CONSOLE_PATH = "/duty"
CONSOLE_CALLBACKS = "duty-"
"""The duty console's page and the prefix of its callbacks' output ids (``auth.CALLBACK_SCOPES``).
The console serves the deployment's county only, so a person whose area does not hold that county
may neither open it nor run any of its callbacks: its queue, case, actions, reveals, notes, and
whatever panel is added to it later."""
DEPLOYMENT_ONLY = (CONSOLE_PATH, "/reports")
"""Pages (and everything under them) that serve only the deployment's county: refused to a person
whose area does not hold it (:func:`serves_console`)."""


def deployment_only(path: str) -> bool:
    """Whether ``path`` is one of :data:`DEPLOYMENT_ONLY` or lies under one."""
    return any(path == prefix or path.startswith(prefix + "/") for prefix in DEPLOYMENT_ONLY)


def serves_console(principal: Principal, deployment_county: str | None) -> bool:
    """Whether the duty console (which shows only the deployment's county) may serve ``principal``:
    an unscoped person, or one whose area holds the deployment's county; while that county is
    unknown (the database away), only an unscoped person."""
    if principal.area is None or principal.role == Role.api_client:
        return True
    return deployment_county is not None and contains(principal.area, deployment_county)


def asks_for_console(request: dict[str, object]) -> bool:
    """Whether a callback request builds the duty console's page: an address it carries (the
    page's address, a location's ``pathname`` or ``href``) leads to :data:`CONSOLE_PATH`."""
    for item in (*_callback_values(request.get("inputs")), *_callback_values(request.get("state"))):
        value, prop = item.get("value"), item.get("property")
        if isinstance(value, str) and (prop in ("pathname", "href") or item.get("id") in ADDRESS_IDS):
            path = urlsplit(value).path if prop == "href" else value.partition("?")[0].partition("#")[0]
            if path.rstrip("/") == CONSOLE_PATH:
                return True
    return False


def counties_named(query: str) -> list[str]:
    """Every ``county`` value of a query string (a repeated key is read first by one parser, last by another)."""
    return [value for key, value in parse_qsl(query.lstrip("?"), keep_blank_values=True) if key == "county"]


def areas_named(query: str) -> list[str]:
    """Every area code a query string names under :data:`AREA_KEYS`."""
    return [code for key, value in parse_qsl(query.lstrip("?"), keep_blank_values=True) if key in AREA_KEYS
            for code in value.split(",") if code]


Refuses = Callable[[str], bool]
"""Whether a query string names anything outside a principal's area (``Binding.refuses``)."""


def bind_query(query: str, county: str, refuses: Refuses | None = None) -> str | None:
    """``query`` (without its ``?``) naming ``county`` where it names none; ``None`` when
    ``refuses`` it (by default: when it names any other county)."""
    named = counties_named(query)
    if refuses(query) if refuses else any(name != county for name in named):
        return None
    return query if named else "&".join(p for p in (query, "county=" + quote(county, safe="")) if p)


def bind_address(address: str, county: str, refuses: Refuses | None = None) -> str | None:
    """A path or URL whose query names ``county`` where it names none; ``None`` when ``refuses``
    its query (by default: when it names another county). A fragment is dropped: no page is built
    from it, and a page that splits at ``?`` only would read it as part of the county."""
    path, _, query = address.partition("#")[0].partition("?")
    bound = bind_query(query, county, refuses)
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


def bind_callback(request: dict[str, object], county: str, refuses: Refuses | None = None) -> bool | None:
    """Make every address a held principal's callback request carries name a county of its area
    (``county`` where none is named), so a page built from it can only be of its area: whether
    anything changed, or ``None`` (refuse) when any value holds a query ``refuses`` refuses (by
    default: one naming any other county than ``county``).

    The screens' page callbacks read ``county`` from the address and fall back to the server's
    default county without one; the binding is made here, for every callback, so no screen
    callback has to remember it."""
    refused = refuses or (lambda query: any(name != county for name in counties_named(query)))
    changed = False
    for item in (*_callback_values(request.get("inputs")), *_callback_values(request.get("state"))):
        value, prop = item.get("value"), item.get("property")
        if prop in ADDRESS_PROPERTIES and (value is None or isinstance(value, str)):
            text = value or ""
            bound = bind_query(text.lstrip("?"), county, refused) if prop == "search" else \
                bind_address(text, county, refused)
            bound = None if bound is None else ("?" + bound if prop == "search" else bound)
        elif isinstance(item.get("id"), str) and item["id"] in ADDRESS_IDS and (value is None or isinstance(value, str)):
            bound = bind_address(value or "/", county, refused)
        else:
            if any(refused(text.partition("?")[2]) for text in _strings(value) if "?" in text):
                return None
            continue
        if bound is None:
            return None
        changed = changed or bound != value
        item["value"] = bound
    return changed
