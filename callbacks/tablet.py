"""The leader's tablet: parse the URL, build the view, keep it fresh; drill down by links or by
tapping an area on the map.

The map is built with the page and left alone by the refresh: the refreshed body carries the map's
values (``layouts.tablet.map_values``) and :func:`restyle` hands them over, so a live update
recolours the areas and never moves the map. Going to another area builds a new map fitted to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qs

from dash import Dash, Input, Output, State, no_update

from callbacks.access import acting
from dashboard.access.auth import TABLET
from dashboard.api.region_geometry import area_bounds
from dashboard.domain.area_scope import ScopeLevel, level_of
from dashboard.domain.labels import label
from dashboard.domain.periods import RANGE_NAMES, Period, local_date, named_period
from dashboard.domain.tablet_view import TabletView
from dashboard.runtime import Runtime
from dashboard.screens.tablet_service import tablet_view, townships
from dashboard.screens.wall_service import SnapshotCache, county_view
from dashboard.warnings import service as warning_service
from layouts import map_view, tablet, wall
from layouts.warnings_panel import warnings_list

REFRESH_MS = 30_000


def tablet_params(search: str | None, default_lang: str) -> dict[str, str]:
    """Only known keys with well-formed values survive, so a forwarded link cannot inject."""
    query = {k: v[0] for k, v in parse_qs((search or "").lstrip("?")).items()}
    params: dict[str, str] = {"lang": query.get("lang", default_lang) if query.get("lang") in ("zh", "en") else default_lang,
                              "range": query.get("range", "30d") if query.get("range") in RANGE_NAMES else "30d"}
    for key in ("area", "county"):
        if query.get(key, "").isdigit():
            params[key] = query[key]
    if query.get("measure") in map_view.MEASURES:
        params["measure"] = query["measure"]
    codes = query.get("compare", "").split(",")
    if len(codes) == 2 and all(c.isdigit() for c in codes):
        params["compare"] = ",".join(codes)
    for key in ("from", "to"):
        try:
            params[key] = date.fromisoformat(query.get(key, "")).isoformat()
        except ValueError:
            pass
    return params


def period_of(params: dict[str, str], today: date) -> Period:
    """The range in the URL; a malformed custom range falls back to 30 days."""
    try:
        first = date.fromisoformat(params["from"]) if "from" in params else None
        last = date.fromisoformat(params["to"]) if "to" in params else None
        return named_period(params["range"], today, first=first, last=last)
    except ValueError:
        return named_period("30d", today)


@dataclass(frozen=True)
class MapSpec:
    """What the tablet's map draws for a view: the children of ``area`` from ``url``, those whose
    ``parent_code`` is ``parent`` (``None``: every feature), fitted to ``bounds``; ``current`` is
    the grid shown among its village's grids."""

    area: str
    url: str
    parent: str | None
    current: str | None
    bounds: list[list[float]]


COUNTY_LAYERS = {"county": "townships", "township": "villages", "village": "grids", "grid": "grids"}
"""The county's layer that holds the children of each level (a grid is shown among its village's grids)."""


def map_spec(rt: Runtime, view: TabletView, county: str) -> MapSpec:
    """Where the map of ``view`` gets its geometry: a city's or province's children from
    ``/api/geo/region/{code}``, below that the county's layer of the next level, filtered to the
    children of the area shown."""
    area = view.area
    if area.level not in COUNTY_LAYERS:
        url, parent, current, framed = f"/api/geo/region/{area.code}", None, None, area.code
    else:
        layer = COUNTY_LAYERS[area.level]
        url = f"/api/geo/{layer}.geojson?county={county}"
        if area.level == "grid":
            parent, current, framed = view.path[-2].code, area.code, view.path[-2].code
        else:
            parent, current, framed = area.code, None, area.code
    with rt.sessions() as session:
        bounds = area_bounds(session, framed)
    if bounds is None:  # an area known only by its code: frame its county
        bounds = county_view(rt, county)[2]
    return MapSpec(area.code, url, parent, current, bounds)


