"""The county map: grids coloured by alert level, township outlines, centres sized by open cases.

Geometry is loaded once by URL. Colours and sizes come from the live values held by
``assets/live.js``; ``assets/map_style.js`` registers each drawn layer so an update restyles only
the features whose values changed. ``hideout`` carries the static tooltip words.
"""

from __future__ import annotations

import dash_leaflet as dl
from dash import html

from layouts import ids
from dashboard.domain.areas import AreaRow
from dashboard.domain.labels import client_labels, label

STYLE_NS = "mediationMap"


def _fn(name: str) -> dict[str, str]:
    return {"variable": f"{STYLE_NS}.{name}"}


def county_map(
    *, county: str, bounds: list[list[float]], lang: str, tile_url: str | None = None, tile_attribution: str = ""
) -> dl.MapContainer:
    labels = client_labels(lang)
    layers: list[object] = []
    if tile_url:
        layers.append(dl.TileLayer(url=tile_url, attribution=tile_attribution))
    layers += [
        dl.Pane(name="grids", style={"zIndex": 400}, children=dl.GeoJSON(
            id=ids.GRIDS, url=f"/api/geo/grids.geojson?county={county}", style=_fn("gridStyle"),
            onEachFeature=_fn("gridTooltip"), hideout={"labels": labels},
        )),
        dl.Pane(name="townships", style={"zIndex": 450, "pointerEvents": "none"}, children=dl.GeoJSON(
            id=ids.TOWNSHIPS, url=f"/api/geo/townships.geojson?county={county}", style=_fn("townshipStyle"),
            onEachFeature=_fn("townshipRegister"), interactive=False,
        )),
        dl.Pane(name="centers", style={"zIndex": 600}, children=dl.GeoJSON(
            id=ids.CENTERS, url=f"/api/geo/centers.geojson?county={county}", pointToLayer=_fn("centerMarker"),
            onEachFeature=_fn("centerTooltip"), hideout={"labels": labels},
        )),
    ]
    return dl.MapContainer(
        id=ids.MAP, bounds=bounds, boundsOptions={"padding": [12, 12]}, trackViewport=False, preferCanvas=True, zoomSnap=0.25, attributionControl=bool(tile_url),
        className="county-map", children=layers,
    )


def legend(lang: str) -> list[html.Span]:
    labels = client_labels(lang)
    return [
        html.Span([html.I(className=f"swatch swatch-{level}"), labels[f"level.{level}"]], className="legend-item")
        for level in ("red", "orange", "yellow", "blue", "none")
    ]


# The leader's tablet: one map at every level, showing the children of the area shown.

TABLET_MAP = "tablet-map"
TABLET_AREAS = "tablet-areas"
TABLET_LEGEND = "tablet-map-legend"
TABLET_NS = "tabletMap"
MEASURES = ("alert", "closure_rate", "received", "overdue")
"""What the children can be coloured by. "Open per 10,000 residents" needs each area's population,
which no imported list carries, so it is not offered."""
LEVELS = ("red", "orange", "yellow", "blue", "none")
SEQUENTIAL = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
"""Viridis in five steps: ordered by lightness, readable on the dark map, and by colour-blind eyes."""
NO_DATA = "#475569"
LABELLED_CHILDREN = 30
"""Up to this many children carry their names on the map (townships, villages); more (a village's grids) only on tap."""


def _tablet_fn(name: str) -> dict[str, str]:
    return {"variable": f"{TABLET_NS}.{name}"}


def measure_value(row: AreaRow, measure: str) -> float | str | None:
    """A child's value of ``measure``: its alert level's name, a rate in percent (``None`` without
    a denominator) or a count."""
    if measure == "alert":
        return row.alert.value if row.alert is not None else "none"
    if measure == "closure_rate":
        return row.counts.closure_rate
    if measure == "received":
        return float(row.counts.received)
    return float(row.overdue)


