"""The wall screen (一屏观全市): header with freshness, KPI row, panels round the map of its area (a
county's grids, or a city's counties and a province's cities).

Values arrive through ``assets/live.js`` (server-sent events, polling as fallback); the layout
only says which county, township and period this screen follows.
"""

from __future__ import annotations

import dash_leaflet as dl
from dash import dcc, html

from dashboard.domain.figure_text import DASH
from dashboard.domain.labels import client_labels, label
from dashboard.domain.screen_period import ScreenPeriod
from layouts import ids
from layouts.kpi import kpi_row
from layouts.map_view import STYLE_NS, county_map, legend
from layouts.warnings_panel import wall_warnings_panel
from layouts.wall_panels import categories_panel, league_panel, pyramid_panel, sources_panel, ticker_panel, trend_panel

PAGE = "wall-page"
ADDRESS = "page-address"
URL = "wall-url"
SCREEN = "screen-body"


def shell() -> html.Div:
    """The root layout: the page is filled in once the address (screen, language, county) is known.

    It holds no ``dcc`` component, so the wall's page can leave the dcc scripts out
    (``dashboard.web.screen_index``); the browser writes its address into ``ADDRESS`` on load."""
    return html.Div([html.Div(id=ADDRESS, hidden=True), html.Div(id=PAGE, className="wall-root")])


def navigable(pathname: str, search: str, page: list[object]) -> list[object]:
    """A tablet or duty console page with the ``dcc.Location`` its links and callbacks drive.

    The location starts at the page's own address, so mounting it changes nothing and only a
    later navigation re-renders ``SCREEN``."""
    return [dcc.Location(id=URL, pathname=pathname, search=search),
            html.Div(page, id=SCREEN, style={"display": "contents"})]


def live_anchor(*, county: str, area: str, period: ScreenPeriod, build: str, stale_ms: int, lang: str,
                tour: bool = True, tour_seconds: tuple[int, int] = (40, 10)) -> html.Div:
    """Where ``live.js`` reads what to follow and ``tour.js`` how long to show the county and each
    stop; the badge texts travel with it."""
    return html.Div(id=ids.LIVE, hidden=True, **{
        "data-tour-home-ms": str(tour_seconds[0] * 1000), "data-tour-stop-ms": str(tour_seconds[1] * 1000),
        "data-county": county, "data-area": area, "data-period": period.key, "data-lang": lang, "data-build": build,
        "data-stale-ms": str(stale_ms), "data-tour": "on" if tour else "off",
        "data-live": label("live", lang), "data-reconnecting": label("reconnecting", lang),
        "data-stale": label("stale_since", lang), "data-polling": label("polling", lang),
    })


REGION_LEVELS = ("city", "province")


def region_map(*, code: str, bounds: list[list[float]], lang: str, tile_url: str | None = None,
               tile_attribution: str = "") -> dl.MapContainer:
    """A city's or province's map: its children's outlines (``GET /api/geo/region/{code}``: a
    city's counties, a province's cities), filled by each child's alert level from the live values
    through the same style functions as a county's grids (``assets/map_style.js``), so an update
    restyles only the children whose values changed; drawn a second time as outlines the hotspot
    tour can focus, as it does a county's townships."""
    url = f"/api/geo/region/{code}"
    layers: list[object] = [dl.TileLayer(url=tile_url, attribution=tile_attribution)] if tile_url else []
    layers += [
        dl.Pane(name="grids", style={"zIndex": 400}, children=dl.GeoJSON(
            id=ids.GRIDS, url=url, style={"variable": f"{STYLE_NS}.gridStyle"},
            onEachFeature={"variable": f"{STYLE_NS}.gridTooltip"}, hideout={"labels": client_labels(lang)},
        )),
        dl.Pane(name="townships", style={"zIndex": 450, "pointerEvents": "none"}, children=dl.GeoJSON(
            id=ids.TOWNSHIPS, url=url, style={"variable": f"{STYLE_NS}.townshipStyle"},
            onEachFeature={"variable": f"{STYLE_NS}.townshipRegister"}, interactive=False,
        )),
    ]
    return dl.MapContainer(
        id=ids.MAP, bounds=bounds, boundsOptions={"padding": [12, 12]}, trackViewport=False, preferCanvas=True,
        zoomSnap=0.25, attributionControl=bool(tile_url), className="county-map region-map", children=layers,
    )


def wall(
    *, county: str, county_name: str, bounds: list[list[float]], lang: str, stale_ms: int, build: str,
    period: ScreenPeriod = ScreenPeriod(), area: str | None = None, area_name: str | None = None, townships: int = 0, tour: bool = True,
    tour_seconds: tuple[int, int] = (40, 10),
    tile_url: str | None = None, tile_attribution: str = "", level: str = "county",
) -> list[object]:
    """The wall of a county (``level`` county; ``area`` a township it follows, or the county), or
    of a city or province (``level`` city or province, ``area`` its code, ``area_name`` its name,
    ``county`` one of its counties, which the live stream names; ``townships`` its children)."""
    region = level in REGION_LEVELS
    title = area_name if region and area_name else f"{county_name} · {area_name}" if area_name else county_name
    words = period.words(lang)
    if region:
        the_map = region_map(code=area or county, bounds=bounds, lang=lang, tile_url=tile_url, tile_attribution=tile_attribution)
        note = label(f"region_note.{level}", lang)
    else:
        the_map = county_map(county=county, bounds=bounds, lang=lang, tile_url=tile_url, tile_attribution=tile_attribution)
        note = label("generated_note", lang)
    return [
        html.Header(className="wall-header", children=[
            html.H1(f"{title} · {label('title', lang)}", id=ids.TITLE),
            html.Div(className="wall-status", children=[
                html.Span(label("period.label", lang).format(**words), className="wall-period"),
                html.Span("…", id=ids.FRESHNESS, className="badge badge-wait"),
                html.Span([label("updated", lang), " ", html.Span(DASH, id=ids.UPDATED)], className="updated"),
            ]),
        ]),
        kpi_row({}, lang, words=words),
        html.Div(className=f"wall-body lang-{lang}", children=[
            html.Aside(className="wall-side wall-left", children=[
                wall_warnings_panel(lang), categories_panel(lang, words), sources_panel(lang, words), pyramid_panel(lang, words),
            ]),
            html.Div(className="wall-centre", children=[
                html.Main(className="wall-map", children=[
                    the_map,
                    html.Div(id=ids.LEGEND, className="legend", children=[
                        *legend(lang), html.Span(note, className="legend-note")]),
                    html.Div(id=ids.TOUR, className="tour-caption", hidden=True),
                ]),
                trend_panel(lang),
            ]),
            html.Aside(className="wall-side wall-right", children=[league_panel(lang, words, townships, level),
                                                                   ticker_panel(lang)]),
        ]),
        live_anchor(county=county, area=area or county, period=period, build=build, stale_ms=stale_ms, lang=lang,
                    tour=tour, tour_seconds=tour_seconds),
    ]
