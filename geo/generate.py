"""Generated township, village and grid areas inside a real county outline.

No public township polygons or village locations exist, so the demo (and any county onboarded
from the same three inputs) gets plausible, clearly generated geometry: townships partition the
outline, villages partition their township, grids partition their village. Each level is a power
diagram fitted to target areas (see `power_diagram`), and the edges of all levels are cut into
one set of faces (see `planar_faces`), so the three layers nest exactly, with no gaps or
overlaps, and neighbours share identical border vertices.

Everything is deterministic: the only randomness comes from a generator seeded with the input
codes, so the same inputs always give byte-identical geometry.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon

from geo import power_diagram as pd
from geo.crs import LocalProjection, local_projection_for
from geo.planar_faces import Segment, adjacency, faces_inside, merge_fragments
from geo.records import TownshipRecord, VillageRecord

# A city community covers about 1/20 of a rural village's land, so a township's land follows its
# count of villages plus a little for each community; but a community has about as many grids
# as a village (grid workers follow households, not hectares), so it gets 20x the grid density.
COMMUNITY_AREA_SHARE = 0.05
COMMUNITY_GRID_DENSITY = 20.0
MAX_GRIDS_PER_VILLAGE = 999  # the grid code ends in a 3-digit sequence
# Shulan's real ratio: 1,860 grid workers for 248 village-level units. A county onboarded without
# its own grid count gets the same density, so the number of grids follows the county's size.
SHULAN_GRIDS, SHULAN_VILLAGES = 1860, 248
GRIDS_PER_VILLAGE = SHULAN_GRIDS / SHULAN_VILLAGES

# Kind `other` (开发区, 工业园区, 农场, 林场 …) is placed by what it holds. A unit whose
# village-level units are all communities (社区/居委会: a development zone or industrial park
# with residents) is urban: small, dense and gathered round the seat like a city subdistrict (left
# among rural townships, a cell that small would be squeezed out of the fit). Otherwise (a farm, a
# forest farm, a zone of villages) it is rural like a town: its land follows its villages.

_SAMPLES_IN_SMALLEST = 80  # lattice points in the smallest township (village) while fitting
_SAMPLES_PER_GRID = 30
_MAX_SAMPLES = 150_000  # township fitting; a quarter of it per township for villages
_NODING_GRID_M = 0.01  # all edges are snapped to a 1 cm grid, so near-coincident ends meet
_EDGE_OVERSHOOT_M = 0.05  # edges ending on a parent border are pushed this far across it
_CLIP_MARGIN_M = 1.0
# A long straight outline edge in degrees is a curve in metres; short pieces keep the two alike.
_MAX_OUTLINE_SEGMENT_DEG = 0.005


@dataclass(frozen=True)
class GeneratedArea:
    """One generated township, village or grid. Geometry and centre (where the area's centre,
    矛调中心, sits; always inside the geometry) are WGS84."""

    code: str
    name: str
    parent_code: str | None
    kind: str
    geometry: Polygon | MultiPolygon
    center: Point


@dataclass(frozen=True)
class GeneratedCounty:
    """All generated areas of a county, and where its county centre sits."""

    townships: list[GeneratedArea]
    villages: list[GeneratedArea]
    grids: list[GeneratedArea]
    seat: Point


@dataclass(frozen=True)
class _Level:
    """One fitted power diagram and the sample lattice it was fitted on."""

    cells: pd.PowerCells
    x: np.ndarray
    y: np.ndarray
    labels: np.ndarray
    spacing: float

    def area_of(self, label: int) -> float:
        return float((self.labels == label).sum()) * self.spacing**2


@dataclass(frozen=True)
class _Hierarchy:
    """The fitted diagrams of all three levels; villages are indexed county-wide."""

    townships: _Level
    villages: list[_Level]  # per township, cells indexed by position in members[t]
    grids: dict[int, pd.PowerCells]  # per village
    members: list[list[int]]  # village indices of each township

    def village_labels(self, x: np.ndarray, y: np.ndarray, township: np.ndarray) -> np.ndarray:
        village = np.zeros(len(x), dtype=np.int64)
        for t, level in enumerate(self.villages):
            here = township == t
            village[here] = np.asarray(self.members[t])[level.cells.label(x[here], y[here])]
        return village

    def grid_labels(self, x: np.ndarray, y: np.ndarray, village: np.ndarray) -> np.ndarray:
        grid = np.zeros(len(x), dtype=np.int64)
        for v, cells in self.grids.items():
            here = village == v
            grid[here] = cells.label(x[here], y[here])
        return grid


@dataclass(frozen=True)
class _FaceLabels:
    township: np.ndarray
    village: np.ndarray
    grid: np.ndarray  # index into the village's grid cells


def generate_county(
    outline: Polygon | MultiPolygon,
    townships: list[TownshipRecord],
    villages: list[VillageRecord],
    *,
    seat: Point | None = None,
    grid_target: int | None = None,
) -> GeneratedCounty:
    """Township, village and grid areas partitioning `outline` (WGS84).

    City subdistricts are small and gathered round the seat (default: a point inside the
    outline); other townships get land in proportion to their villages (a community counts
    `COMMUNITY_AREA_SHARE` of a village); about `grid_target` grids (default
    `grid_target_for(len(villages))`) are shared out by village area, `COMMUNITY_GRID_DENSITY`
    times denser in communities, at least one per village.
    """
    members = _members(townships, villages)
    if grid_target is None:
        grid_target = grid_target_for(len(villages))
    if grid_target < 1:
        raise ValueError(f"grid_target must be at least 1, not {grid_target}")
    seat = seat if seat is not None else outline.representative_point()
    if not outline.covers(seat):
        raise ValueError(f"the seat {seat.wkt} lies outside the county outline")
    projection = local_projection_for(outline)
    region = projection.to_metric(shapely.segmentize(outline, _MAX_OUTLINE_SEGMENT_DEG))
    shapely.prepare(region)
    seat_x, seat_y = projection.xy_to_metric(np.array([seat.x]), np.array([seat.y]))
    seat_xy = (float(seat_x[0]), float(seat_y[0]))
    rng = np.random.default_rng(_seed(townships, villages))

    is_community = np.array([v.kind == "community" for v in villages])
    village_share = np.where(is_community, COMMUNITY_AREA_SHARE, 1.0)
    township_share = np.array([village_share[m].sum() for m in members])
    top = _fit_townships(region, townships, township_share, seat_xy, rng)
    middle = [
        _fit_villages(region, top, t, township, [villages[v] for v in m], village_share[m], seat_xy, rng)
        for t, (township, m) in enumerate(zip(townships, members))
    ]
    village_area = np.zeros(len(villages))
    for t, level in enumerate(middle):
        village_area[members[t]] = [level.area_of(i) for i in range(len(members[t]))]
    grid_counts = _allocate(grid_target, village_area * np.where(is_community, COMMUNITY_GRID_DENSITY, 1.0))
    grids = {
        v: _fit_grids(region, top, middle[t], t, i, int(grid_counts[v]), rng)
        for t in range(len(townships))
        for i, v in enumerate(members[t])
    }
    hierarchy = _Hierarchy(top, middle, grids, members)

    edges = _all_edges(region, hierarchy)
    faces = faces_inside(edges, region, grid_size=_NODING_GRID_M, overshoot=_CLIP_MARGIN_M)
    labels = _face_labels(faces, hierarchy)
    return _assemble(projection, faces, labels, hierarchy, townships, villages, seat)


def grid_target_for(village_count: int) -> int:
    """How many grids a county of `village_count` village-level units gets when no count is
    given: Shulan's real density (1,860 for 248, so Shulan keeps 1,860), at least one each."""
    if village_count < 1:
        raise ValueError(f"a county needs at least one village, not {village_count}")
    return max(village_count, round(village_count * GRIDS_PER_VILLAGE))


