"""What one wall refresh costs: our Redis snapshot against the SQL most Dash dashboards run per refresh.

"ours" is ``SnapshotCache(rt).get(county, now)`` with a new cache object per run, so the
in-process copy of the ``wall-snapshot`` region never answers; the aggregates are already in
Redis, and the snapshot of this (version, minute) is already shared in Redis by the untimed first
call, as it is for every screen after the first one asks. So each timed call is one Redis round
trip (built, version and the shared snapshot, JSON of about 100 KB for the demo county) and
``wall_snapshot.decode``. "compute" is the cold path that first call takes
(``SnapshotCache.compute``: one MULTI over the packed counters and deadline sets, then
``build_snapshot``), which runs once per change. "naive" is the
same KPI row and per-grid values straight from the case table with the product's own SQL
(``figure_queries.period_counts`` for today and the 30 days, ``figure_queries.instant_counts``)
plus one ``GROUP BY grid_code`` — and it still does less than the snapshot: no village or
township roll-ups, no alert levels, no 28-day spike baselines. Both are checked to agree.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from bench.volume import BenchEnv, log, machine_load
from dashboard.domain.figures import InstantCounts, PeriodCounts
from dashboard.domain.periods import Period, local_date
from dashboard.screens.wall_service import SnapshotCache
from dashboard.screens.wall_snapshot import WINDOW_DAYS, WallSnapshot, build_snapshot, deadline_bounds, window_day_keys
from data_access import aggregates, figure_queries
from data_access.models import Case

T = TypeVar("T")


@dataclass(frozen=True)
class GridValues:
    received: int
    closed: int
    open: int
    overdue: int


@dataclass(frozen=True)
class NaiveResult:
    today: PeriodCounts
    last_30_days: PeriodCounts
    now: InstantCounts
    grids: dict[str, GridValues]
    seconds: dict[str, float]


def timed(work: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: with 20 runs, p95 is the 19th fastest."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


def grid_counts(session: Session, county: str, period: Period, now: datetime) -> dict[str, GridValues]:
    """Per grid: received and closed over the period, open and overdue now; one indexed GROUP BY."""
    in_period = and_(Case.received_at >= period.start, Case.received_at < period.end)
    is_open = Case.resolved_at.is_(None)
    stmt = (
        select(Case.grid_code,
               func.count().filter(in_period),
               func.count().filter(and_(in_period, Case.resolved_at.is_not(None))),
               func.count().filter(is_open),
               func.count().filter(and_(is_open, Case.due_at < now)))
        .where(Case.county_code == county, or_(in_period, is_open))
        .group_by(Case.grid_code)
    )
    return {grid: GridValues(*(int(v) for v in values)) for grid, *values in session.execute(stmt)}


def naive(env: BenchEnv, now: datetime) -> NaiveResult:
    """One refresh the SQL way, in a fresh session like a request handler would use."""
    today = Period.trailing(local_date(now), 1)
    window = Period.trailing(local_date(now), WINDOW_DAYS)
    seconds: dict[str, float] = {}
    with env.rt.sessions() as session:
        seconds["today"], today_counts = timed(lambda: figure_queries.period_counts(
            session, county_code=env.county, start=today.start, end=today.end))
        seconds["last_30_days"], window_counts = timed(lambda: figure_queries.period_counts(
            session, county_code=env.county, start=window.start, end=window.end))
        seconds["instant"], instant = timed(lambda: figure_queries.instant_counts(
            session, county_code=env.county, now=now))
        seconds["grids"], grids = timed(lambda: grid_counts(session, env.county, window, now))
    seconds["total"] = sum(seconds.values())
    return NaiveResult(today_counts, window_counts, instant, grids, seconds)


def differences(snapshot: WallSnapshot, sql: NaiveResult) -> list[str]:
    """Every KPI and per-grid value on which Redis and SQL disagree (empty: identical)."""
    found = [f"{name}: snapshot {getattr(snapshot.figures, name)} ≠ SQL {getattr(sql, name)}"
             for name in ("today", "last_30_days", "now") if getattr(snapshot.figures, name) != getattr(sql, name)]
    for grid, want in sql.grids.items():
        state = snapshot.areas.get(grid)
        got = GridValues(state.last_30_days.received, state.last_30_days.closed, state.open, state.overdue) \
            if state else GridValues(0, 0, 0, 0)
        if got != want:
            found.append(f"grid {grid}: snapshot {got} ≠ SQL {want}")
    return found


def ours_phases(env: BenchEnv, now: datetime, runs: int) -> dict[str, float]:
    """Median seconds of the cold path's steps: the one MULTI read (``read_days`` keeps its old
    name for the report's table; it now reads every counter and deadline count the wall needs)
    and ``build_snapshot``. ``read_open`` no longer exists as a step and stays 0."""
    samples: dict[str, list[float]] = {"read_days": [], "read_open": [], "build_snapshot": [], "compute": []}
    client = env.rt.redis
    bounds = deadline_bounds(now, env.rt.rules)
    for _ in range(runs):
        t_read, state = timed(lambda: aggregates.read_state(client, env.county, window_day_keys(now),
                                                            now_us=bounds[0], long_us=bounds[1], soon_us=bounds[2]))
        t_build, _ = timed(lambda: build_snapshot(county=env.county, now=now, state=state, rules=env.rt.rules))
        t_compute, _ = timed(lambda: SnapshotCache(env.rt).compute(env.county, now))
        samples["read_days"].append(t_read)
        samples["read_open"].append(0.0)
        samples["build_snapshot"].append(t_build)
        samples["compute"].append(t_compute)
    return {name: statistics.median(values) for name, values in samples.items()}


def run(env: BenchEnv, *, ours_runs: int = 20, naive_runs: int = 5, now: datetime | None = None) -> dict[str, object]:
    """Time both ways at the current volume; the aggregates must already be in Redis."""
    now = now or env.rt.clock()
    cases = env.cases()
    load_before = machine_load()
    log(f"snapshot at {cases:,} cases: ours ×{ours_runs}, naive ×{naive_runs}")

    SnapshotCache(env.rt).get(env.county, now)
    ours_seconds: list[float] = []
    snapshot: WallSnapshot | None = None
    for _ in range(ours_runs):
        cache = SnapshotCache(env.rt)
        seconds, snapshot = timed(lambda: cache.get(env.county, now))
        ours_seconds.append(seconds)
    assert snapshot is not None
    phases = ours_phases(env, now, max(5, ours_runs // 2))

    first_naive = naive(env, now)
    naive_results = [naive(env, now) for _ in range(naive_runs)]
    naive_seconds = [r.seconds["total"] for r in naive_results]
    naive_parts = {name: statistics.median(r.seconds[name] for r in naive_results)
                   for name in ("today", "last_30_days", "instant", "grids")}
    diffs = differences(snapshot, naive_results[-1])
    ours_median, naive_median = statistics.median(ours_seconds), statistics.median(naive_seconds)
    ours_p95 = percentile(ours_seconds, 0.95)
    result: dict[str, object] = {
        "cases": cases,
        "now": now.isoformat(timespec="seconds"),
        "open_cases": snapshot.figures.now.open,
        "areas_in_snapshot": len(snapshot.areas),
        "grids_compared": len(naive_results[-1].grids),
        "ours_runs": ours_runs,
        "ours_median_s": ours_median,
        "ours_p95_s": ours_p95,
        "ours_min_s": min(ours_seconds),
        "ours_phases_median_s": phases,
        "naive_runs": naive_runs,
        "naive_median_s": naive_median,
        "naive_first_run_s": first_naive.seconds["total"],
        "naive_parts_median_s": naive_parts,
        "ratio_naive_over_ours": naive_median / ours_median,
        "compute_median_s": phases["compute"],
        "ratio_naive_over_compute": naive_median / phases["compute"],
        "agree": not diffs,
        "differences": diffs[:20],
        "kpis": {"today": asdict(snapshot.figures.today), "last_30_days": asdict(snapshot.figures.last_30_days),
                 "now": asdict(snapshot.figures.now)},
        "load_before": load_before,
        "load_after": machine_load(),
    }
    log(f"  ours median {ours_median * 1e3:.1f} ms (p95 {ours_p95 * 1e3:.1f} ms), "
        f"cold compute {phases['compute'] * 1e3:.1f} ms, "
        f"naive median {naive_median * 1e3:.1f} ms, ratio {naive_median / ours_median:.1f}×, "
        f"{'KPIs and grids agree' if not diffs else f'{len(diffs)} DIFFERENCES'}")
    return result
