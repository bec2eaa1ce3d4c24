"""Turning boundary lines into a gap-free set of faces, and tidying the faces' labels.

All generated boundaries (county outline, township, village and grid edges) are noded together
once, on a 1 cm grid, and polygonised. Every area is then a union of these faces, so neighbours
share exactly the same vertices along their common edge: there are no gaps or overlaps, and
`shapely.coverage_simplify` can later simplify the layer without tearing it apart.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

Segment = tuple[tuple[float, float], tuple[float, float]]

_FRAGMENT_ROUNDS = 8


def faces_inside(
    segments: list[Segment], region: Polygon | MultiPolygon, *, grid_size: float, overshoot: float
) -> np.ndarray:
    """The faces that the region's boundary and the segments cut the region into. Segments are
    first clipped to the region grown by `overshoot`, so that ends meant to touch the boundary
    cross it (loose ends are dropped by polygonize) and nothing far outside is noded."""
    lines = shapely.multilinestrings(shapely.linestrings(np.asarray(segments, dtype=float).reshape(-1, 2, 2)))
    inner = shapely.intersection(lines, shapely.buffer(region, overshoot))
    noded = shapely.union_all([inner, shapely.boundary(region)], grid_size=grid_size)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    points = shapely.point_on_surface(faces)
    inside = shapely.contains_xy(region, shapely.get_x(points), shapely.get_y(points))
    return faces[inside]


def adjacency(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of faces (a < b) that share boundary, with the shared length. Faces come from one
    noding, so a shared segment has bit-identical end points in both faces."""
    rings, ring_face = shapely.get_rings(faces, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    same_ring = coord_ring[:-1] == coord_ring[1:]
    start, end = coords[:-1][same_ring], coords[1:][same_ring]
    face = ring_face[coord_ring[:-1][same_ring]]
    swap = (start[:, 0] > end[:, 0]) | ((start[:, 0] == end[:, 0]) & (start[:, 1] > end[:, 1]))
    low = np.where(swap[:, None], end, start)
    high = np.where(swap[:, None], start, end)
    keys = np.column_stack([low, high])
    order = np.lexsort(keys.T[::-1])
    keys, face, low, high = keys[order], face[order], low[order], high[order]
    paired = np.all(keys[:-1] == keys[1:], axis=1) & (face[:-1] != face[1:])
    a = np.minimum(face[:-1][paired], face[1:][paired])
    b = np.maximum(face[:-1][paired], face[1:][paired])
    length = np.hypot(*(high[:-1][paired] - low[:-1][paired]).T)
    pairs, inverse = np.unique(np.column_stack([a, b]), axis=0, return_inverse=True)
    total = np.bincount(inverse.ravel(), weights=length, minlength=len(pairs))
    return pairs[:, 0], pairs[:, 1], total


def merge_fragments(
    labels: np.ndarray,
    parents: np.ndarray,
    areas: np.ndarray,
    edges: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    children: np.ndarray | None = None,
) -> np.ndarray:
    """Relabel every piece of an area that is cut off from the area's largest piece, giving it to
    the neighbour (with the same parent) it shares the longest edge with. Clipping a convex cell
    to a ragged county border leaves such pieces. A piece stays where it is when it has no such
    neighbour (an island) or when it holds the largest part of one of `children` that has no
    part in the area's largest piece (moving it would take a whole village out of its township;
    a small city district can leave a village split over two cut-off pieces)."""
    labels = labels.copy()
    a, b, length = edges
    home = _home_labels(labels, children, areas) if children is not None else {}
    for _ in range(_FRAGMENT_ROUNDS):
        component = _components(labels, a, b)
        fragments = _fragments(labels, component, areas)
        if children is not None:
            fragments -= _holding_a_stranded_child(labels, component, children, home, areas, fragments)
        if not fragments:
            break
        shared: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        for fa, fb, edge_length in zip(a.tolist(), b.tolist(), length.tolist()):
            if labels[fa] == labels[fb] or parents[fa] != parents[fb]:
                continue
            for inside, outside in ((fa, fb), (fb, fa)):
                if component[inside] in fragments:
                    shared[component[inside]][int(labels[outside])] += edge_length
        moves = {
            c: max(sorted(neighbours.items()), key=lambda item: item[1])[0]
            for c, neighbours in shared.items()
        }
        if not moves:
            break
        for f in range(len(labels)):
            if component[f] in moves:
                labels[f] = moves[component[f]]
    return labels


def _components(labels: np.ndarray, a: np.ndarray, b: np.ndarray) -> list[int]:
    """Connected pieces of equal-label faces (union-find); each face gets its piece's root."""
    root = list(range(len(labels)))

    def find(f: int) -> int:
        while root[f] != f:
            root[f] = root[root[f]]
            f = root[f]
        return f

    for fa, fb in zip(a.tolist(), b.tolist()):
        if labels[fa] == labels[fb]:
            ra, rb = find(fa), find(fb)
            if ra != rb:
                root[max(ra, rb)] = min(ra, rb)
    return [find(f) for f in range(len(labels))]


def _fragments(labels: np.ndarray, component: list[int], areas: np.ndarray) -> set[int]:
    area_of: dict[int, float] = defaultdict(float)
    for f, c in enumerate(component):
        area_of[c] += float(areas[f])
    main: dict[int, int] = {}
    for c in sorted(area_of):
        label = int(labels[c])
        if label not in main or area_of[c] > area_of[main[label]]:
            main[label] = c
    return {c for c in area_of if main[int(labels[c])] != c}


def _home_labels(labels: np.ndarray, children: np.ndarray, areas: np.ndarray) -> dict[int, int]:
    """Each child's label before any move: the one holding most of its area."""
    area_in: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for child, label, area in zip(children.tolist(), labels.tolist(), areas.tolist()):
        area_in[child][label] += area
    return {child: max(sorted(by_label.items()), key=lambda item: item[1])[0] for child, by_label in area_in.items()}


def _holding_a_stranded_child(
    labels: np.ndarray,
    component: list[int],
    children: np.ndarray,
    home: dict[int, int],
    areas: np.ndarray,
    fragments: set[int],
) -> set[int]:
    """For each child whose land under its home label lies only in cut-off pieces, the piece
    holding most of it, which must stay so that the child keeps land in its own parent."""
    area_in: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for child, label, c, area in zip(children.tolist(), labels.tolist(), component, areas.tolist()):
        if label == home[child]:
            area_in[child][c] += area
    keep: set[int] = set()
    for pieces in area_in.values():
        if all(c in fragments for c in pieces):
            keep.add(max(sorted(pieces.items()), key=lambda item: item[1])[0])
    return keep
