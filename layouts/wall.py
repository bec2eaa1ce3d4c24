"""The wall screen (一屏观全市): header with freshness, KPI row, panels round the county map.

Values arrive through ``assets/live.js`` (server-sent events, polling as fallback); the layout
only says which county, township and period this screen follows.
"""

from __future__ import annotations

from dash import dcc, html

from dashboard.domain.figure_text import DASH
from dashboard.domain.labels import label
from dashboard.domain.screen_period import ScreenPeriod
from layouts import ids
from layouts.kpi import kpi_row
from layouts.map_view import county_map, legend
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


def wall(
    *, county: str, county_name: str, bounds: list[list[float]], lang: str, stale_ms: int, build: str,
    period: ScreenPeriod = ScreenPeriod(), area: str | None = None, area_name: str | None = None, townships: int = 0, tour: bool = True,
    tour_seconds: tuple[int, int] = (40, 10),
    tile_url: str | None = None, tile_attribution: str = "",
) -> list[object]:
    title = f"{county_name} · {area_name}" if area_name else county_name
    words = period.words(lang)
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
                    county_map(county=county, bounds=bounds, lang=lang, tile_url=tile_url,
                               tile_attribution=tile_attribution),
                    html.Div(id=ids.LEGEND, className="legend", children=[
                        *legend(lang), html.Span(label("generated_note", lang), className="legend-note")]),
                    html.Div(id=ids.TOUR, className="tour-caption", hidden=True),
                ]),
                trend_panel(lang),
            ]),
            html.Aside(className="wall-side wall-right", children=[league_panel(lang, words, townships), ticker_panel(lang)]),
        ]),
        live_anchor(county=county, area=area or county, period=period, build=build, stale_ms=stale_ms, lang=lang,
                    tour=tour, tour_seconds=tour_seconds),
    ]
