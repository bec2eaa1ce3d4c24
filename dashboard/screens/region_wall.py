"""A city's or province's wall: its snapshot and side panels as the combination of its counties'.

Bounded work: a region screen never re-reads every area. Each county's wall snapshot comes from
the ``wall-snapshot`` cache (``SnapshotCache``: recomputed only when that county's version or the
minute moves on), and each county's own panel inputs are kept here per (county, period) with the
(version, minute) they were read at; so a case in one county re-reads that county's panels only,
and the region's state is a sum over a handful of cached values. Sums follow DESIGN.md: counts
add up, rates are recomputed from the summed counts by ``dashboard.domain.figures``.

The region's snapshot holds one area per child (a city's counties, a province's cities): its
alert is the highest among its counties' (with that county's reasons), its counts their sums. So
the map, the league and the hotspot tour of a region screen work on its children exactly as a
county screen's do on its grids and townships.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import date, datetime
from heapq import nsmallest

from shapely import from_geojson

from dashboard.domain.alerts import Alert
from dashboard.domain.area_scope import contains
from dashboard.domain.areas import AreaRef, AreaRow
from dashboard.domain.figures import PeriodCounts, WallFigures
from dashboard.domain.periods import Period, local_date
from dashboard.domain.wall_values import TICKER_ROWS
from dashboard.runtime import Runtime
from dashboard.screens import rollup
from dashboard.screens.panel_service import PanelService
from dashboard.screens.wall_panels import PanelInputs
from dashboard.screens.wall_service import SnapshotCache
from dashboard.screens.wall_snapshot import WINDOW_DAYS, AreaState, WallSnapshot
from data_access import regions

COUNTIES_SECONDS = 60.0
"""How long a region's list of counties and names is kept: a county imported meanwhile appears
within a minute, and the live path does not query the database on every change."""
WARNINGS_KEPT = 50


def highest_alert(alerts: list[Alert | None]) -> Alert | None:
    found = [a for a in alerts if a is not None]
    return max(found, key=lambda a: a.level.rank) if found else None


def combine_states(states: list[AreaState]) -> AreaState:
    """The state of an area made of ``states``' areas: counts summed, the highest alert."""
    return AreaState(highest_alert([s.alert for s in states]), sum(s.open for s in states),
                     sum(s.overdue for s in states), rollup.add_counts(s.last_30_days for s in states))


def region_snapshot(code: str, kids: list[AreaRef], snapshots: list[WallSnapshot], now: datetime) -> WallSnapshot:
    """The region's wall snapshot from its counties' (one area per child, the KPIs summed).

    Its version is the sum of the counties' versions: it moves on whenever any of them does."""
    figures = WallFigures(
        today=rollup.add_counts(s.figures.today for s in snapshots),
        last_30_days=rollup.add_counts(s.figures.last_30_days for s in snapshots),
        now=rollup.add_instants(s.figures.now for s in snapshots),
    )
    areas = {}
    for kid in kids:
        states = [s.areas[s.county] for s in snapshots if contains(kid.code, s.county) and s.county in s.areas]
        if states:
            areas[kid.code] = combine_states(states)
    return WallSnapshot(code, sum(s.version for s in snapshots), now, figures, areas)