def _members(townships: list[TownshipRecord], villages: list[VillageRecord]) -> list[list[int]]:
    """Village indices of each township, in input order; rejects lists that cannot be generated."""
    index = {t.code: i for i, t in enumerate(townships)}
    if not townships or len(index) != len(townships):
        raise ValueError("townships must be given, with unique codes")
    if len({v.code for v in villages}) != len(villages):
        raise ValueError("village codes must be unique")
    members: list[list[int]] = [[] for _ in townships]
    for i, village in enumerate(villages):
        if village.township_code not in index:
            raise ValueError(f"village {village.code} belongs to unknown township {village.township_code}")
        members[index[village.township_code]].append(i)
    empty = [townships[t].code for t, m in enumerate(members) if not m]
    if empty:
        raise ValueError(f"townships without villages: {', '.join(empty)}")
    return members


def _seed(townships: Sequence[TownshipRecord], villages: Sequence[VillageRecord]) -> int:
    """A seed from the codes alone, so renaming a village does not reshuffle the map."""
    text = "|".join([t.code for t in townships] + [v.code for v in villages])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _spacing(area: float, smallest_share: float, *, per_smallest: int, cap: int) -> float:
    """Lattice spacing giving the smallest cell enough samples, within a total sample budget."""
    return max(math.sqrt(area * smallest_share / per_smallest), math.sqrt(area / cap))


