"""The county map: grids coloured by alert level, township outlines, centres sized by open cases.

Geometry is loaded once by URL. Colours and sizes come from the live values held by
``assets/live.js``; ``assets/map_style.js`` registers each drawn layer so an update restyles only
the features whose values changed. ``hideout`` carries the static tooltip words.
"""

from __future__ import annotations

import dash_leaflet as dl
from dash import html

from layouts import ids
from dashboard.domain.labels import client_labels

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