def sequential_breaks(values: list[float | None], measure: str) -> list[float]:
    """The lower bound of each colour class: equal steps from 0 (a count) or from the lowest
    whole percent shown (a rate) up to the highest value, at most five classes, whole numbers."""
    shown = [v for v in values if v is not None]
    if not shown:
        return [0.0]
    low = float(int(min(shown))) if measure == "closure_rate" else 0.0
    high = max(shown)
    if high <= low:
        return [low]
    step = -(-(high - low) // len(SEQUENTIAL)) if high - low >= len(SEQUENTIAL) else 1.0
    breaks = [low + step * i for i in range(len(SEQUENTIAL)) if low + step * i <= high]
    return breaks


def tablet_hideout(rows: list[AreaRow], measure: str, lang: str, *, area: str, parent: str | None,
                   current: str | None = None) -> dict[str, object]:
    """What the tablet map's JS functions read: the area shown, which features to draw (``parent``:
    the code their ``parent_code`` must have; ``None``: all), their values of ``measure``, the
    colour classes, and the words of the tooltips. The map's geometry and view are never in it, so
    a live update that changes it redraws the colours only."""
    values = {r.code: measure_value(r, measure) for r in rows}
    hideout: dict[str, object] = {
        "area": area, "parent": parent, "current": current, "measure": measure, "values": values, "lang": lang,
        "names": len(rows) <= LABELLED_CHILDREN,
        "labels": {**client_labels(lang), "measure": label(f"tablet.measure.{measure}", lang),
                   "no_data": label("tablet.map.no_data", lang)},
    }
    if measure == "alert":
        hideout["colors"] = {}
    else:
        numbers = [v if isinstance(v, (int, float)) else None for v in values.values()]
        hideout["breaks"] = sequential_breaks(numbers, measure)
        hideout["colors"] = list(SEQUENTIAL[:len(hideout["breaks"])])  # type: ignore[arg-type]
    return hideout


def _class_text(low: float, high: float | None, measure: str) -> str:
    unit = "%" if measure == "closure_rate" else ""
    if high is None:
        return f"≥ {low:,.0f}{unit}"
    top = high - (0 if measure == "closure_rate" else 1)
    return f"{low:,.0f}{unit}" if top <= low else f"{low:,.0f}–{top:,.0f}{unit}"


def tablet_legend(hideout: dict[str, object], lang: str) -> list[html.Span]:
    """The key to the colours: the wall's alert swatches, or each class of the sequential scale."""
    measure = str(hideout["measure"])
    if measure == "alert":
        return legend(lang)
    breaks = list(hideout["breaks"])  # type: ignore[call-overload]
    colors = list(hideout["colors"])  # type: ignore[call-overload]
    items = [html.Span([html.I(className="swatch", style={"background": color}),
                        _class_text(low, breaks[i + 1] if i + 1 < len(breaks) else None, measure)],
                       className="legend-item")
             for i, (low, color) in enumerate(zip(breaks, colors))]
    items.append(html.Span([html.I(className="swatch", style={"background": NO_DATA}), label("tablet.map.no_data", lang)],
                           className="legend-item"))
    return items


def tablet_map(*, area: str, url: str, bounds: list[list[float]], hideout: dict[str, object]) -> html.Div:
    """The tablet's map of the children of ``area``, drawn from ``url`` and filtered by ``hideout``.

    A live update refreshes only the tablet's body, never this map: new values only restyle its
    areas. A new address (another area, or the same area with another measure, range or language)
    rebuilds the page and with it the map, fitted to ``bounds``; when the area is the same,
    ``assets/tablet.map.js`` gives the new map the last one's view, so pan and zoom change only by
    the leader's hand or when another area is opened. The map never tracks its viewport into Dash
    and is given no ``viewport``, ``center`` or ``zoom``, so nothing sent back can move it."""
    return html.Div(id=f"tablet-map-at-{area}", className="tablet-map-box", children=dl.MapContainer(
        id=TABLET_MAP, bounds=bounds, boundsOptions={"padding": [16, 16]}, trackViewport=False, zoomSnap=0.25,
        attributionControl=False, className="tablet-map", tapTolerance=15, children=[
            dl.GeoJSON(id=TABLET_AREAS, url=url, hideout=hideout, filter=_tablet_fn("filter"),
                       style=_tablet_fn("style"), onEachFeature=_tablet_fn("onEach")),
        ]))
