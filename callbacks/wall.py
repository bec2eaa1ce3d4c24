"""The wall screen: built once per URL. Live values bypass callbacks (see live.js)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from dash import Dash, Input, Output, html

from callbacks import duty, tablet
from callbacks.access import allowed
from dashboard import places
from dashboard.auth import DUTY, TABLET, current_user
from dashboard.runtime import Runtime
from dashboard.wall_service import SnapshotCache, county_view
from dashboard.wall_snapshot import stale_after
from layouts import wall
from layouts.labels import label

MAX_PERIOD_DAYS = 366 * 3


def screen_params(search: str | None, default_lang: str) -> dict[str, Any]:
    """URL parameters that configure a wall without clicks:
    ``?lang=en&county=220283&township=220283100&days=365&tour=off``."""
    query = parse_qs((search or "").lstrip("?"))
    lang = query.get("lang", [default_lang])[0]
    raw_days = query.get("days", ["30"])[0]
    days = int(raw_days) if raw_days.isdigit() and 1 <= int(raw_days) <= MAX_PERIOD_DAYS else 30
    township = query.get("township", [None])[0]
    return {"lang": lang if lang in ("zh", "en") else default_lang, "county": query.get("county", [None])[0],
            "township": township if township and township.isdigit() else None, "days": days,
            "tour": query.get("tour", ["on"])[0] != "off"}


def wall_page(rt: Runtime, search: str | None, *, build: str) -> list[object]:
    params = screen_params(search, rt.settings.language)
    code, name, bounds = county_view(rt, params["county"])
    with rt.sessions() as session:
        towns = places.townships(session, code)
    focus = next((p for p in towns if p.code == params["township"]), None)
    return wall.wall(
        county=code, county_name=name, bounds=focus.bounds if focus else bounds, lang=params["lang"],
        days=params["days"], area=focus.code if focus else code, area_name=focus.name if focus else None,
        townships=len(towns), tour=params["tour"] and focus is None,
        stale_ms=int(stale_after(rt.settings.refresh_seconds).total_seconds() * 1000), build=build,
        tile_url=rt.settings.tile_url, tile_attribution=rt.settings.tile_attribution,
    )


ADDRESS_JS = "function (_) { return window.location.pathname + window.location.search; }"
"""Reads the page's address in the browser: the wall has no ``dcc.Location`` to report it."""


def register(app: Dash, rt: Runtime, *, build: str) -> None:
    """One callback builds the page for its address: the wall (``/``, ``/screen``), the tablet or the
    duty console; each screen registers its own callbacks."""
    snapshots = SnapshotCache(rt)
    tablet.register(app, rt, snapshots)
    duty.register(app, rt)

    def page(pathname: str | None, search: str | None) -> list[object]:
        path = (pathname or "/").rstrip("/")
        lang = screen_params(search, rt.settings.language)["lang"]
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
