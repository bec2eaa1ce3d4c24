"""The wall screen: built once per URL. Live values bypass callbacks (see live.js)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qs

from dash import Dash, Input, Output, html

from callbacks import duty, tablet
from callbacks.access import allowed
from dashboard.access.auth import DUTY, TABLET, current_user
from dashboard.access.scope import caller_sees
from dashboard.domain.area_scope import ScopeLevel, level_of
from dashboard.domain.labels import label
from dashboard.domain.periods import local_date
from dashboard.domain.screen_period import WALL_RANGES, ScreenPeriod
from dashboard.runtime import Runtime
from dashboard.screens import places, rollup
from dashboard.screens.region_wall import region_bounds
from dashboard.screens.wall_service import SnapshotCache, county_view
from dashboard.screens.wall_snapshot import stale_after
from layouts import wall


def screen_period(query: dict[str, list[str]], today: date) -> ScreenPeriod:
    """``from``/``to`` (a span ending by today), else ``range`` (the tablet's ``today``, ``7d``,
    ``30d``, ``ytd``), else ``days=N``; the last 30 days when none of them is well-formed."""
    first, last = query.get("from", [""])[0], query.get("to", [""])[0]
    name, days = query.get("range", [""])[0], query.get("days", [""])[0]
    candidates = [f"{first}_{last}", "ytd" if name == "ytd" else f"{WALL_RANGES.get(name, 0)}d", f"{days}d"]
    for key in candidates:
        try:
            period = ScreenPeriod.from_key(key)
            period.period(today)
        except ValueError:
            continue
        return period
    return ScreenPeriod()


TOUR_SECONDS = {"tour_home": 40, "tour_stop": 10}
"""How long the hotspot tour shows the whole area, and each township, unless the URL says otherwise."""


def _seconds(query: dict[str, list[str]], name: str) -> int:
    raw = query.get(name, [""])[0]
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= 3600 else TOUR_SECONDS[name]


def screen_params(search: str | None, default_lang: str, *, today: date) -> dict[str, Any]:
    """URL parameters that configure a wall without clicks:
    ``?lang=en&county=220283&township=220283100&range=ytd&tour=off`` (or ``days=365``, or
    ``from=2025-01-01&to=2025-12-31``; ``tour_home=40&tour_stop=10`` time the tour in seconds).
    ``?area=CODE`` sets the wall to any level: a province or city (``region``), a county or a
    township (as ``?county=`` and ``?township=``, which keep working).
    ``today`` is the clock's local date: a span must end by it."""
    query = parse_qs((search or "").lstrip("?"))
    lang = query.get("lang", [default_lang])[0]
    township = query.get("township", [None])[0]
    county = query.get("county", [None])[0]
    area = query.get("area", [""])[0]
    level = level_of(area) if len(area) <= 15 else None
    if level is ScopeLevel.county:
        county = area
    elif level is ScopeLevel.township:
        county, township = area[:6], area
    return {"lang": lang if lang in ("zh", "en") else default_lang, "county": county,
            "township": township if township and township.isdigit() else None,
            "region": area if level in (ScopeLevel.city, ScopeLevel.province) else None,
            "period": screen_period(query, today),
            "tour": query.get("tour", ["on"])[0] != "off",
            "tour_seconds": (_seconds(query, "tour_home"), _seconds(query, "tour_stop"))}


def region_page(rt: Runtime, params: dict[str, Any], *, build: str) -> list[object] | None:
    """The wall of a city or province (``?area=``): its roll-up, its children's league and map, a
    tour among its children; ``None`` for a code that is no region served here or that the caller
    does not see (the wall then shows its default county, as for a mistyped ``?county=``)."""
    code = params["region"]
    if code is None or not caller_sees(code):
        return None
    try:
        name, bounds = region_bounds(rt, code)
        counties, kids = rollup.region_counties(rt, code), rollup.children_of(rt, code)
    except LookupError:
        return None
    level = level_of(code)
    assert level is not None
    return wall.wall(
        county=counties[0], county_name=name, bounds=bounds, lang=params["lang"], period=params["period"], area=code,
        area_name=name, townships=len(kids), tour=params["tour"], tour_seconds=params["tour_seconds"],
        stale_ms=int(stale_after(rt.settings.refresh_seconds).total_seconds() * 1000), build=build,
        tile_url=rt.settings.tile_url, tile_attribution=rt.settings.tile_attribution, level=level.value,
    )


