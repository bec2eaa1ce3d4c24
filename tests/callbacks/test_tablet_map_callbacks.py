"""The tablet's map callbacks as plain functions: which geometry each level draws, a tap opens the
child, a refresh recolours without touching the map's view."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest
from dash import no_update

from app import create_app
from callbacks.tablet import drill, restyle, tablet_page, tablet_params
from dashboard.runtime import Runtime
from dashboard.screens.wall_service import SnapshotCache
from data_access.models import Region
from layouts.map_view import TABLET_AREAS, TABLET_LEGEND, TABLET_MAP, tablet_hideout
from layouts.tablet import BODY, MAP_VALUES
from tests.dashboard.api.test_region_geometry import CITY, NEIGHBOUR, PROVINCE, WHEN, onboard
from tests.factories import GRID_CODES
from tests.layouts.tree import by_id, nodes, text

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def test_the_measure_is_kept_in_the_address_when_it_is_one() -> None:
    assert tablet_params("?measure=overdue&area=990101001", "zh")["measure"] == "overdue"
    assert "measure" not in tablet_params("?measure=per_10000", "zh"), "no population anywhere: not a measure"
    assert "measure" not in tablet_params("?measure=<b>", "zh")


def test_a_tap_opens_the_area_tapped_keeping_the_rest_of_the_address() -> None:
    feature = {"type": "Feature", "properties": {"code": "990101001002", "name": "村"}, "geometry": None}
    search = drill(feature, "?lang=en&range=7d&area=990101001&measure=received&compare=1,2", "zh")
    assert parse_qs(search.lstrip("?")) == {"lang": ["en"], "range": ["7d"], "area": ["990101001002"],
                                            "measure": ["received"]}
    assert drill({"properties": {"code": "990101"}}, "", "zh") == "?lang=zh&range=30d&area=990101"


@pytest.mark.parametrize("feature", [None, {}, {"properties": None}, {"properties": {"code": 990101}},
                                     {"properties": {"code": "x'; drop"}}, {"properties": {"code": "99010"}},
                                     {"properties": {"code": "990101001"}}])
def test_a_tap_on_nothing_or_on_the_area_shown_changes_nothing(feature: object) -> None:
    assert drill(feature, "?area=990101001", "zh") is no_update  # type: ignore[arg-type]


def test_a_refresh_recolours_only_when_the_values_changed() -> None:
    before = tablet_hideout([], "received", "zh", area="990101", parent="990101")
    assert restyle(before, before) == (no_update, no_update)
    assert restyle(None, before) == (no_update, no_update)
    after = {**before, "values": {"990101001": 4.0}, "breaks": [0, 1, 2, 3, 4], "colors": ["#1", "#2", "#3", "#4", "#5"]}
    values, legend = restyle(after, before)
    assert values is after and "≥ 4" in text(legend)


def test_no_callback_moves_the_map(runtime: Runtime, county: str) -> None:
    """Pan and zoom are the leader's: no callback writes the map's view, the refresh writes the body
    only, and the map's layer gets its values and nothing else."""
    outputs = [key for key in create_app(runtime).callback_map]
    written = [part for key in outputs for part in key.strip(".").split("...")]
    assert not [w for w in written if w.startswith(TABLET_MAP + ".")]
    assert [w for w in written if w.startswith(TABLET_AREAS + ".")] == [f"{TABLET_AREAS}.hideout"]
    assert f"{BODY}.children" in written and f"{TABLET_LEGEND}.children" in written


def flat(bounds: object) -> list[float]:
    return [value for corner in bounds for value in corner]  # type: ignore[attr-defined]


def page(rt: Runtime, search: str) -> dict[str, object]:
    """What the tablet page's map shows for an address: url, parent, current, bounds, values."""
    built = tablet_page(rt, SnapshotCache(rt), search)
    layer, leaflet = by_id(built, TABLET_AREAS), by_id(built, TABLET_MAP)
    store = by_id(built, MAP_VALUES)
    assert store.data == layer.hideout, "the body carries what the map was drawn with"
    box = next(node for node in nodes(built) if str(getattr(node, "id", "")).startswith("tablet-map-at-"))
    return {"box": box.id, "url": layer.url, "parent": layer.hideout["parent"], "current": layer.hideout["current"],
            "bounds": leaflet.bounds, "values": layer.hideout["values"]}


def test_each_level_draws_its_children_from_the_countys_layers(runtime: Runtime, county: str) -> None:
    town, village, grid = GRID_CODES[0][:9], GRID_CODES[0][:12], GRID_CODES[0]
    shown = page(runtime, "")
    assert shown["url"] == f"/api/geo/townships.geojson?county={county}" and shown["parent"] == county
    assert flat(shown["bounds"]) == pytest.approx([44.0, 127.0, 44.2, 127.8]) and shown["box"] == f"tablet-map-at-{county}"
    assert set(shown["values"]) == {f"{county}001", f"{county}002"}  # type: ignore[arg-type]
    shown = page(runtime, f"?area={town}&measure=received")
    assert (shown["url"], shown["parent"]) == (f"/api/geo/villages.geojson?county={county}", town)
    assert flat(shown["bounds"]) == pytest.approx([44.0, 127.0, 44.2, 127.4])
    assert shown["values"] == {f"{town}001": 0.0, f"{town}002": 0.0}
    shown = page(runtime, f"?area={village}")
    assert (shown["url"], shown["parent"], shown["current"]) == (f"/api/geo/grids.geojson?county={county}", village, None)
    assert set(shown["values"]) == {f"{village}001", f"{village}002"}  # type: ignore[arg-type]
    shown = page(runtime, f"?area={grid}")
    assert (shown["url"], shown["parent"], shown["current"]) == (f"/api/geo/grids.geojson?county={county}", village, grid)
    assert flat(shown["bounds"]) == pytest.approx([44.0, 127.0, 44.2, 127.2]), "a grid among its village's grids"


def test_an_area_that_is_not_there_draws_the_county(runtime: Runtime, county: str) -> None:
    shown = page(runtime, "?area=990101999")
    assert shown["url"] == f"/api/geo/townships.geojson?county={county}" and shown["box"] == f"tablet-map-at-{county}"


def test_a_city_draws_its_counties_and_a_county_of_it_its_own_townships(runtime: Runtime, county: str) -> None:
    with runtime.sessions() as session, session.begin():
        onboard(session, NEIGHBOUR, 0.8, "邻县")
        session.add(Region(code=CITY, name="测试市", level="city", parent_code=PROVINCE, imported_at=WHEN, outline=None))
    shown = page(runtime, f"?area={CITY}")
    assert (shown["url"], shown["parent"]) == (f"/api/geo/region/{CITY}", None)
    assert set(shown["values"]) == {county, NEIGHBOUR}  # type: ignore[arg-type]
    assert flat(shown["bounds"]) == pytest.approx([44.0, 127.0, 44.2, 128.6])
    shown = page(runtime, f"?area={NEIGHBOUR}")
    assert (shown["url"], shown["parent"]) == (f"/api/geo/townships.geojson?county={NEIGHBOUR}", NEIGHBOUR)
    assert set(shown["values"]) == {f"{NEIGHBOUR}001", f"{NEIGHBOUR}002"}  # type: ignore[arg-type]
