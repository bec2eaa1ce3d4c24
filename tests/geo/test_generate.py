"""Generated townships, villages and grids: they must tile the real outline exactly, nest, look
like a county (a small city round the seat) and come out the same every time."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, box

from geo.crs import local_projection_for
from geo.generate import COMMUNITY_AREA_SHARE, GeneratedArea, GeneratedCounty, generate_county, grid_target_for
from geo.sources import TownshipRecord, VillageRecord

from tests.geo.shulan_data import CountyInputs

RELATIVE_AREA_TOLERANCE = 1e-4  # "no gaps": union and outline differ by less than 0.01%


def _geoms(areas: list[GeneratedArea]) -> np.ndarray:
    return np.array([a.geometry for a in areas], dtype=object)


def _km2(areas: list[GeneratedArea], outline: shapely.Geometry) -> np.ndarray:
    return shapely.area(local_projection_for(outline).to_metric(_geoms(areas))) / 1e6


def test_counts(shulan: GeneratedCounty) -> None:
    assert len(shulan.townships) == 20
    assert len(shulan.villages) == 248
    assert 1700 <= len(shulan.grids) <= 2000


def test_codes_names_and_parents(shulan: GeneratedCounty, shulan_inputs: CountyInputs) -> None:
    assert [t.code for t in shulan.townships] == [t.code for t in shulan_inputs.townships]
    assert [v.code for v in shulan.villages] == [v.code for v in shulan_inputs.villages]
    assert all(t.parent_code is None for t in shulan.townships)
    assert [v.parent_code for v in shulan.villages] == [v.township_code for v in shulan_inputs.villages]
    villages = {v.code: v for v in shulan.villages}
    codes = [g.code for g in shulan.grids]
    assert len(set(codes)) == len(codes)
    per_village = Counter(g.parent_code for g in shulan.grids)
    assert set(per_village) == set(villages)  # every village has at least one grid
    for grid in shulan.grids:
        sequence = grid.code[len(grid.parent_code) :]
        assert grid.code.startswith(grid.parent_code) and len(sequence) == 3 and 1 <= int(sequence)
        assert grid.name == f"{villages[grid.parent_code].name}第{int(sequence)}网格"
        assert grid.kind == "grid"
    first = min(codes)
    assert first == "220283001001001"


@pytest.mark.parametrize("level", ["townships", "villages", "grids"])
def test_each_level_covers_the_outline_without_overlaps(
    shulan: GeneratedCounty, shulan_inputs: CountyInputs, level: str
) -> None:
    outline = shulan_inputs.outline
    geoms = _geoms(getattr(shulan, level))
    assert all(g.is_valid and g.geom_type in ("Polygon", "MultiPolygon") for g in geoms)
    union = shapely.union_all(geoms)
    assert abs(union.area - outline.area) < RELATIVE_AREA_TOLERANCE * outline.area
    assert shapely.symmetric_difference(union, outline).area < RELATIVE_AREA_TOLERANCE * outline.area
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]])).sum()
    assert overlap < 1e-9 * outline.area
    assert shapely.coverage_is_valid(geoms)  # neighbours share identical border vertices


def test_areas_nest(shulan: GeneratedCounty) -> None:
    parents = {a.code: a.geometry for a in shulan.townships + shulan.villages}
    for child in shulan.villages + shulan.grids:
        parent = parents[child.parent_code]
        assert shapely.difference(child.geometry, parent).area < 1e-9 * child.geometry.area
    for parent_code, children in _children(shulan.villages + shulan.grids).items():
        union = shapely.union_all([c.geometry for c in children])
        assert abs(union.area - parents[parent_code].area) < 1e-9 * parents[parent_code].area


def _children(areas: list[GeneratedArea]) -> dict[str, list[GeneratedArea]]:
    children: dict[str, list[GeneratedArea]] = {}
    for area in areas:
        children.setdefault(area.parent_code or "", []).append(area)
    return children


def test_centers_lie_inside_their_areas(shulan: GeneratedCounty) -> None:
    for area in shulan.townships + shulan.villages + shulan.grids:
        assert area.geometry.contains(area.center), area.code


def test_city_subdistricts_are_small_and_round_the_seat(
    shulan: GeneratedCounty, shulan_inputs: CountyInputs
) -> None:
    outline = shulan_inputs.outline
    assert shulan.seat == shulan_inputs.seat
    projection = local_projection_for(outline)
    seat = projection.to_metric(shulan.seat)
    areas = _km2(shulan.townships, outline)
    rural = [a for a, t in zip(areas, shulan.townships) if t.kind != "subdistrict"]
    kinds = Counter(v.kind for v in shulan.villages if v.parent_code is not None)
    assert kinds["community"] == 37
    for township, area in zip(shulan.townships, areas):
        if township.kind != "subdistrict":
            continue
        assert shapely.distance(projection.to_metric(township.geometry), seat) < 10_000, township.name
        members = [v for v in shulan.villages if v.parent_code == township.code]
        if all(v.kind == "community" for v in members):
            assert area < 0.1 * min(rural), township.name
    seat_township = next(t for t in shulan.townships if t.geometry.covers(shulan.seat))
    assert seat_township.kind == "subdistrict"


def test_township_land_follows_village_count(shulan: GeneratedCounty, shulan_inputs: CountyInputs) -> None:
    areas = _km2(shulan.townships, shulan_inputs.outline)
    share = {"community": COMMUNITY_AREA_SHARE, "village": 1.0}
    weights = np.array(
        [
            sum(share[v.kind] for v in shulan_inputs.villages if v.township_code == t.code)
            for t in shulan_inputs.townships
        ]
    )
    expected = weights / weights.sum() * areas.sum()
    assert np.all(np.abs(areas / expected - 1) < 0.2), np.round(areas / expected, 2)


def test_grids_are_denser_in_communities(shulan: GeneratedCounty, shulan_inputs: CountyInputs) -> None:
    village_km2 = dict(zip((v.code for v in shulan.villages), _km2(shulan.villages, shulan_inputs.outline)))
    per_village = Counter(g.parent_code for g in shulan.grids)
    density = {code: per_village[code] / km2 for code, km2 in village_km2.items()}
    communities = [density[v.code] for v in shulan.villages if v.kind == "community"]
    villages = [density[v.code] for v in shulan.villages if v.kind == "village"]
    assert np.median(communities) > 5 * np.median(villages)


def test_grids_are_reasonably_shaped(shulan: GeneratedCounty, shulan_inputs: CountyInputs) -> None:
    metric = local_projection_for(shulan_inputs.outline).to_metric(_geoms(shulan.grids))
    compactness = 4 * np.pi * shapely.area(metric) / shapely.length(metric) ** 2
    assert np.median(compactness) > 0.7  # a regular hexagon is 0.91, a 1:4 rectangle 0.5
    assert np.percentile(compactness, 1) > 0.3
    multipart = [g.code for g in shulan.grids if g.geometry.geom_type == "MultiPolygon"]
    assert len(multipart) <= 3  # only where the county itself has an exclave


def test_same_input_gives_identical_output(shulan: GeneratedCounty, shulan_inputs: CountyInputs) -> None:
    again = generate_county(
        shulan_inputs.outline, shulan_inputs.townships, shulan_inputs.villages, seat=shulan_inputs.seat
    )
    for first, second in zip(
        shulan.townships + shulan.villages + shulan.grids, again.townships + again.villages + again.grids
    ):
        assert (first.code, first.name, first.parent_code, first.kind) == (
            second.code,
            second.name,
            second.parent_code,
            second.kind,
        )
        assert first.geometry.wkb == second.geometry.wkb
        assert first.center.wkb == second.center.wkb
    assert len(again.grids) == len(shulan.grids)


# --- a small made-up county: defaults, tiny inputs, bad inputs --------------------------------

SMALL_OUTLINE = box(126.90, 44.30, 127.10, 44.45)
SMALL_TOWNSHIPS = [TownshipRecord("1", "城关街道", "subdistrict"), TownshipRecord("2", "甲镇", "town")]
SMALL_VILLAGES = [
    VillageRecord("11", "东社区", "1", "community"),
    VillageRecord("12", "西社区", "1", "community"),
    VillageRecord("21", "一村", "2", "village"),
    VillageRecord("22", "二村", "2", "village"),
    VillageRecord("23", "三村", "2", "village"),
]


def test_small_county_with_default_seat() -> None:
    small = generate_county(SMALL_OUTLINE, SMALL_TOWNSHIPS, SMALL_VILLAGES, grid_target=20)
    assert small.seat == SMALL_OUTLINE.representative_point()
    assert len(small.townships) == 2 and len(small.villages) == 5
    assert len(small.grids) == 20
    union = shapely.union_all([g.geometry for g in small.grids])
    assert abs(union.area - SMALL_OUTLINE.area) < RELATIVE_AREA_TOLERANCE * SMALL_OUTLINE.area


def test_grid_target_below_village_count_gives_one_grid_each() -> None:
    small = generate_county(SMALL_OUTLINE, SMALL_TOWNSHIPS, SMALL_VILLAGES, grid_target=1)
    assert [g.code for g in small.grids] == ["11001", "12001", "21001", "22001", "23001"]
    for grid, village in zip(small.grids, small.villages):
        assert grid.geometry.equals(village.geometry)


def test_single_township_with_single_village() -> None:
    small = generate_county(
        SMALL_OUTLINE,
        [TownshipRecord("1", "甲乡", "township")],
        [VillageRecord("11", "一村", "1", "village")],
        grid_target=40,
    )
    township, village = small.townships[0].geometry, small.villages[0].geometry
    assert shapely.symmetric_difference(township, SMALL_OUTLINE).area < 1e-6 * SMALL_OUTLINE.area
    assert township.equals(village)
    assert len(small.grids) == 40


def test_one_township_one_village_one_grid() -> None:
    township, village = TownshipRecord("1", "甲乡", "township"), VillageRecord("11", "一村", "1", "village")
    small = generate_county(SMALL_OUTLINE, [township], [village], grid_target=1)
    assert [g.code for g in small.grids] == ["11001"]
    assert small.grids[0].geometry.equals(small.townships[0].geometry)
    assert small.grids[0].geometry.contains(small.grids[0].center)


@pytest.mark.parametrize(
    ("townships", "villages", "kwargs", "message"),
    [
        (SMALL_TOWNSHIPS, [*SMALL_VILLAGES, VillageRecord("31", "外村", "9", "village")], {}, "unknown"),
        (SMALL_TOWNSHIPS, SMALL_VILLAGES[:2], {}, "townships without villages: 2"),
        (SMALL_TOWNSHIPS, [*SMALL_VILLAGES, SMALL_VILLAGES[0]], {}, "unique"),
        (SMALL_TOWNSHIPS, SMALL_VILLAGES, {"seat": Point(120, 40)}, "outside the county outline"),
        (SMALL_TOWNSHIPS, SMALL_VILLAGES, {"grid_target": 0}, "grid_target"),
    ],
)
def test_inputs_that_cannot_be_generated(
    townships: list[TownshipRecord], villages: list[VillageRecord], kwargs: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        generate_county(SMALL_OUTLINE, townships, villages, **kwargs)


# --- size and kinds -------------------------------------------------------------------------


def test_grid_count_follows_the_county_size() -> None:
    """Shulan's real 1,860 grids for 248 villages, the same density elsewhere, one per village at least."""
    assert grid_target_for(248) == 1860
    assert grid_target_for(93) == 698
    assert grid_target_for(1) == 8
    small = generate_county(SMALL_OUTLINE, SMALL_TOWNSHIPS, SMALL_VILLAGES)
    assert len(small.grids) == grid_target_for(len(SMALL_VILLAGES)) == 38


def test_units_of_kind_other_are_placed_by_what_they_hold() -> None:
    """A development zone of communities is small like a city subdistrict; a farm of villages is
    rural land like a town. (That such a zone is not squeezed out among big rural townships is
    shown by 昌邑区 in tests/dashboard/cli/test_county_jilin_city.py.)"""
    townships = [*SMALL_TOWNSHIPS, TownshipRecord("3", "幸福开发区", "other"), TownshipRecord("4", "红旗农场", "other")]
    villages = [*SMALL_VILLAGES, VillageRecord("31", "幸福社区", "3", "community"),
                VillageRecord("41", "一分场", "4", "other"), VillageRecord("42", "二分场", "4", "other")]
    county = generate_county(SMALL_OUTLINE, townships, villages, grid_target=30)
    km2 = dict(zip("1234", _km2(county.townships, SMALL_OUTLINE)))
    assert km2["3"] < km2["1"] and km2["3"] < 0.05 * km2["4"]
    assert 0.5 < km2["4"] / km2["2"] * 3 / 2 < 2, "a farm's land follows its villages, like a town's"
    assert [t.kind for t in county.townships] == ["subdistrict", "town", "other", "other"]