def county_of(rt: Runtime, params: dict[str, str]) -> str:
    """The county whose areas the tablet shows: the one the area lies in when it is a served
    county or lies inside one, else ``?county=`` or the deployment's."""
    area = params.get("area", "")
    if level_of(area) in (ScopeLevel.county, ScopeLevel.township, ScopeLevel.village, ScopeLevel.grid) \
            and area[:6] in rt.served_counties():
        return area[:6]
    try:
        return county_view(rt, params.get("county"))[0]
    except LookupError:  # a mistyped ?county= shows the deployment's county, as on the wall (never a 500)
        return county_view(rt, None)[0]


@dataclass(frozen=True)
class TabletScreen:
    """The body of the page and the map that goes with it."""

    body: list[object]
    view: TabletView
    """The area the map shows (the county on a comparison)."""
    county: str
    params: dict[str, str]
    hideout: dict[str, object]
    """The map's values, also carried by the body's last element (``layouts.tablet.map_values``)."""


def tablet_screen(rt: Runtime, snapshots: SnapshotCache, params: dict[str, str], *,
                  now: datetime | None = None) -> TabletScreen:
    now = now or rt.clock()
    lang = params["lang"]
    county = county_of(rt, params)
    period = period_of(params, local_date(now))
    towns = townships(rt, county)
    if "compare" in params:
        first, second = params["compare"].split(",")
        try:
            views = [tablet_view(rt, snapshots, county=county, code=code, period=period, now=now, with_cases=False)
                     for code in (first, second)]
            home = tablet_view(rt, snapshots, county=county, code=county, period=period, now=now, with_cases=False)
            body = tablet.compare_body(views[0], views[1], params, lang, towns)
            hideout = hideout_of(home, params)
            return TabletScreen([*body, tablet.map_values(hideout)], home, county, params, hideout)
        except LookupError:
            params = {k: v for k, v in params.items() if k != "compare"}
    try:
        view = tablet_view(rt, snapshots, county=county, code=params.get("area", county), period=period, now=now)
    except LookupError:  # an area outside the county: its code is not carried on in the page's links either
        params = {k: v for k, v in params.items() if k != "area"}
        view = tablet_view(rt, snapshots, county=county, code=county, period=period, now=now)
    body = tablet.area_body(view, params, lang, towns)
    body.insert(len(body) - 1, warnings_list(warning_service.current(rt, view.area.code), lang, class_name="tablet-warnings"))
    hideout = hideout_of(view, params)
    body.append(tablet.map_values(hideout))
    return TabletScreen(body, view, county, params, hideout)


def hideout_of(view: TabletView, params: dict[str, str]) -> dict[str, object]:
    """The map's values for ``view``: its children coloured by the measure in the address."""
    area = view.area
    if area.level == "grid":
        parent, current = view.path[-2].code, area.code
    else:
        parent, current = (area.code if area.level in COUNTY_LAYERS else None), None
    return map_view.tablet_hideout(view.children, params.get("measure", map_view.MEASURES[0]), params["lang"],
                                   area=area.code, parent=parent, current=current)


def tablet_body(rt: Runtime, snapshots: SnapshotCache, params: dict[str, str], *, now: datetime | None = None) -> list[object]:
    return tablet_screen(rt, snapshots, params, now=now).body


def tablet_page(rt: Runtime, snapshots: SnapshotCache, search: str | None) -> list[object]:
    params = tablet_params(search, rt.settings.language)
    screen = tablet_screen(rt, snapshots, params)
    place = next((ref.name for ref in screen.view.path if ref.level == "county"), screen.view.area.name)
    title = f"{place} · {label('tablet.title', params['lang'])}"
    spec = map_spec(rt, screen.view, screen.county)
    card = tablet.map_card(area=spec.area, url=spec.url, bounds=spec.bounds, hideout=screen.hideout,
                           params=screen.params, lang=params["lang"])
    return tablet.tablet(title, screen.body, screen.params, params["lang"], REFRESH_MS, card)


