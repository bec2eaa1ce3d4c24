"""The county map on plain values: geometry by URL for the county, styles by named JS functions,
the tooltip words in ``hideout``, base tiles only when configured."""

from __future__ import annotations

import dash_leaflet as dl

from dashboard.domain.labels import client_labels
from layouts import ids
from layouts.map_view import STYLE_NS, county_map, legend
from tests.layouts.tree import by_id, classes, nodes, text

BOUNDS = [[44.0, 126.5], [44.6, 127.3]]


def test_each_layer_loads_the_countys_geometry_by_url() -> None:
    county = county_map(county="220283", bounds=BOUNDS, lang="zh")
    assert county.id == ids.MAP and county.bounds == BOUNDS and county.preferCanvas is True
    assert by_id(county, ids.GRIDS).url == "/api/geo/grids.geojson?county=220283"
    assert by_id(county, ids.TOWNSHIPS).url == "/api/geo/townships.geojson?county=220283"
    assert by_id(county, ids.CENTERS).url == "/api/geo/centers.geojson?county=220283"
    assert [pane.name for pane in county.children] == ["grids", "townships", "centers"], "centres drawn on top"


def test_styles_are_named_functions_and_tooltips_carry_the_screens_words() -> None:
    county = county_map(county="220283", bounds=BOUNDS, lang="en")
    grids, townships = by_id(county, ids.GRIDS), by_id(county, ids.TOWNSHIPS)
    assert grids.style == {"variable": f"{STYLE_NS}.gridStyle"}
    assert grids.onEachFeature == {"variable": f"{STYLE_NS}.gridTooltip"}
    assert grids.hideout == {"labels": client_labels("en")} and grids.hideout["labels"]["level.red"] == "Red"
    assert by_id(county, ids.CENTERS).pointToLayer == {"variable": f"{STYLE_NS}.centerMarker"}
    assert townships.interactive is False, "outlines never catch the pointer meant for a grid"


def test_base_tiles_and_their_attribution_only_when_configured() -> None:
    bare = county_map(county="220283", bounds=BOUNDS, lang="zh")
    assert not [node for node in nodes(bare) if isinstance(node, dl.TileLayer)] and bare.attributionControl is False
    tiled = county_map(county="220283", bounds=BOUNDS, lang="zh", tile_url="https://t.example/{z}/{x}/{y}.png",
                       tile_attribution="© 示例")
    first = tiled.children[0]
    assert isinstance(first, dl.TileLayer) and first.url == "https://t.example/{z}/{x}/{y}.png"
    assert first.attribution == "© 示例" and tiled.attributionControl is True


def test_the_legend_has_a_swatch_per_level_worst_first() -> None:
    items = legend("zh")
    assert [classes(item.children[0]) for item in items] == [
        ["swatch", f"swatch-{level}"] for level in ("red", "orange", "yellow", "blue", "none")]
    assert [text(item) for item in items] == ["红色", "橙色", "黄色", "蓝色", "无在办"]
