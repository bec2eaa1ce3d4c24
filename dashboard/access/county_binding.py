"""A held principal is bound to its area: every address it asks for must name only what lies inside it.

A wall screen, a person or a source system may be held to an area (``--area``): a county, a city
or a province (``dashboard.domain.area_scope``). These functions make each request such a
principal sends name a county of its area (adding its home county where none is named) or find
that it names a county or an area outside it (to refuse), so no route or callback has to
remember the rule.

What each binding allows:

* a county: that county and its townships, villages and grids;
* a city: every county of the city (``?county=``), and under ``?area=``/``?township=``/
  ``?compare=`` the city itself and anything in its counties;
* a province: likewise, every city and county of the province.

An address that names a county outside is refused: a wall with 403 (as always), a person or a
source system with 404. An area code outside (any level, or a code that is no area at all) is
refused with 404 for everyone: it is not there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlsplit

from dashboard.access.auth import Principal, Role
from dashboard.domain.area_scope import ScopeLevel, contains, level_of

COUNTY_DEFAULTED = ("/api/live/", "/api/geo/")
"""Routes that serve the server's default county when none is named: a screen's own is named for it."""
ADDRESS_PROPERTIES = frozenset({"search", "href"})
ADDRESS_IDS = frozenset({"page-address"})
"""Callback values that are a page's address (``layouts.wall.ADDRESS``: the wall's page is built
from it), whose ``county=`` decides what a screen is served."""


AREA_KEYS = frozenset({"area", "township", "compare"})
"""Query keys whose values are area codes (``compare`` holds two, comma-separated): the tablet's
drill-down and comparison, the wall's area and township."""
PLACE_KEYS = ("area", "township")
"""The keys whose area, when no county is named, gives the county to show: a city leader's
``?area=`` of a township in another county of the city is shown in that county, not the home one."""
AREA_PATHS = (re.compile(r"/api/geo/region/([^/]*)"),)
"""Routes whose path names an area (``GET /api/geo/region/{code}``): the code must lie inside the
caller's area like any ``?area=``."""
BELOW_CITY = frozenset({ScopeLevel.county, ScopeLevel.township, ScopeLevel.village, ScopeLevel.grid})

COUNTY_REFUSED = "county"
AREA_REFUSED = "area"
"""What a binding refuses in an address (:meth:`Binding.refusal`): a county outside (a wall
answers 403, as always), or an area code outside (404 for everyone)."""


@dataclass(frozen=True)
class Binding:
    """What a held principal's addresses may name: ``county`` is added where none is named (its
    home county); ``admits`` says whether a named county is inside its area; ``holds`` whether an
    area code (any level) named under :data:`AREA_KEYS` or in an area path is."""

    county: str
    admits: Callable[[str], bool]
    screen: bool
    """A wall (a county outside is refused with 403, as always) or a person or source system (404:
    outside their area is not there)."""
    holds: Callable[[str], bool] | None = None

    def refusal(self, query: str) -> str | None:
        """:data:`COUNTY_REFUSED` when a query string names a county outside the area,
        :data:`AREA_REFUSED` when it names an area code outside it, else ``None``."""
        if any(not self.admits(county) for county in counties_named(query)):
            return COUNTY_REFUSED
        if self.holds is not None and any(not self.holds(code) for code in areas_named(query)):
            return AREA_REFUSED
        return None

    def refuses(self, query: str) -> bool:
        """Whether a query string names a county, or an area, outside the area."""
        return self.refusal(query) is not None

    def refuses_path(self, path: str) -> bool:
        """Whether a route's path names an area outside the area (:data:`AREA_PATHS`)."""
        return self.holds is not None and any(not self.holds(code) for code in areas_in_path(path))

    def county_for(self, query: str) -> str:
        """The county to name in a query that names none: the county of the first area it names
        under :data:`PLACE_KEYS` when that area lies in a county of the area (a city leader's
        township in another county of the city), else the home county."""
        county = county_of_place(query)
        return county if county is not None and self.admits(county) else self.county


def county_of_place(query: str) -> str | None:
    """The county of the first area a query names under :data:`PLACE_KEYS`, when that area is a
    county or lies below one: the county a screen route is to show when no ``county=`` is named
    (for anyone: an unscoped admin's ``?area=`` of another county's township is that county's)."""
    for key, value in parse_qsl(query.lstrip("?"), keep_blank_values=True):
        if key in PLACE_KEYS and level_of(value) in BELOW_CITY and level_of(value[:6]) is ScopeLevel.county:
            return value[:6]
    return None