def restyle(values: dict[str, Any] | None, shown: dict[str, Any] | None) -> tuple[Any, Any]:
    """The map's new values and legend when the refreshed values differ from those shown; else
    nothing changes (the map redraws its areas on any new values, so unchanged ones are not sent)."""
    if not values or values == shown:
        return no_update, no_update
    return values, map_view.tablet_legend(values, str(values.get("lang", "zh")))


def drill(feature: dict[str, Any] | None, search: str | None, default_lang: str) -> str:
    """The address of the area tapped on the map (``feature``: the GeoJSON feature Leaflet hands
    over); nothing when it is no area code or the area already shown. Whether the area may be
    shown to the caller is decided when the page for the new address is built, as for any link."""
    props = feature.get("properties") if isinstance(feature, dict) else None
    code = props.get("code") if isinstance(props, dict) else None
    if not isinstance(code, str) or level_of(code) is None:
        return no_update
    params = tablet_params(search, default_lang)
    if params.get("area") == code:
        return no_update
    return tablet.href(params, area=code, compare=None).removeprefix("/tablet")


def register(app: Dash, rt: Runtime, snapshots: SnapshotCache) -> None:
    @app.callback(Output(tablet.BODY, "children"), Input(tablet.TICK, "n_intervals"), State(wall.URL, "search"),
                  prevent_initial_call=True)
    def refresh(_: int, search: str | None) -> list[object]:
        acting(TABLET)
        return tablet_body(rt, snapshots, tablet_params(search, rt.settings.language))

    @app.callback(Output(map_view.TABLET_AREAS, "hideout"), Output(map_view.TABLET_LEGEND, "children"),
                  Input(tablet.MAP_VALUES, "data"), State(map_view.TABLET_AREAS, "hideout"))
    def restyle_map(values: dict[str, Any] | None, shown: dict[str, Any] | None) -> tuple[Any, Any]:
        acting(TABLET)
        return restyle(values, shown)

    @app.callback(Output(wall.URL, "search", allow_duplicate=True), Input(map_view.TABLET_AREAS, "n_clicks"),
                  State(map_view.TABLET_AREAS, "clickData"), State(wall.URL, "search"), prevent_initial_call=True)
    def tap_area(_: int | None, feature: dict[str, Any] | None, search: str | None) -> str:
        acting(TABLET)
        return drill(feature, search, rt.settings.language)

    @app.callback(Output(wall.URL, "search", allow_duplicate=True), Input(tablet.RANGE_FROM, "start_date"),
                  Input(tablet.RANGE_FROM, "end_date"), State(wall.URL, "search"), prevent_initial_call=True)
    def pick_range(start: str | None, end: str | None, search: str | None) -> str:
        acting(TABLET)
        params = tablet_params(search, rt.settings.language)
        if not start or not end:
            return no_update
        shown = period_of(params, local_date(rt.clock()))
        if (start[:10], end[:10]) == (shown.first.isoformat(), shown.last.isoformat()):
            return no_update  # the picker was just drawn with the range already shown
        chosen = {"range": "custom", "from": start[:10], "to": end[:10]}
        return tablet.href(params, **chosen).removeprefix("/tablet")

    @app.callback(Output(wall.URL, "search", allow_duplicate=True), Input(tablet.COMPARE_GO, "n_clicks"),
                  State(tablet.COMPARE_A, "value"), State(tablet.COMPARE_B, "value"), State(wall.URL, "search"),
                  prevent_initial_call=True)
    def compare(clicks: int, first: str | None, second: str | None, search: str | None) -> str:
        acting(TABLET)
        if not clicks or not first or not second or first == second:
            return no_update
        params = tablet_params(search, rt.settings.language)
        return tablet.href(params, compare=f"{first},{second}", area=None).removeprefix("/tablet")