def _add_maps(maps: list[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for found in maps:
        for key, n in found.items():
            total[key] = total.get(key, 0) + n
    return total


def region_panels(code: str, kids: list[AreaRef], parts: list[PanelInputs], snapshots: list[WallSnapshot],
                  names: dict[str, str], period: Period) -> PanelInputs:
    """The region's panels from its counties' own panel inputs (each with ``area`` = the county)."""
    by_day: dict[date, list[PeriodCounts]] = {}
    for part in parts:
        for day, counts in part.trend:
            by_day.setdefault(day, []).append(counts)
    ticker = sorted((replace(item, place=f"{names.get(part.area, part.area)} · {item.place}")
                     for part in parts for item in part.ticker),
                    key=lambda item: (item.level.rank, item.at), reverse=True)[:TICKER_ROWS]
    warnings = nsmallest(WARNINGS_KEPT, (w for part in parts for w in part.warnings), key=lambda w: (w.p_value, w.id))
    lines = [rollup.CountyLine(part.area, part.current, snapshot.figures.now,
                               (state.alert.level if (state := snapshot.areas.get(part.area)) and state.alert else None))
             for part, snapshot in zip(parts, snapshots, strict=True)]
    repeats = [part.repeats for part in parts]
    return PanelInputs(
        area=code, period=period,
        today=rollup.add_counts(p.today for p in parts), current=rollup.add_counts(p.current for p in parts),
        previous=rollup.add_counts(p.previous for p in parts), last_year=rollup.add_counts(p.last_year for p in parts),
        categories=_add_maps([p.categories for p in parts]), sources=_add_maps([p.sources for p in parts]),
        trend=[(day, rollup.add_counts(by_day[day])) for day in sorted(by_day)],
        townships=rollup.league_rows(kids, lines),
        ticker=ticker,
        focus=None,
        repeats=None if any(r is None for r in repeats) else sum(r for r in repeats if r is not None),
        warnings=warnings,
    )


class RegionWall:
    """Region screens' snapshots and panels, combined from the counties' cached ones."""

    def __init__(self, rt: Runtime, snapshots: SnapshotCache, panels: PanelService | None = None) -> None:
        self.rt = rt
        self.snapshots = snapshots
        self.panels = panels or PanelService(rt)
        self._lock = threading.Lock()
        self._regions: dict[str, tuple[float, list[str], list[AreaRef], dict[str, str]]] = {}
        self._parts: dict[tuple[str, Period], tuple[tuple[int, int], PanelInputs]] = {}

    def layout(self, code: str) -> tuple[list[str], list[AreaRef], dict[str, str]]:
        """(the served counties, the children, county names) of a region; kept ``COUNTIES_SECONDS``.

        Raises ``LookupError`` for a code that is no region or holds no served county."""
        with self._lock:
            kept = self._regions.get(code)
        if kept is not None and time.monotonic() - kept[0] < COUNTIES_SECONDS:
            return kept[1], kept[2], kept[3]
        counties = rollup.region_counties(self.rt, code)
        if not counties:
            raise LookupError(f"{code!r} is no city or province holding a county served here")
        kids = rollup.children_of(self.rt, code)
        with self.rt.sessions() as session:
            names = {c: regions.area_name(session, c) for c in counties}
        with self._lock:
            self._regions[code] = (time.monotonic(), counties, kids, names)
        return counties, kids, names

    def county_snapshots(self, code: str, now: datetime) -> list[WallSnapshot]:
        """Each county's cached 30-day snapshot (one version read per county when nothing changed)."""
        counties, _, _ = self.layout(code)
        return [self.snapshots.get(county, now) for county in counties]

    def state(self, code: str, snapshots: list[WallSnapshot], *, period: Period, now: datetime
              ) -> tuple[WallSnapshot, PanelInputs]:
        """The region's snapshot and panels from its counties' snapshots (``county_snapshots``)."""
        _, kids, names = self.layout(code)
        minute = int(now.timestamp() // 60)
        parts = []
        for snapshot in snapshots:
            key = (snapshot.county, period)
            with self._lock:
                kept = self._parts.get(key)
            if kept is None or kept[0] != (snapshot.version, minute):
                shown = self.snapshots.get(snapshot.county, now, period=period)
                kept = ((snapshot.version, minute), self.panels.get(shown, area=snapshot.county, period=period, now=now))
                with self._lock:
                    self._parts[key] = kept
            parts.append(kept[1])
        combined = region_snapshot(code, kids, snapshots, now)
        panels = region_panels(code, kids, parts, snapshots, names, period)
        if period != Period.trailing(local_date(now), WINDOW_DAYS):
            figures = replace(combined.figures, period=panels.current, period_days=len(period.days()))
            combined = replace(combined, figures=figures)
        return combined, panels

    def forget(self, followed: set[str], periods: set[Period]) -> None:
        """Drop kept panel inputs that no followed region (over one of ``periods``) needs any more:
        the hub calls this as it evicts idle screens."""
        with self._lock:
            counties = {c for code in followed if code in self._regions for c in self._regions[code][1]}
            for key in [k for k in self._parts if k[0] not in counties or k[1] not in periods]:
                del self._parts[key]


def region_bounds(rt: Runtime, code: str) -> tuple[str, list[list[float]]]:
    """(name, [[south, west], [north, east]]) of a region: the box round its served counties' outlines.

    Raises ``LookupError`` for a code that is no region or holds no served county."""
    counties = rollup.region_counties(rt, code)
    if not counties:
        raise LookupError(f"{code!r} is no city or province holding a county served here")
    with rt.sessions() as session:
        name = regions.area_name(session, code)
        boxes = [from_geojson(c.outline).bounds for c in regions.counties_in(session, code) if c.code in counties]
    west, south = min(b[0] for b in boxes), min(b[1] for b in boxes)
    east, north = max(b[2] for b in boxes), max(b[3] for b in boxes)
    return name, [[south, west], [north, east]]

