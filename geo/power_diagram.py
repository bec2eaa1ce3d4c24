"""Power diagrams (weighted Voronoi) fitted to target areas, in projected metres.

A plain Voronoi diagram cannot give a 4 km² city subdistrict next to a 300 km² rural township,
so each site also carries a weight: a point belongs to the site with the smallest
``|point - site|² - weight``. Cells stay convex polygons with straight shared edges. Weights are
fitted to target areas, and sites moved to their cell centroids (Lloyd relaxation), using a
lattice of sample points instead of polygons, which keeps the fitting pure numpy and fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Vertex = tuple[float, float]

_GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))
# Largest weight step, as a fraction of the area error (a cell gains ~1.7 m² per m² of weight);
# each cell's step is halved whenever its error changes sign, so close pairs do not oscillate.
_WEIGHT_STEP = 0.35
_CONTAINER_EDGE = -1
_LABEL_CHUNK_CELLS = 4_000_000  # points x sites per step of `label`, to bound memory
_AREA_TOLERANCE = 0.01  # stop refining weights once every cell is within 1% of its share


@dataclass(frozen=True)
class PowerCells:
    """Sites (k×2, metres) and weights (k, m²) of one power diagram."""

    sites: np.ndarray
    weights: np.ndarray

    def label(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the cell holding each point (ties go to the lower index)."""
        if len(self.weights) == 1:
            return np.zeros(len(x), dtype=np.int64)
        # |p - s|² - w = |p|² - 2 p·s + |s|² - w, and |p|² is the same for every cell
        sx, sy = self.sites[:, 0], self.sites[:, 1]
        offset = sx * sx + sy * sy - self.weights
        chunk = max(1, _LABEL_CHUNK_CELLS // len(sx))
        labels = np.empty(len(x), dtype=np.int64)
        for start in range(0, len(x), chunk):
            px, py = x[start : start + chunk, None], y[start : start + chunk, None]
            labels[start : start + chunk] = np.argmin(px * (-2.0 * sx) + py * (-2.0 * sy) + offset, axis=1)
        return labels


@dataclass(frozen=True)
class ConvexCell:
    """A power cell clipped to a convex container; ``neighbours[m]`` is the site on the other
    side of the edge from ``vertices[m]`` to ``vertices[m + 1]`` (-1 for a container edge)."""

    vertices: list[Vertex]
    neighbours: list[int]


def lattice(bounds: tuple[float, float, float, float], spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Cell centres of a square lattice over a bounding box; each stands for spacing² of area."""
    min_x, min_y, max_x, max_y = bounds
    xs = np.arange(min_x + spacing / 2, max_x, spacing)
    ys = np.arange(min_y + spacing / 2, max_y, spacing)
    grid_x, grid_y = np.meshgrid(xs, ys)
    return grid_x.ravel(), grid_y.ravel()


def initial_sites(
    x: np.ndarray,
    y: np.ndarray,
    shares: np.ndarray,
    *,
    dense: np.ndarray,
    anchor: Vertex,
    sample_area: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Starting sites on sample points. Dense members (city subdistricts, communities) spiral out
    from the anchor, smallest first and the first on it, each a disc's radius clear of those
    before (closer, a big cell's weight would swallow a small neighbour), so they form a compact
    core. The rest are spread by k-means++, so relaxation starts from a sensible layout."""
    k = len(shares)
    chosen = np.full(k, -1, dtype=np.int64)
    used: set[int] = set()
    dense_order = sorted(np.flatnonzero(dense), key=lambda i: (shares[i], i))
    total_area = len(x) * sample_area
    cumulative = 0.0
    for turn, i in enumerate(dense_order):
        area = shares[i] / shares.sum() * total_area
        radius = math.sqrt(cumulative / math.pi) + math.sqrt(area / math.pi) if turn else 0.0
        cumulative += area
        angle = turn * _GOLDEN_ANGLE
        target = (anchor[0] + radius * math.cos(angle), anchor[1] + radius * math.sin(angle))
        for candidate in np.argsort(np.hypot(x - target[0], y - target[1]), kind="stable"):
            if int(candidate) not in used:
                chosen[i] = candidate
                used.add(int(candidate))
                break
    nearest_sq = np.full(len(x), np.inf)
    for i in np.flatnonzero(chosen >= 0):
        nearest_sq = np.minimum(nearest_sq, (x - x[chosen[i]]) ** 2 + (y - y[chosen[i]]) ** 2)
    for i in range(k):
        if chosen[i] >= 0:
            continue
        if np.isinf(nearest_sq).all():
            pick = int(rng.integers(len(x)))
        else:
            weights = nearest_sq.copy()
            weights[list(used)] = 0.0
            total = weights.sum()
            pick = int(rng.choice(len(x), p=weights / total)) if total > 0 else int(rng.integers(len(x)))
        chosen[i] = pick
        used.add(pick)
        nearest_sq = np.minimum(nearest_sq, (x - x[pick]) ** 2 + (y - y[pick]) ** 2)
    return np.column_stack([x[chosen], y[chosen]])


def fit(
    x: np.ndarray,
    y: np.ndarray,
    shares: np.ndarray,
    sites: np.ndarray,
    *,
    sample_area: float,
    pinned: np.ndarray | None = None,
    rounds: int = 30,
    weight_steps: int = 4,
    final_steps: int = 40,
) -> PowerCells:
    """Alternate weight updates (so each cell's sample count approaches its share) with Lloyd
    moves of each site to its cell centroid (so cells become round and slivers disappear).
    Pinned sites do not move: relaxation pushes small cells out to the edge of big ones, which
    would scatter a city core. Ends with weight updates only, so final areas match the shares."""
    k = len(shares)
    if k == 1:
        return PowerCells(sites=np.array([[x.mean(), y.mean()]]), weights=np.zeros(1))
    wanted = shares / shares.sum() * len(x)
    sites = sites.astype(float).copy()
    weights = _starting_weights(sites, wanted * sample_area)
    radius = np.sqrt(wanted * sample_area / math.pi)
    step_size = np.full(k, _WEIGHT_STEP)  # per cell, halved when its error changes sign
    last_error = np.zeros(k)
    relaxing = rounds * (weight_steps + 1)
    for step in range(relaxing + final_steps):
        cells = PowerCells(sites, weights)
        labels = cells.label(x, y)
        counts = np.bincount(labels, minlength=k).astype(float)
        if step >= relaxing and np.all(np.abs(counts - wanted) <= _AREA_TOLERANCE * wanted):
            break
        lloyd_step = step < relaxing and step % (weight_steps + 1) == weight_steps
        if lloyd_step:
            moving = counts > 0
            if pinned is not None:
                moving &= ~pinned
            centroid_x = np.bincount(labels, weights=x, minlength=k)
            centroid_y = np.bincount(labels, weights=y, minlength=k)
            for i in np.flatnonzero(moving):
                _move_unless_crowding(sites, i, centroid_x[i] / counts[i], centroid_y[i] / counts[i], radius)
        else:
            error = wanted - counts
            overshot = error * last_error < 0
            step_size = np.where(overshot, step_size * 0.5, np.minimum(step_size * 1.2, _WEIGHT_STEP))
            weights = weights + np.maximum(step_size, _WEIGHT_STEP / 100) * error * sample_area
            weights = weights - weights.mean()
            last_error = error
    return PowerCells(sites, weights)


def _move_unless_crowding(sites: np.ndarray, i: int, x: float, y: float, radius: np.ndarray) -> None:
    """Move site i to (x, y) unless that brings it closer to a site that is already within half
    their summed nominal radii. A big cell wrapped round a pinned small one has its centroid right
    on the small one's site; following it would stack the two sites and let one swallow the other."""
    before = np.hypot(sites[:, 0] - sites[i, 0], sites[:, 1] - sites[i, 1])
    after = np.hypot(sites[:, 0] - x, sites[:, 1] - y)
    crowding = (after < 0.5 * (radius[i] + radius)) & (after < before)
    crowding[i] = False
    if not crowding.any():
        sites[i] = (x, y)


def _starting_weights(sites: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """Weights of discs with the target areas (touching discs are split along their common
    tangent), raised where needed so every site starts inside its own cell, i.e.
    w_j - w_i < |p_i - p_j|² for all j; otherwise a heavy neighbour swallows a light cell."""
    weights = areas / math.pi
    dx = sites[:, None, 0] - sites[None, :, 0]
    dy = sites[:, None, 1] - sites[None, :, 1]
    distance_sq = dx * dx + dy * dy
    np.fill_diagonal(distance_sq, np.inf)
    for _ in range(len(weights)):
        floor = np.max(weights[None, :] - 0.9 * distance_sq, axis=1)
        if np.all(weights >= floor):
            break
        weights = np.maximum(weights, floor)
    return weights - weights.mean()


def convex_cells(cells: PowerCells, container: list[Vertex]) -> list[ConvexCell]:
    """Each power cell as a convex polygon inside a convex, counter-clockwise container (an empty
    vertex list when the cell misses the container)."""
    sites, weights = cells.sites, cells.weights
    k = len(weights)
    if len(container) < 3:
        return [ConvexCell(vertices=[], neighbours=[]) for _ in range(k)]
    heaviest = float(weights.max())
    result: list[ConvexCell] = []
    for i in range(k):
        vertices = list(container)
        neighbours = [_CONTAINER_EDGE] * len(vertices)
        pi_x, pi_y = sites[i]
        distance = np.hypot(sites[:, 0] - pi_x, sites[:, 1] - pi_y)
        order = np.argsort(distance, kind="stable")
        for j in order:
            if j == i:
                continue
            reach = max(math.hypot(vx - pi_x, vy - pi_y) for vx, vy in vertices)
            if distance[j] > reach and (distance[j] - reach) ** 2 >= reach**2 + heaviest - weights[i]:
                break  # no vertex is nearer (in power distance) to this or any farther site
            pj_x, pj_y = sites[j]
            a0, a1 = 2.0 * (pj_x - pi_x), 2.0 * (pj_y - pi_y)
            b = (pj_x * pj_x + pj_y * pj_y) - (pi_x * pi_x + pi_y * pi_y) - weights[j] + weights[i]
            vertices, neighbours = _clip(vertices, neighbours, float(a0), float(a1), float(b), int(j))
            if len(vertices) < 3:
                vertices, neighbours = [], []
                break
        result.append(ConvexCell(vertices=vertices, neighbours=neighbours))
    return result


def shared_edges(cells: list[ConvexCell], *, extend_at_container: float) -> list[tuple[Vertex, Vertex]]:
    """Each edge between two cells once (from the lower-numbered cell). Ends that meet the
    container are pushed out a little so the parent boundary is surely crossed when noding."""
    edges: list[tuple[Vertex, Vertex]] = []
    for i, cell in enumerate(cells):
        n = len(cell.vertices)
        for m in range(n):
            if cell.neighbours[m] <= i:
                continue
            start, end = cell.vertices[m], cell.vertices[(m + 1) % n]
            length = math.hypot(end[0] - start[0], end[1] - start[1])
            if length == 0.0:
                continue
            ux, uy = (end[0] - start[0]) / length, (end[1] - start[1]) / length
            if cell.neighbours[m - 1] == _CONTAINER_EDGE:
                start = (start[0] - ux * extend_at_container, start[1] - uy * extend_at_container)
            if cell.neighbours[(m + 1) % n] == _CONTAINER_EDGE:
                end = (end[0] + ux * extend_at_container, end[1] + uy * extend_at_container)
            edges.append((start, end))
    return edges


def _clip(
    vertices: list[Vertex], neighbours: list[int], a0: float, a1: float, b: float, label: int
) -> tuple[list[Vertex], list[int]]:
    """Sutherland-Hodgman clip of a convex polygon to the half-plane a·p <= b, keeping for every
    edge the cell on its other side; the new edge along the line gets ``label``."""
    values = [a0 * vx + a1 * vy - b for vx, vy in vertices]
    if max(values) <= 0.0:
        return vertices, neighbours
    out_vertices: list[Vertex] = []
    out_neighbours: list[int] = []
    n = len(vertices)
    for m in range(n):
        p, q = vertices[m], vertices[(m + 1) % n]
        vp, vq = values[m], values[(m + 1) % n]
        if vp <= 0.0:
            out_vertices.append(p)
            out_neighbours.append(neighbours[m])
            if vq > 0.0:
                out_vertices.append(_crossing(p, q, vp, vq))
                out_neighbours.append(label)
        elif vq <= 0.0:
            out_vertices.append(_crossing(p, q, vp, vq))
            out_neighbours.append(neighbours[m])
    return _without_repeats(out_vertices, out_neighbours)


def _crossing(p: Vertex, q: Vertex, vp: float, vq: float) -> Vertex:
    t = vp / (vp - vq)
    return (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))


def _without_repeats(vertices: list[Vertex], neighbours: list[int]) -> tuple[list[Vertex], list[int]]:
    """Drop zero-length edges (a vertex exactly on the clip line repeats)."""
    n = len(vertices)
    keep = [m for m in range(n) if vertices[m] != vertices[(m + 1) % n]]
    if len(keep) == n:
        return vertices, neighbours
    return [vertices[m] for m in keep], [neighbours[m] for m in keep]
