"""The tablet's map on plain values: the children of the area shown coloured by the measure the
leader picks, a legend, measure links that keep the address, and a map nothing but the leader moves."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import dash_leaflet as dl
from dash import dcc

from dashboard.domain.areas import AreaRow
from dashboard.domain.figures import PeriodCounts
from dashboard.domain.labels import client_labels, label
from dashboard.domain.vocabulary import AlertLevel
from layouts.map_view import (
    MEASURES, NO_DATA, SEQUENTIAL, TABLET_AREAS, TABLET_LEGEND, TABLET_MAP, legend, sequential_breaks, tablet_hideout,
    tablet_legend, tablet_map,
)
from layouts.tablet import BODY, MAP_CARD, MAP_VALUES, map_card, map_values, measure_bar, tablet
from tests.layouts.tree import by_id, classes, nodes, text

BOUNDS = [[44.0, 126.4], [44.7, 127.8]]
PARAMS = {"lang": "zh", "range": "7d", "area": "220283100"}


def row(code: str, received: int, closed: int, overdue: int, alert: AlertLevel | None) -> AreaRow:
    return AreaRow(code, f"村{code[-3:]}", PeriodCounts(received=received, closed=closed), open=received - closed,
                   overdue=overdue, red=0, alert=alert)


ROWS = [row("220283100201", 12, 9, 2, AlertLevel.red), row("220283100202", 0, 0, 0, None),
        row("220283100203", 3, 3, 0, AlertLevel.blue)]


def test_the_children_are_coloured_by_alert_level_with_the_walls_colours() -> None:
    hideout = tablet_hideout(ROWS, "alert", "en", area="220283100", parent="220283100")
    assert hideout["values"] == {"220283100201": "red", "220283100202": "none", "220283100203": "blue"}
    assert hideout["parent"] == "220283100" and hideout["current"] is None and hideout["measure"] == "alert"
    assert hideout["labels"]["level.red"] == client_labels("en")["level.red"] == "Red"
    assert hideout["labels"]["measure"] == label("tablet.measure.alert", "en")
    assert hideout["names"] is True, "a few children carry their names on the map"
    keys = [node.className for node in nodes(tablet_legend(hideout, "en")) if "swatch" in classes(node)]
    assert keys == [node.className for node in nodes(legend("en")) if "swatch" in classes(node)], "the wall's key"


def test_counts_and_rates_get_a_sequential_scale_and_its_key() -> None:
    received = tablet_hideout(ROWS, "received", "zh", area="220283100", parent="220283100")
    assert received["values"] == {"220283100201": 12.0, "220283100202": 0.0, "220283100203": 3.0}
    assert received["breaks"] == [0, 3, 6, 9, 12] and received["colors"] == list(SEQUENTIAL)
    assert text(tablet_legend(received, "zh")) == "0–2 3–5 6–8 9–11 ≥ 12 无数据"
    rate = tablet_hideout(ROWS, "closure_rate", "en", area="220283100", parent="220283100")
    assert rate["values"] == {"220283100201": 75.0, "220283100202": None, "220283100203": 100.0}, "no denominator: no rate"
    assert rate["breaks"] == [75, 80, 85, 90, 95] and text(tablet_legend(rate, "en")).endswith("≥ 95% No data")
    swatches = [node.style["background"] for node in nodes(tablet_legend(rate, "en")) if "swatch" in classes(node)]
    assert swatches == [*SEQUENTIAL, NO_DATA]
    overdue = tablet_hideout(ROWS, "overdue", "zh", area="220283100", parent="220283100")
    assert overdue["breaks"] == [0, 1, 2] and overdue["colors"] == list(SEQUENTIAL[:3])


def test_breaks_have_whole_steps_and_survive_empty_and_flat_values() -> None:
    assert sequential_breaks([], "received") == [0.0] and sequential_breaks([None, None], "closure_rate") == [0.0]
    assert sequential_breaks([0, 0], "overdue") == [0.0]
    assert sequential_breaks([88.9, 88.9], "closure_rate") == [88.0]
    assert sequential_breaks([1, 2000], "received") == [0, 400, 800, 1200, 1600]
    assert sequential_breaks([66.67, 97.1], "closure_rate") == [66, 73, 80, 87, 94]


def test_many_children_carry_their_names_only_on_tap() -> None:
    grids = [row(f"220283100201{n:03d}", n, 0, 0, None) for n in range(40)]
    assert tablet_hideout(grids, "received", "zh", area="220283100201", parent="220283100201")["names"] is False


def test_the_map_is_new_for_each_area_and_never_told_where_to_look() -> None:
    hideout = tablet_hideout(ROWS, "alert", "zh", area="220283100", parent="220283100")
    box = tablet_map(area="220283100", url="/api/geo/villages.geojson?county=220283", bounds=BOUNDS, hideout=hideout)
    assert box.id == "tablet-map-at-220283100"
    leaflet = by_id(box, TABLET_MAP)
    assert isinstance(leaflet, dl.MapContainer) and leaflet.bounds == BOUNDS and leaflet.trackViewport is False
    props = leaflet.to_plotly_json()["props"]
    assert not {"viewport", "center", "zoom"} & set(props), "only the initial bounds; the view is the leader's"
    layer = by_id(box, TABLET_AREAS)
    assert layer.url == "/api/geo/villages.geojson?county=220283" and layer.hideout is hideout
    assert (layer.filter, layer.style, layer.onEachFeature) == (
        {"variable": "tabletMap.filter"}, {"variable": "tabletMap.style"}, {"variable": "tabletMap.onEach"})
    assert not [node for node in nodes(box) if isinstance(node, dl.TileLayer)], "no tiles: nothing to fetch offline"


def test_measure_links_keep_the_address_and_mark_the_one_shown() -> None:
    bar = measure_bar({**PARAMS, "measure": "overdue"}, "en")
    links = [node for node in nodes(bar) if isinstance(node, dcc.Link)]
    assert [link.id for link in links] == [f"measure-{m}" for m in MEASURES]
    assert [parse_qs(urlsplit(link.href).query)["measure"] for link in links] == [[m] for m in MEASURES]
    assert all(parse_qs(urlsplit(link.href).query)["area"] == ["220283100"] for link in links)
    assert [link.id for link in links if "seg-on" in classes(link)] == ["measure-overdue"]
    assert "Colour by" in text(bar) and "open per 10,000" not in text(bar).lower(), "no population: not offered"


def test_the_map_stands_beside_the_body_and_only_the_body_refreshes() -> None:
    hideout = tablet_hideout(ROWS, "received", "zh", area="220283100", parent="220283100")
    card = map_card(area="220283100", url="/api/geo/villages.geojson?county=220283", bounds=BOUNDS, hideout=hideout,
                    params=PARAMS, lang="zh")
    assert card.id == MAP_CARD and text(by_id(card, TABLET_LEGEND)).startswith("0–2")
    page = tablet("舒兰市", ["正文", map_values(hideout)], PARAMS, "zh", 30_000, card)
    split = page[1]
    assert [getattr(child, "id", None) for child in split.children] == [MAP_CARD, BODY], "map first (left, or on top)"
    assert not [node for node in nodes(by_id(page, BODY)) if isinstance(node, dl.MapContainer)], \
        "the refreshed body holds no map: a refresh cannot rebuild it"
    assert by_id(page, MAP_VALUES).data is hideout