def _pinned(dense: np.ndarray) -> np.ndarray:
    """Dense members keep their starting places, but only among sparse ones: relaxation would
    push the small cells out to the edge of the big ones (and the city away from its seat)."""
    return dense if dense.any() and not dense.all() else np.zeros_like(dense)


def _urban(township: TownshipRecord, share: float) -> bool:
    """Whether a township is gathered round the seat: a subdistrict (街道), or a unit of kind
    `other` made only of communities (its land share, see `COMMUNITY_AREA_SHARE`, is below one
    village's, since any village or `other` unit alone counts a whole one)."""
    return township.kind == "subdistrict" or (township.kind == "other" and share < 1.0)


def _fit_townships(
    region: Polygon | MultiPolygon,
    townships: list[TownshipRecord],
    share: np.ndarray,
    seat: tuple[float, float],
    rng: np.random.Generator,
) -> _Level:
    smallest = float(share.min() / share.sum())
    spacing = _spacing(region.area, smallest, per_smallest=_SAMPLES_IN_SMALLEST, cap=_MAX_SAMPLES)
    x, y = pd.lattice(region.bounds, spacing)
    inside = shapely.contains_xy(region, x, y)
    x, y = x[inside], y[inside]
    dense = np.array([_urban(t, share[i]) for i, t in enumerate(townships)])
    sites = pd.initial_sites(x, y, share, dense=dense, anchor=seat, sample_area=spacing**2, rng=rng)
    cells = pd.fit(x, y, share, sites, sample_area=spacing**2, pinned=_pinned(dense))
    return _Level(cells, x, y, cells.label(x, y), spacing)


