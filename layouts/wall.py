"""The wall screen (一屏观全市): header with freshness, KPI row, the county map.

Values arrive through ``assets/live.js`` (server-sent events, polling as fallback); the layout
only says which county and period this screen follows.
"""

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


def live_anchor(*, county: str, days: int, build: str, stale_ms: int, lang: str) -> html.Div:
    """Where ``live.js`` reads what to follow; the badge texts travel with it."""
    return html.Div(id=ids.LIVE, hidden=True, **{
        "data-county": county, "data-days": str(days), "data-build": build, "data-stale-ms": str(stale_ms),
        "data-live": label("live", lang), "data-reconnecting": label("reconnecting", lang),
        "data-stale": label("stale_since", lang), "data-polling": label("polling", lang),
    })


def wall(
    *, county: str, county_name: str, bounds: list[list[float]], lang: str, stale_ms: int, build: str,
    days: int = 30, tile_url: str | None = None, tile_attribution: str = "",
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
        live_anchor(county=county, days=days, build=build, stale_ms=stale_ms, lang=lang),
    ]
