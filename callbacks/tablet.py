"""The leader's tablet: parse the URL, build the view, keep it fresh; drill-down is plain links."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import parse_qs

from dash import Dash, Input, Output, State, no_update

from callbacks.access import acting
from dashboard.access.auth import TABLET
from dashboard.domain.labels import label
from dashboard.domain.periods import RANGE_NAMES, Period, local_date, named_period
from dashboard.runtime import Runtime
from dashboard.screens.tablet_service import tablet_view, townships
from dashboard.screens.wall_service import SnapshotCache, county_view
from dashboard.warnings import service as warning_service
from layouts import tablet, wall
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


def tablet_body(rt: Runtime, snapshots: SnapshotCache, params: dict[str, str], *, now: datetime | None = None) -> list[object]:
    now = now or rt.clock()
    lang = params["lang"]
    county, _, _ = county_view(rt, params.get("county"))
    period = period_of(params, local_date(now))
    towns = townships(rt, county)
    if "compare" in params:
        first, second = params["compare"].split(",")
        try:
            views = [tablet_view(rt, snapshots, county=county, code=code, period=period, now=now, with_cases=False)
                     for code in (first, second)]
            return tablet.compare_body(views[0], views[1], params, lang, towns)
        except LookupError:
            params = {k: v for k, v in params.items() if k != "compare"}
    try:
        view = tablet_view(rt, snapshots, county=county, code=params.get("area", county), period=period, now=now)
    except LookupError:  # an area outside the county: its code is not carried on in the page's links either
        params = {k: v for k, v in params.items() if k != "area"}
        view = tablet_view(rt, snapshots, county=county, code=county, period=period, now=now)
    body = tablet.area_body(view, params, lang, towns)
    body.insert(len(body) - 1, warnings_list(warning_service.current(rt, view.area.code), lang, class_name="tablet-warnings"))
    return body


def tablet_page(rt: Runtime, snapshots: SnapshotCache, search: str | None) -> list[object]:
    params = tablet_params(search, rt.settings.language)
    _, county_name, _ = county_view(rt, params.get("county"))
    title = f"{county_name} · {label('tablet.title', params['lang'])}"
    return tablet.tablet(title, tablet_body(rt, snapshots, params), params, params["lang"], REFRESH_MS)


def register(app: Dash, rt: Runtime, snapshots: SnapshotCache) -> None:
    @app.callback(Output(tablet.BODY, "children"), Input(tablet.TICK, "n_intervals"), State(wall.URL, "search"),
                  prevent_initial_call=True)
    def refresh(_: int, search: str | None) -> list[object]:
        acting(TABLET)
        return tablet_body(rt, snapshots, tablet_params(search, rt.settings.language))

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
