"""Figures of a city or a province: the sums of its counties' counts (DESIGN.md "Figures").

A region's figure is the same query as a county's over all its counties' cases, so every count
is the sum of the counties' counts and every rate is recomputed from the summed counts (the
arithmetic of ``dashboard.domain.figures``), never an average of the counties' rates. The
counties are the deployment's served counties (``Runtime.served_counties``) inside the region's
code (``area_scope.contains``).

Reads are per county and bounded. With a snapshot cache (``SnapshotCache``: what screens use),
a county's counts over each period and its open, overdue and red counts are those of its cached
snapshots (``wall-snapshot`` region, per county, version, minute and period), current to the
minute: a read where nothing changed costs one version read per county and period. Without one
(``/api/figures``), a county's period counts are a few ``GETRANGE``s of its own day counters
per day and its instant counts an exact read at ``now``. Nothing here re-reads every area.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from heapq import nlargest

from sqlalchemy.orm import Session

from dashboard.access.scope import caller_sees
from dashboard.domain.area_scope import ScopeLevel, contains, level_of
from dashboard.domain.areas import AreaRef, AreaRow
from dashboard.domain.figures import InstantCounts, PeriodCounts
from dashboard.domain.periods import Period, day_key, local_date
from dashboard.domain.tablet_view import CaseLine, PeriodComparison, TabletView
from dashboard.domain.vocabulary import AlertLevel
from dashboard.runtime import Runtime
from dashboard.screens.area_figures import (
    PERIOD_FIELDS,
    AreaFigures,
    instant_counts,
    period_blocks,
    period_counts,
    previous_period,
    same_period_last_year,
)
from dashboard.screens.matter_figures import BLOCKS, repeats_in
from dashboard.screens.wall_service import SnapshotCache
from dashboard.screens.wall_snapshot import WINDOW_DAYS, WallSnapshot
from data_access import aggregates, panel_queries, regions

REGION_LEVELS = (ScopeLevel.province, ScopeLevel.city)
CASE_LINES = 50
"""Newest cases a region's view lists, as a county's does."""


def is_region(code: str) -> bool:
    """Whether ``code`` names a city or a province (by the national division codes)."""
    return level_of(code) in REGION_LEVELS


def add_counts(items: Iterable[PeriodCounts]) -> PeriodCounts:
    """Field-wise sum: the counts of the union of disjoint case sets."""
    total = {f.name: 0 for f in fields(PeriodCounts)}
    for counts in items:
        for name in total:
            total[name] += getattr(counts, name)
    return PeriodCounts(**total)


def add_instants(items: Iterable[InstantCounts]) -> InstantCounts:
    opened = overdue = red = 0
    for counts in items:
        opened, overdue, red = opened + counts.open, overdue + counts.overdue, red + counts.red
    return InstantCounts(opened, overdue, red)


def highest(levels: Iterable[AlertLevel | None]) -> AlertLevel | None:
    """The highest alert level among ``levels`` (an area above a county takes its counties' highest)."""
    found = [level for level in levels if level is not None]
    return max(found, key=lambda level: level.rank) if found else None


def region_counties(rt: Runtime, code: str) -> list[str]:
    """The served counties inside the region ``code``, by code (none for a code that is no region)."""
    if not is_region(code):
        return []
    return [county for county in rt.served_counties() if contains(code, county)]


def _counties_or_refuse(rt: Runtime, code: str) -> list[str]:
    counties = region_counties(rt, code)
    if not counties:
        raise LookupError(f"{code!r} is no city or province holding a county served here")
    return counties


def region_figures(rt: Runtime, code: str, period: Period, *, now: datetime,
                   snapshots: SnapshotCache | None = None) -> AreaFigures:
    """Every DESIGN.md figure of a city or province over ``period``, as ``area_figures`` gives a county's.

    With ``snapshots``, open, overdue and red come from each county's cached snapshot (current to
    the minute, as on every screen); without, from an exact read at ``now``. Raises
    ``LookupError`` for a code that is no region or holds no served county."""
    counties = _counties_or_refuse(rt, code)
    if snapshots is not None:
        shifts = (period, previous_period(period), same_period_last_year(period))
        shown = [snapshots.get_periods(county, now, list(shifts)) for county in counties]
        blocks = [tuple(_period_of(s) for s in row) for row in shown]
        instants = [row[0].figures.now for row in shown]
    else:
        blocks = [period_blocks(rt.redis, county, county, period) for county in counties]
        instants = [instant_counts(rt.redis, county, county, now=now, rules=rt.rules) for county in counties]
    current, previous, last_year = (add_counts(block[i] for block in blocks) for i in range(3))
    return AreaFigures(code, period, current, previous, last_year, add_instants(instants))


def _period_of(snapshot: WallSnapshot) -> PeriodCounts:
    """The county's counts over the period the snapshot was asked for (``SnapshotCache.get``'s
    ``period``: its own period figures, or the 30-day window's when that was the period)."""
    return snapshot.figures.period if snapshot.figures.period is not None else snapshot.figures.last_30_days


@dataclass(frozen=True)
class CountyLine:
    """One county's line in a region's league: period counts, instant counts and its own alert."""

    code: str
    counts: PeriodCounts
    now: InstantCounts
    alert: AlertLevel | None


def county_lines(rt: Runtime, snapshots: SnapshotCache, counties: list[str], period: Period, now: datetime) -> list[CountyLine]:
    """Each county's line from its cached snapshot; the period counts from the snapshot's 30-day
    sums when the period is that window, else from the county's own day counters."""
    in_window = period == Period.trailing(local_date(now), WINDOW_DAYS)
    return [snapshot_line(rt, snapshots.get(county, now), period, in_window=in_window) for county in counties]


def snapshot_line(rt: Runtime, snapshot: WallSnapshot, period: Period, *, in_window: bool) -> CountyLine:
    """A county's line from its snapshot (and its day counters unless ``period`` is the snapshot's window)."""
    county = snapshot.county
    state = snapshot.areas.get(county)
    if in_window:
        counts = state.last_30_days if state else PeriodCounts()
    else:
        days = aggregates.read_area_days(rt.redis, county, county, [day_key(d) for d in period.days()], PERIOD_FIELDS)
        counts = period_counts(days, county, period)
    alert = state.alert.level if state and state.alert else None
    return CountyLine(county, counts, snapshot.figures.now, alert)


def children_of(rt: Runtime, code: str) -> list[AreaRef]:
    """The areas one level below a region: a city's served counties, a province's cities that hold one."""
    counties = _counties_or_refuse(rt, code)
    with rt.sessions() as session:
        if level_of(code) is ScopeLevel.city:
            return [AreaRef(c, regions.area_name(session, c), "county") for c in counties]
        cities = sorted({c[:4] + "00" for c in counties})
        return [AreaRef(c, regions.area_name(session, c), "city") for c in cities]


def league_rows(kids: list[AreaRef], lines: list[CountyLine]) -> list[AreaRow]:
    """One row per child: a county's own line, or a city's counties summed (alert: their highest)."""
    rows = []
    for kid in kids:
        mine = [line for line in lines if contains(kid.code, line.code)]
        now = add_instants(line.now for line in mine)
        rows.append(AreaRow(kid.code, kid.name, add_counts(line.counts for line in mine), now.open, now.overdue,
                            now.red, highest(line.alert for line in mine)))
    return rows


def region_rows(rt: Runtime, snapshots: SnapshotCache, code: str, period: Period, now: datetime) -> list[AreaRow]:
    """The league of a region: its counties (a city) or its cities (a province), one row each."""
    kids = children_of(rt, code)
    return league_rows(kids, county_lines(rt, snapshots, region_counties(rt, code), period, now))


def regions_above(rt: Runtime, code: str) -> list[AreaRef]:
    """The province and the city above ``code`` (a county, city or province; the code itself
    excluded), where known: imported, or the deployment's own area or inside it; and only those
    the caller sees, so a breadcrumb never leads outside the caller's area."""
    if level_of(code) is None or len(code) < 6:
        return []
    county_code = code[:6]
    candidates = [county_code[:2] + "0000", county_code[:4] + "00"]
    served = rt.settings.area
    out = []
    with rt.sessions() as session:
        for region in candidates:
            if region == code or not contains(region, code) or level_of(region) not in REGION_LEVELS:
                continue
            row = regions.get_region(session, region)
            known = row is not None or (served is not None and is_region(served) and contains(served, region))
            if known and caller_sees(region):
                out.append(AreaRef(region, row.name if row else regions.area_name(session, region),
                                   str(level_of(region).value)))  # type: ignore[union-attr]
    return out


def region_path(rt: Runtime, code: str) -> list[AreaRef]:
    """Province → city for the region ``code`` (the province left out where unknown or unseen)."""
    with rt.sessions() as session:
        name = regions.area_name(session, code)
    return [*regions_above(rt, code), AreaRef(code, name, str(level_of(code).value))]  # type: ignore[union-attr]


def region_cases(rt: Runtime, counties: list[str], period: Period, limit: int = CASE_LINES) -> tuple[int, list[CaseLine]]:
    """How many cases the counties received in ``period``, and the newest ``limit`` of them."""
    total, lines = 0, []
    with rt.sessions() as session:
        for county in counties:
            n, newest = panel_queries.cases_in(session, county, AreaRef(county, county, "county"), start=period.start,
                                               end=period.end, limit=limit)
            total += n
            lines.extend(newest)
    return total, nlargest(limit, lines, key=lambda line: (line.received_at, line.id))


def region_view(rt: Runtime, snapshots: SnapshotCache, code: str, period: Period, now: datetime,
                with_cases: bool = True) -> TabletView:
    """The tablet's view of a city or province: its figures, its children as league rows, its newest cases.

    Raises ``LookupError`` for a code that is no region, holds no served county, or lies outside
    the caller's area."""
    if not is_region(code) or not caller_sees(code):
        raise LookupError(f"no area {code!r} here")
    counties = _counties_or_refuse(rt, code)
    figures = region_figures(rt, code, period, now=now, snapshots=snapshots)
    rows = league_rows(children_of(rt, code), county_lines(rt, snapshots, counties, period, now))
    total, lines = region_cases(rt, counties, period) if with_cases else (0, [])
    comparison = PeriodComparison(figures.current, figures.previous, figures.last_year, figures.now)
    return TabletView(region_path(rt, code), period, comparison, rows, total, lines)


def add_region_matters(session: Session, figures: dict[str, object], *, counties: list[str], period: Period) -> dict[str, object]:
    """``region_figures(...).as_json()`` with ``matters`` and ``repeats`` in each period block: a
    matter groups cases of one county, so the region's repeats are the sum of its counties'."""
    for name, shift in BLOCKS.items():
        block = figures[name]
        assert isinstance(block, dict)
        repeats = sum(repeats_in(session, county, county, shift(period)) for county in counties)
        block["repeats"] = repeats
        block["matters"] = int(block["received"]) - repeats
    return figures