def _fit_villages(
    region: Polygon | MultiPolygon,
    top: _Level,
    t: int,
    township: TownshipRecord,
    villages: list[VillageRecord],
    share: np.ndarray,
    seat: tuple[float, float],
    rng: np.random.Generator,
) -> _Level:
    """Villages of township `t`; its communities gather round the seat in a city subdistrict
    and round the township's own centre elsewhere."""
    mine = top.labels == t
    smallest = float(share.min() / share.sum())
    spacing = _spacing(top.area_of(t), smallest, per_smallest=_SAMPLES_IN_SMALLEST, cap=_MAX_SAMPLES // 4)
    x, y = pd.lattice(_padded_bounds(top.x[mine], top.y[mine], top.spacing), spacing)
    keep = shapely.contains_xy(region, x, y)
    keep[keep] = top.cells.label(x[keep], y[keep]) == t
    x, y = x[keep], y[keep]
    toward = seat if _urban(township, float(share.sum())) else (top.cells.sites[t, 0], top.cells.sites[t, 1])
    nearest = int(np.argmin(np.hypot(x - toward[0], y - toward[1])))
    dense = np.array([v.kind == "community" for v in villages])
    anchor = (float(x[nearest]), float(y[nearest]))
    sites = pd.initial_sites(x, y, share, dense=dense, anchor=anchor, sample_area=spacing**2, rng=rng)
    cells = pd.fit(x, y, share, sites, sample_area=spacing**2, pinned=_pinned(dense))
    return _Level(cells, x, y, cells.label(x, y), spacing)


def _fit_grids(
    region: Polygon | MultiPolygon,
    top: _Level,
    parent: _Level,
    t: int,
    i: int,
    count: int,
    rng: np.random.Generator,
) -> pd.PowerCells:
    """`count` equal grids in village `i` of township `t`, sampled finely enough for each."""
    mine = parent.labels == i
    spacing = math.sqrt(parent.area_of(i) / (count * _SAMPLES_PER_GRID))
    x, y = pd.lattice(_padded_bounds(parent.x[mine], parent.y[mine], parent.spacing), spacing)
    keep = shapely.contains_xy(region, x, y)
    keep[keep] = top.cells.label(x[keep], y[keep]) == t
    keep[keep] = parent.cells.label(x[keep], y[keep]) == i
    x, y = x[keep], y[keep]
    if len(x) == 0:
        x, y, spacing = parent.x[mine], parent.y[mine], parent.spacing
    count = max(1, min(count, len(x)))
    share = np.ones(count)
    no_dense = np.zeros(count, dtype=bool)
    sites = pd.initial_sites(x, y, share, dense=no_dense, anchor=(0.0, 0.0), sample_area=spacing**2, rng=rng)
    return pd.fit(x, y, share, sites, sample_area=spacing**2, rounds=20, weight_steps=3, final_steps=20)


def _padded_bounds(x: np.ndarray, y: np.ndarray, pad: float) -> tuple[float, float, float, float]:
    return (float(x.min()) - pad, float(y.min()) - pad, float(x.max()) + pad, float(y.max()) + pad)


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Whole numbers proportional to `weights`, at least 1 each, summing to `total` when it can
    (largest remainder first, ties to the lower index)."""
    quota = total * weights / weights.sum()
    counts = np.clip(np.floor(quota), 1, MAX_GRIDS_PER_VILLAGE).astype(int)
    while counts.sum() < total and (counts < MAX_GRIDS_PER_VILLAGE).any():
        gap = np.where(counts < MAX_GRIDS_PER_VILLAGE, quota - counts, -np.inf)
        counts[int(np.argmax(gap))] += 1
    while counts.sum() > total and (counts > 1).any():
        excess = np.where(counts > 1, counts - quota, -np.inf)
        counts[int(np.argmax(excess))] -= 1
    return counts


def _all_edges(region: Polygon | MultiPolygon, hierarchy: _Hierarchy) -> list[Segment]:
    """Every township, village and grid edge once. Each level is cut out of its parent's convex
    cell, so a line only exists where it is a border."""
    min_x, min_y, max_x, max_y = region.bounds
    margin = max(max_x - min_x, max_y - min_y)
    box = [
        (min_x - margin, min_y - margin),
        (max_x + margin, min_y - margin),
        (max_x + margin, max_y + margin),
        (min_x - margin, max_y + margin),
    ]
    township_cells = pd.convex_cells(hierarchy.townships.cells, box)
    edges = pd.shared_edges(township_cells, extend_at_container=_EDGE_OVERSHOOT_M)
    for t, level in enumerate(hierarchy.villages):
        village_cells = pd.convex_cells(level.cells, township_cells[t].vertices)
        edges += pd.shared_edges(village_cells, extend_at_container=_EDGE_OVERSHOOT_M)
        for i, v in enumerate(hierarchy.members[t]):
            grid_cells = pd.convex_cells(hierarchy.grids[v], village_cells[i].vertices)
            edges += pd.shared_edges(grid_cells, extend_at_container=_EDGE_OVERSHOOT_M)
    return edges


def _face_labels(faces: np.ndarray, hierarchy: _Hierarchy) -> _FaceLabels:
    """Which township, village and grid each face is in, tidied top-down so that each area is
    one piece wherever the county border allows."""
    points = shapely.point_on_surface(faces)
    x, y = shapely.get_x(points), shapely.get_y(points)
    areas = shapely.area(faces)
    edges = adjacency(faces)
    township = hierarchy.townships.cells.label(x, y)
    village = hierarchy.village_labels(x, y, township)
    township = merge_fragments(township, np.zeros(len(faces), dtype=np.int64), areas, edges, children=village)
    village = merge_fragments(hierarchy.village_labels(x, y, township), township, areas, edges)
    key = village * (MAX_GRIDS_PER_VILLAGE + 1) + hierarchy.grid_labels(x, y, village)
    key = merge_fragments(key, village, areas, edges)
    return _FaceLabels(township, village, key % (MAX_GRIDS_PER_VILLAGE + 1))


def _assemble(
    projection: LocalProjection,
    faces: np.ndarray,
    labels: _FaceLabels,
    hierarchy: _Hierarchy,
    townships: list[TownshipRecord],
    villages: list[VillageRecord],
    seat: Point,
) -> GeneratedCounty:
    """Unions of faces per area, back in WGS84, with codes, names and centres. Grids are
    numbered within their village from north-west to south-east."""
    missing = [t.code for i, t in enumerate(townships) if not (labels.township == i).any()]
    missing += [v.code for i, v in enumerate(villages) if not (labels.village == i).any()]
    if missing:
        raise RuntimeError(f"generation left these areas without land: {', '.join(missing)}")

    geoms: list[Polygon | MultiPolygon] = [_union(faces[labels.township == t]) for t in range(len(townships))]
    geoms += [_union(faces[labels.village == v]) for v in range(len(villages))]
    sites = [hierarchy.townships.cells.sites]
    village_sites = np.zeros((len(villages), 2))
    for t, level in enumerate(hierarchy.villages):
        village_sites[hierarchy.members[t]] = level.cells.sites
    sites.append(village_sites)
    grid_keys: list[tuple[int, int]] = []
    for v in range(len(villages)):
        in_village = labels.village == v
        grid_sites = hierarchy.grids[v].sites
        present = sorted(
            set(labels.grid[in_village].tolist()),
            key=lambda g: (-round(grid_sites[g, 1]), round(grid_sites[g, 0]), g),
        )
        for sequence, g in enumerate(present, start=1):
            grid_keys.append((v, sequence))
            geoms.append(_union(faces[in_village & (labels.grid == g)]))
            sites.append(grid_sites[g : g + 1])

    wgs84 = projection.to_wgs84(np.array(geoms, dtype=object))
    all_sites = np.vstack(sites)
    lon, lat = projection.xy_to_wgs84(all_sites[:, 0], all_sites[:, 1])
    centers = _centers(wgs84, lon, lat)

    n_t, n_v = len(townships), len(villages)
    return GeneratedCounty(
        townships=[
            GeneratedArea(t.code, t.name, None, t.kind, wgs84[i], centers[i]) for i, t in enumerate(townships)
        ],
        villages=[
            GeneratedArea(v.code, v.name, v.township_code, v.kind, wgs84[n_t + i], centers[n_t + i])
            for i, v in enumerate(villages)
        ],
        grids=[
            GeneratedArea(
                code=f"{villages[v].code}{sequence:03d}",
                name=f"{villages[v].name}第{sequence}网格",
                parent_code=villages[v].code,
                kind="grid",
                geometry=wgs84[n_t + n_v + i],
                center=centers[n_t + n_v + i],
            )
            for i, (v, sequence) in enumerate(grid_keys)
        ],
        seat=seat,
    )


def _union(faces: np.ndarray) -> Polygon | MultiPolygon:
    """Faces of one area merged; they come from one noding, so a coverage union is exact."""
    if len(faces) == 1:
        return faces[0]
    merged = shapely.coverage_union_all(faces)
    if not isinstance(merged, (Polygon, MultiPolygon)):
        raise RuntimeError(f"faces merged into a {merged.geom_type}, not a polygon")
    return merged


def _centers(geoms: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> list[Point]:
    """The fitted site where it lies inside its area (it is near the cell's centroid, so it
    usually does), otherwise a point guaranteed to be inside."""
    inside = shapely.contains_xy(geoms, lon, lat)
    fallback = shapely.point_on_surface(geoms)
    return [Point(float(lon[i]), float(lat[i])) if inside[i] else fallback[i] for i in range(len(geoms))]