NO_COUNTY = "no_county"
"""The binding of a principal whose area holds no county this deployment can show it (a city or a
province none of whose counties is served): refused on every screen and screen route.

The home county (:attr:`Binding.county`) of a principal held to a county is that county; of one
held to a city or province, the deployment's county when the area holds it, else the first served
county inside the area."""


def needs_served(principal: Principal | None) -> bool:
    """Whether :func:`binding_for` needs the served counties: for a principal held to a city or a
    province, which may name any served county inside it (and only those: a county code of the
    city that is not served here names nothing)."""
    return principal is not None and principal.area is not None and level_of(principal.area) is not ScopeLevel.county


def binding_for(principal: Principal | None, deployment_county: str | None,
                served: Sequence[str] = ()) -> Binding | str | None:
    """The binding of a request's principal: ``None`` when it is held to no area (an unscoped
    admin, leader, officer or source system), :data:`NO_COUNTY` when it must be refused, else
    its :class:`Binding`. ``deployment_county``: the county the deployment serves when none is
    named (``None`` while unknown); ``served``: the deployment's counties, which a principal held
    to a city or province may name (:func:`needs_served`)."""
    if principal is None or principal.area is None:
        return None
    area = principal.area
    if needs_served(principal):
        inside = frozenset(county for county in served if contains(area, county))
        home = deployment_county if deployment_county in inside else min(inside, default=None)
        admits: Callable[[str], bool] = inside.__contains__

        def holds(code: str) -> bool:
            """Inside the area, and (below the city) in a served county: a township of a county that
            is not served names nothing, and a screen must not fall back to its default county."""
            return contains(area, code) and (level_of(code) not in BELOW_CITY or code[:6] in inside)
    else:
        home = area
        admits = area.__eq__

        def holds(code: str) -> bool:
            return contains(area, code)
    if home is None:
        return NO_COUNTY
    return Binding(home, admits, screen=principal.role == Role.screen, holds=holds)


CONSOLE_PATH = "/duty"
CONSOLE_CALLBACKS = "duty-"
"""The duty console's page and the prefix of its callbacks' output ids (``auth.CALLBACK_SCOPES``).
The console serves the deployment's county only, so a person whose area does not hold that county
may neither open it nor run any of its callbacks: its queue, case, actions, reveals, notes, and
whatever panel is added to it later."""
DEPLOYMENT_ONLY = (CONSOLE_PATH, "/reports")
"""Pages (and everything under them) that serve only the deployment's county: refused to a person
whose area does not hold it (:func:`serves_console`)."""


WHOLE_DEPLOYMENT = ("/admin", "/api/audit")
"""Pages and routes that show the whole deployment at once (the audit log names every county's
cases and people): refused to a principal whose area does not hold every served county."""


def whole_deployment(path: str) -> bool:
    """Whether ``path`` is one of :data:`WHOLE_DEPLOYMENT` or lies under one."""
    return any(path == prefix or path.startswith(prefix + "/") for prefix in WHOLE_DEPLOYMENT)


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


County = str | Callable[[str], str]
"""The county to name where a query names none: one code, or chosen from the query
(``Binding.county_for``)."""


def bind_query(query: str, county: County, refuses: Refuses | None = None) -> str | None:
    """``query`` (without its ``?``) naming ``county`` where it names none; ``None`` when
    ``refuses`` it (by default: when it names any other county)."""
    named = counties_named(query)
    if refuses(query) if refuses else any(name != county for name in named):
        return None
    if named:
        return query
    code = county(query) if callable(county) else county
    return "&".join(p for p in (query, "county=" + quote(code, safe="")) if p)


def bind_address(address: str, county: County, refuses: Refuses | None = None) -> str | None:
    """A path or URL whose query names ``county`` where it names none; ``None`` when ``refuses``
    its query (by default: when it names another county). A fragment is dropped: no page is built
    from it, and a page that splits at ``?`` only would read it as part of the county."""
    path, _, query = address.partition("#")[0].partition("?")
    bound = bind_query(query, county, refuses)
    return None if bound is None else f"{path}?{bound}"


def areas_in_path(path: str) -> list[str]:
    """The area codes a route's path names (:data:`AREA_PATHS`)."""
    return [found.group(1) for pattern in AREA_PATHS if (found := pattern.fullmatch(path))]


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


def bind_callback(request: dict[str, object], county: County, refuses: Refuses | None = None) -> bool | None:
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