def wall_page(rt: Runtime, search: str | None, *, build: str) -> list[object]:
    params = screen_params(search, rt.settings.language, today=local_date(rt.clock()))
    region = region_page(rt, params, build=build)
    if region is not None:
        return region
    try:
        code, name, bounds = county_view(rt, params["county"])
    except LookupError:  # a mistyped ?county= shows the default county, as the tablet does with an area
        code, name, bounds = county_view(rt, None)
    with rt.sessions() as session:
        towns = places.townships(session, code)
    focus = next((p for p in towns if p.code == params["township"]), None)
    return wall.wall(
        county=code, county_name=name, bounds=focus.bounds if focus else bounds, lang=params["lang"],
        period=params["period"], area=focus.code if focus else code, area_name=focus.name if focus else None,
        townships=len(towns), tour=params["tour"] and focus is None, tour_seconds=params["tour_seconds"],
        stale_ms=int(stale_after(rt.settings.refresh_seconds).total_seconds() * 1000), build=build,
        tile_url=rt.settings.tile_url, tile_attribution=rt.settings.tile_attribution,
    )


ADDRESS_JS = "function (_) { return window.location.pathname + window.location.search; }"
"""Reads the page's address in the browser: the wall has no ``dcc.Location`` to report it."""


def register(app: Dash, rt: Runtime, snapshots: SnapshotCache, *, build: str) -> None:
    """One callback builds the page for its address: the wall (``/``, ``/screen``), the tablet or the
    duty console; each screen registers its own callbacks. ``snapshots`` is the process's one
    wall-snapshot cache, shared with the live hub."""
    tablet.register(app, rt, snapshots)
    duty.register(app, rt)

    def page(pathname: str | None, search: str | None) -> list[object]:
        path = (pathname or "/").rstrip("/")
        lang = screen_params(search, rt.settings.language, today=local_date(rt.clock()))["lang"]
        if path == "/tablet":
            if not allowed(TABLET):
                return [html.Div(label("forbidden", lang), className="forbidden")]
            return [html.Div(tablet.tablet_page(rt, snapshots, search), className="tablet-root")]
        if path == "/duty":
            user = current_user()
            if user is None or not allowed(DUTY):
                return [html.Div(label("forbidden", lang), className="forbidden")]
            return [html.Div(duty.duty_page(rt, search, officer=user.name), className="duty-root")]
        return wall_page(rt, search, build=build)

    app.clientside_callback(ADDRESS_JS, Output(wall.ADDRESS, "children"), Input(wall.ADDRESS, "id"))

    @app.callback(Output(wall.PAGE, "children"), Input(wall.ADDRESS, "children"), prevent_initial_call=True)
    def render(address: str | None) -> list[object]:
        """The first page; the tablet and the duty console get a ``dcc.Location`` for their links."""
        pathname, mark, query = (address or "/").partition("?")
        search = mark + query
        if pathname.rstrip("/") in ("/tablet", "/duty"):
            return wall.navigable(pathname, search, page(pathname, search))
        return page(pathname, search)

    @app.callback(Output(wall.SCREEN, "children"), Input(wall.URL, "pathname"), Input(wall.URL, "search"),
                  prevent_initial_call=True)
    def navigate(pathname: str | None, search: str | None) -> list[object]:
        """A link or a callback changed the address of a tablet or duty console page."""
        return page(pathname, search)
