"""The wall screen (一屏观全市): header with freshness, KPI row, the county map."""

from __future__ import annotations

from dash import dcc, html

from layouts import ids
from layouts.kpi import kpi_row
from layouts.labels import label
from layouts.map_view import county_map, legend

PAGE = "wall-page"
URL = "wall-url"


def shell() -> html.Div:
    """The root layout: the page is filled in once the URL (language, county) is known."""
    return html.Div([dcc.Location(id=URL), html.Div(id=PAGE, className="wall-root")])


def wall(
    *, county: str, county_name: str, bounds: list[list[float]], lang: str, refresh_ms: int, stale_ms: int,
    days: int = 30,
    tile_url: str | None = None, tile_attribution: str = "",
) -> list[object]:
    return [
        html.Header(className="wall-header", children=[
            html.H1(f"{county_name} · {label('title', lang)}", id=ids.TITLE),
            html.Div(className="wall-status", children=[
                html.Span("…", id=ids.FRESHNESS, className="badge badge-wait"),
                html.Span([label("updated", lang), " ", html.Span("—", id=ids.UPDATED)], className="updated"),
            ]),
        ]),
        kpi_row({}, lang, days=days),
        html.Main(className="wall-map", children=[
            county_map(county=county, bounds=bounds, lang=lang, tile_url=tile_url, tile_attribution=tile_attribution),
            html.Div(id=ids.LEGEND, className="legend", children=[*legend(lang), html.Span(label("generated_note", lang), className="legend-note")]),
        ]),
        dcc.Interval(id=ids.REFRESH, interval=refresh_ms, n_intervals=0),
        dcc.Interval(id=ids.FRESHNESS_TICK, interval=1000),
        dcc.Store(id=ids.SCREEN, data={"county": county, "days": days}),
        dcc.Store(id=ids.LAST_OK, data={"at": None, "stale_ms": stale_ms, "live": label("live", lang), "stale": label("stale_since", lang)}),
    ]
