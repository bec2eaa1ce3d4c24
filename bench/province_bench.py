"""Issue 17's province benchmark, one sitting: 90 counties, 10 M cases, real PostgreSQL and Redis.

    python -m bench.province_bench [--cities 10] [--cases 10000000] [--county 220283] [--ids county|arrival]
                                   [--keep] [--reuse [--reload N]] [--only PARTS] [--label L] [--markdown]

Builds the synthetic province of ``bench.province`` in a database of its own (``bench_province``:
schema ``province`` for the 90 counties, schema ``alone`` for one county with the same rows it has
in the province) and Redis namespace ``bench_province`` (db 12 for the province, db 13 for the
county alone). Then it measures, each against its goal:

- the province's cold rebuild of every county's aggregates from SQL (goal ≤ 60 s); in this
  process, county after county, and, when that misses the goal or ``--workers`` asks, with one
  spawned worker process per core;
- Redis memory per county (``MEMORY USAGE`` over each county's keys; ``INFO`` used_memory);
- one county's snapshot read in the province against the same county alone (ratio ≤ 1.2);
- change → event at 100 screens, the same two ways (``bench.live_latency``'s server and screens);
- a city's roll-up read (``dashboard.screens.rollup.region_figures`` when it exists, else the sum of
  the nine counties' ``area_figures``; goal ≤ 10 ms), checked against SQL;
- the county's tablet and report SQL in the province against alone (does a county's query slow as
  the province's case table grows?).

It prints a table and writes ``bench/results/province[-CASES].json``; the database and the Redis
namespace are dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bench.snapshot_speed import percentile as pct
from bench.snapshot_speed import timed
from bench import province
from bench.live_latency import Server, fan_out
from bench.schema import fresh_schema, schema_url
from bench.table import Column, render
from dashboard.cases import cache_ops
from dashboard.domain.figures import InstantCounts, PeriodCounts
from dashboard.domain.periods import Period, local_date
from dashboard.runtime import Runtime
from dashboard.screens.area_figures import area_figures
from dashboard.screens.wall_service import SnapshotCache
from dashboard.settings import Settings
from data_access import figure_queries, panel_queries, report_queries
from data_access import redis_keys as keys
from data_access.migrate import upgrade
from data_access.models import Case

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
DATABASE = "bench_province"
REDIS_BASE = os.environ.get("BENCH_REDIS_BASE", "redis://127.0.0.1:6379")
PROVINCE_REDIS = f"{REDIS_BASE}/12"
ALONE_REDIS = f"{REDIS_BASE}/13"
NAMESPACE = "bench_province"
PARTS = ("rebuild", "snapshot", "rollup", "sql", "live")
"""Every part but ``county``: the measured county's rebuild alone in each database, with its Redis
memory by key kind (for a province too big to rebuild whole in the shared Redis)."""
GOALS = {"ratio": 1.2, "rollup_ms": 10.0, "rebuild_s": 60.0}


def log(message: str) -> None:
    print(f"[province {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)




def runtime(url: str, redis_url: str, county: str | None, var: Path) -> Runtime:
    """``BENCH_JIT=off`` turns PostgreSQL's JIT off for the bench's sessions (see docs/benchmarks.md)."""
    if os.environ.get("BENCH_JIT") == "off":
        url = url.replace("options=-csearch_path", "options=-cjit%3Doff%20-csearch_path")
    return Runtime(Settings(database_url=url, redis_url=redis_url, var_dir=var, scheduler=False, county_code=county,
                            redis_namespace=NAMESPACE))


def clear_namespace(client: redis.Redis) -> int:
    found = list(client.scan_iter(match=keys.namespace_pattern(), count=5000))
    for start in range(0, len(found), 5000):
        client.delete(*found[start : start + 5000])
    return len(found)


# --- the cold rebuild -------------------------------------------------------------------------

def rebuild_sequential(rt: Runtime, counties: list[str]) -> dict[str, Any]:
    """Every county's aggregates from SQL, one after another, in this process (``cache rebuild``'s way)."""
    per_county: dict[str, float] = {}
    cases = 0
    started = time.perf_counter()
    for county in counties:
        with rt.sessions() as session:
            seconds, report = timed(lambda c=county: cache_ops.rebuild(session, rt.redis_admin, c, rt.rules))
        per_county[county] = seconds
        cases += report.cases
    total = time.perf_counter() - started
    return {"how": "one process", "seconds": total, "cases": cases, "per_county_s": per_county,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


_worker_rt: Runtime | None = None


def _worker_init(url: str, redis_url: str, var: str) -> None:
    global _worker_rt
    _worker_rt = runtime(url, redis_url, None, Path(var))


def _worker_rebuild(county: str) -> tuple[str, float, int]:
    assert _worker_rt is not None
    with _worker_rt.sessions() as session:
        seconds, report = timed(lambda: cache_ops.rebuild(session, _worker_rt.redis_admin, county, _worker_rt.rules))
    return county, seconds, report.cases


def rebuild_parallel(url: str, redis_url: str, var: Path, counties: list[str], workers: int,
                     sizes: dict[str, int]) -> dict[str, Any]:
    """The same with ``workers`` spawned processes (largest counties first); the time includes
    starting them (imports, connections), as a ``cache rebuild --workers`` would pay it."""
    ordered = sorted(counties, key=lambda c: -sizes.get(c, 0))
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_worker_init, initargs=(url, redis_url, str(var))) as pool:
        done = list(pool.imap_unordered(_worker_rebuild, ordered, chunksize=1))
    total = time.perf_counter() - started
    return {"how": f"{workers} worker processes", "seconds": total, "cases": sum(n for _, _, n in done),
            "per_county_s": {c: s for c, s, _ in done}}


# --- Redis memory -----------------------------------------------------------------------------

def county_memory(client: redis.Redis, county: str) -> tuple[int, int]:
    """(bytes, keys) of one county's aggregates, from ``MEMORY USAGE`` of each of its keys."""
    prefix = keys.meta(county).removesuffix("meta")
    names = list(client.scan_iter(match=f"{prefix}*", count=5000))
    with client.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.memory_usage(name, samples=0)
        sizes = pipe.execute()
    return sum(int(s or 0) for s in sizes), len(names)


def county_rebuild(rt: Runtime, county: str) -> dict[str, Any]:
    """One county's cold rebuild and its Redis bytes by key kind (``rec``: the per-case records)."""
    prefix = keys.meta(county).removesuffix("meta")
    for name in list(rt.redis.scan_iter(match=f"{prefix}*", count=5000)):
        rt.redis.delete(name)
    with rt.sessions() as session:
        seconds, report = timed(lambda: cache_ops.rebuild(session, rt.redis_admin, county, rt.rules))
    names = [n.decode() for n in rt.redis.scan_iter(match=f"{prefix}*", count=5000)]
    with rt.redis.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.memory_usage(name, samples=0)
        sizes = pipe.execute()
    kinds: dict[str, float] = {}
    for name, size in zip(names, sizes, strict=True):
        kind = name.removeprefix(prefix).split(":", 1)[0]
        kinds[kind] = kinds.get(kind, 0.0) + int(size or 0) / 1e6
    log(f"  county {county} rebuilt in {seconds:.1f} s ({report.cases:,} cases): "
        + ", ".join(f"{k} {v:.1f} MB" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])[:4]))
    return {"seconds": seconds, "cases": report.cases, "mb_by_kind": kinds, "mb": sum(kinds.values())}


def memory(client: redis.Redis, counties: list[str], used_before: int, sizes: dict[str, int]) -> dict[str, Any]:
    per = {c: county_memory(client, c) for c in counties}
    used_after = int(client.info("memory")["used_memory"])
    mb = sorted(b / 1e6 for b, _ in per.values())
    return {"used_memory_delta_mb": (used_after - used_before) / 1e6,
            "used_memory_per_county_mb": (used_after - used_before) / 1e6 / len(counties),
            "keys_mb_total": sum(mb), "per_county_mb_min": mb[0], "per_county_mb_median": statistics.median(mb),
            "per_county_mb_max": mb[-1], "keys_per_county_median": statistics.median(k for _, k in per.values()),
            "mb_per_100k_cases": 1e5 * sum(mb) / max(1, sum(sizes.values())),
            "per_county": {c: {"mb": b / 1e6, "keys": k, "cases": sizes.get(c, 0)} for c, (b, k) in per.items()}}


# --- snapshot and SQL, province against alone ------------------------------------------------

def snapshot_reads(rt: Runtime, county: str, now: datetime, runs: int) -> tuple[list[float], list[float]]:
    """Read times (a new ``SnapshotCache`` each time: one Redis round trip and the decode, as a
    process without this minute's copy pays) and cold compute times (aggregates → snapshot)."""
    SnapshotCache(rt).get(county, now)
    reads, computes = [], []
    for _ in range(runs):
        cache = SnapshotCache(rt)
        reads.append(timed(lambda: cache.get(county, now))[0])
    for _ in range(max(3, runs // 4)):
        computes.append(timed(lambda: SnapshotCache(rt).compute(county, now))[0])
    return reads, computes


def same_snapshot(a: Runtime, b: Runtime, county: str, now: datetime) -> bool:
    one, two = SnapshotCache(a).compute(county, now), SnapshotCache(b).compute(county, now)
    return one.figures == two.figures and one.areas == two.areas


def last_month(today: date) -> Period:
    first = today.replace(day=1)
    previous_last = first - timedelta(days=1)
    return Period(previous_last.replace(day=1), previous_last)


def county_queries(rt: Runtime, county: str, now: datetime) -> dict[str, Callable[[Session], object]]:
    """The tablet's and the monthly report's SQL for one county (``data_access`` as the product calls it)."""
    window = Period.trailing(local_date(now), 30)
    month = last_month(local_date(now))
    rules = rt.rules

    def tablet_cases(session: Session) -> object:
        area = panel_queries.area_path(session, county, county)[-1]
        return panel_queries.cases_in(session, county, area, start=window.start, end=window.end)

    return {
        "tablet: cases of 30 days (count + newest 50)": tablet_cases,
        "tablet: red by township": lambda s: panel_queries.red_by_area(s, county, "township"),
        "wall SQL: period counts, 30 days": lambda s: figure_queries.period_counts(
            s, county_code=county, start=window.start, end=window.end),
        "wall SQL: open / overdue / red now": lambda s: figure_queries.instant_counts(s, county_code=county, now=now),
        "report: period counts of the month": lambda s: figure_queries.period_counts(
            s, county_code=county, start=month.start, end=month.end),
        "report: open at month end": lambda s: report_queries.instant_counts_at(
            s, county=county, at=month.end, rules=rules),
        "report: townships at month end": lambda s: report_queries.township_instants_at(
            s, county=county, at=month.end, rules=rules),
        "report: alerts of the month": lambda s: report_queries.period_alerts(
            s, county=county, start=month.start, end=month.end, rules=rules),
        "report: overdue at month end": lambda s: report_queries.overdue_at(s, county=county, at=month.end),
    }


def compare_sql(province_rt: Runtime, alone_rt: Runtime, county: str, now: datetime, runs: int) -> list[dict[str, Any]]:
    """Median ms of each query, the two databases alternating run by run; results must agree."""
    rows = []
    for name, query in county_queries(province_rt, county, now).items():
        samples: dict[str, list[float]] = {"province": [], "alone": []}
        answers = {}
        for _ in range(runs + 1):
            for label, rt in (("province", province_rt), ("alone", alone_rt)):
                with rt.sessions() as session:
                    seconds, answers[label] = timed(lambda: query(session))
                samples[label].append(seconds)
        p, a = (statistics.median(samples[k][1:]) * 1e3 for k in ("province", "alone"))
        rows.append({"query": name, "alone_ms": a, "province_ms": p, "ratio": p / a if a else None,
                     "agree": answers["province"] == answers["alone"]})
        log(f"  {name}: alone {a:.1f} ms, province {p:.1f} ms ({p / a:.2f}×)")
    return rows


def explain(url_rt: Runtime, county: str, now: datetime) -> dict[str, Any]:
    """Plan and buffers of the month's period counts, the widest of the county's range queries."""
    month = last_month(local_date(now))
    columns = figure_queries.period_columns()
    stmt = select(*(c.label(n) for n, c in columns.items())).where(
        Case.county_code == county, Case.received_at >= month.start, Case.received_at < month.end)
    with url_rt.sessions() as session:
        compiled = stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        plan = session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {compiled}")).scalar_one()
    top = plan[0]["Plan"]

    def nodes(node: dict[str, Any]) -> list[str]:
        found = [f"{node['Node Type']}{' on ' + node['Index Name'] if 'Index Name' in node else ''}"]
        for child in node.get("Plans", []):
            found += nodes(child)
        return found

    return {"nodes": nodes(top), "ms": plan[0]["Execution Time"],
            "shared_hit": top.get("Shared Hit Blocks"), "shared_read": top.get("Shared Read Blocks")}


# --- the city roll-up -------------------------------------------------------------------------

def _summed(rt: Runtime, counties: list[str], period: Period, now: datetime) -> tuple[PeriodCounts, InstantCounts]:
    """The roll-up by hand: every county's ``area_figures`` summed (rates follow from the counts)."""
    totals = dict.fromkeys((f.name for f in fields(PeriodCounts)), 0)
    instant = dict.fromkeys((f.name for f in fields(InstantCounts)), 0)
    for county in counties:
        figures = area_figures(rt.redis, county, county, period, now=now, rules=rt.rules)
        for name in totals:
            totals[name] += getattr(figures.current, name)
        for name in instant:
            instant[name] += getattr(figures.now, name)
    return PeriodCounts(**totals), InstantCounts(**instant)


def rollup(rt: Runtime, code: str, counties: list[str], now: datetime, runs: int) -> dict[str, Any]:
    """A region's figures over 30 days: ``rollup.region_figures`` read exactly at ``now`` (open,
    overdue and red from each county's deadline sets) and as the screens read it (those from each
    county's snapshot in a warm ``SnapshotCache``, as a serving process keeps one); checked against SQL."""
    period = Period.trailing(local_date(now), 30)
    snapshots = SnapshotCache(rt)
    try:
        from dashboard.screens import rollup as rollup_module

        def read(cache: SnapshotCache | None) -> tuple[PeriodCounts, InstantCounts]:
            figures = rollup_module.region_figures(rt, code, period, now=now, snapshots=cache)
            return figures.current, figures.now
        how = "rollup.region_figures"
    except ImportError:
        def read(cache: SnapshotCache | None) -> tuple[PeriodCounts, InstantCounts]:
            return _summed(rt, counties, period, now)
        how = f"sum of {len(counties)} counties' area_figures (rollup.py not there yet)"
    result: dict[str, Any] = {"area": code, "counties": len(counties), "how": how}
    for label, cache in (("exact", None), ("screens", snapshots)):
        read(cache)
        seconds = [timed(lambda c=cache: read(c))[0] for _ in range(runs)]
        result[label] = {"median_ms": 1e3 * statistics.median(seconds), "p95_ms": 1e3 * pct(seconds, 0.95)}
    result["median_ms"] = result["screens"]["median_ms"]
    current, instant = read(None)
    with rt.sessions() as session:
        want = dict.fromkeys((f.name for f in fields(PeriodCounts)), 0)
        for county in counties:  # per county, summed: the definition the screens use
            counts = figure_queries.period_counts(session, county_code=county, start=period.start, end=period.end)
            for name in want:
                want[name] += getattr(counts, name)
        opened = session.scalar(select(func.count()).select_from(Case).where(
            Case.county_code.in_(counties), Case.resolved_at.is_(None))) or 0
    result.update(received=current.received, equals_sql=asdict(current) == want and instant.open == opened)
    return result


# --- change → event at N screens -------------------------------------------------------------

class BenchServer(Server):
    """``bench.live_latency``'s server, on the bench database and Redis instead of the embedded pair."""

    def __init__(self, var: Path, url: str, redis_url: str, county: str) -> None:
        super().__init__(var)
        self.env.update(DATABASE_URL=url, REDIS_URL=redis_url, MEDIATION_REDIS_NAMESPACE=NAMESPACE,
                        COUNTY_CODE=county)

    def prepare_screen(self, county: str) -> None:
        import subprocess

        out = subprocess.run([sys.executable, "-m", "dashboard", "screens", "add", f"bench-wall-{self.port}",
                              "--county", county, "--base-url", self.url],
                             env=self.env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
        self.screen_url = out.strip().splitlines()[-1]


def live_round(url: str, redis_url: str, rt: Runtime, county: str, screens: int, writes: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-province-live-") as folder:
        server = BenchServer(Path(folder), url, redis_url, county)
        server.prepare_screen(county)
        server.start()
        try:
            return asyncio.run(fan_out(server.url, server.cookies, rt, screens, writes))
        finally:
            server.stop()


# --- the sitting ------------------------------------------------------------------------------

def county_sizes(rt: Runtime) -> dict[str, int]:
    with rt.sessions() as session:
        return {c: int(n) for c, n in session.execute(
            select(Case.county_code, func.count()).group_by(Case.county_code))}


def build(args: argparse.Namespace, report: dict[str, Any], p_rt: Runtime, a_rt: Runtime, cities: list[int],
          county: str) -> tuple[datetime, list[str], dict[str, int]]:
    """The province in schema ``province`` and the county alone in schema ``alone``; Redis emptied."""
    for rt in (p_rt, a_rt):
        clear_namespace(rt.redis)
    now = p_rt.clock().replace(microsecond=0)
    build: dict[str, float] = {}
    started = time.perf_counter()
    with p_rt.sessions() as session, session.begin():
        templates = province.onboard_templates(session, now=now, log=log)
    build["onboard_nine_s"] = time.perf_counter() - started
    with p_rt.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        build["clone_s"], clones = timed(lambda: province.clone_counties(conn, templates, cities))
        province.add_regions(conn, cities, now=now)
        log(f"{len(templates) + len(clones)} counties in {len(cities)} cities "
            f"(onboard {build['onboard_nine_s']:.0f} s, clone {build['clone_s']:.1f} s); loading {args.cases:,} cases")
        loaded = province.load_cases(conn, args.cases, now=now, log=log, order=args.ids)
        log(f"loaded in {sum(loaded.seconds.values()):.0f} s ({loaded.seconds}); table {loaded.table_gb:.2f} GB")
        build["copy_alone_s"], alone_cases = timed(lambda: province.copy_county(conn, "province", "alone", county))
    counties = sorted(templates + clones)
    sizes = county_sizes(p_rt)
    report.update(counties=len(counties), grids=loaded.grids, cases=loaded.cases, build_s=build,
                  load_s=loaded.seconds, table_gb=loaded.table_gb, county_cases=alone_cases,
                  county_share=alone_cases / loaded.cases,
                  cases_per_county={"min": min(sizes.values()), "median": statistics.median(sizes.values()),
                                    "max": max(sizes.values())})
    log(f"county {county}: {alone_cases:,} cases ({alone_cases / loaded.cases:.2%}) copied alone")
    return now, counties, sizes


def reload(args: argparse.Namespace, report: dict[str, Any], p_rt: Runtime, county: str, now: datetime) -> None:
    """Replace the kept database's cases by ``--reload`` new ones in ``--ids`` order (the areas stay)."""
    with p_rt.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for schema in ("province", "alone"):
            conn.execute(text(f'TRUNCATE "{schema}"."case" CASCADE'))
        log(f"reloading {args.reload:,} cases, ids in {args.ids} order")
        loaded = province.load_cases(conn, args.reload, now=now, log=log, order=args.ids)
        alone_cases = province.copy_county(conn, "province", "alone", county, areas=False)
    report.update(cases=loaded.cases, load_s=loaded.seconds, table_gb=loaded.table_gb, county_cases=alone_cases,
                  county_share=alone_cases / loaded.cases, reloaded=True)
    log(f"reloaded in {sum(loaded.seconds.values()):.0f} s; county {county}: {alone_cases:,} cases")


def measure_rebuild(args: argparse.Namespace, report: dict[str, Any], p_rt: Runtime, a_rt: Runtime, p_url: str,
                    var: Path, counties: list[str], sizes: dict[str, int], county: str) -> None:
    """The province's cold rebuild (one process; a worker per core too when that misses the goal),
    then Redis memory per county; and the county's own rebuild alone."""
    for rt in (p_rt, a_rt):
        clear_namespace(rt.redis)
    used_before = int(p_rt.redis.info("memory")["used_memory"])
    log(f"cold rebuild of {len(counties)} counties, one process")
    sequential = rebuild_sequential(p_rt, counties)
    log(f"  {sequential['seconds']:.1f} s")
    report["rebuild"] = [sequential]
    report["memory"] = memory(p_rt.redis, counties, used_before, sizes)
    log(f"  Redis: {report['memory']['per_county_mb_median']:.1f} MB per county (median), "
        f"used_memory +{report['memory']['used_memory_delta_mb']:.0f} MB")
    if args.workers or sequential["seconds"] > GOALS["rebuild_s"]:
        workers = args.workers or os.cpu_count() or 2
        clear_namespace(p_rt.redis)
        log(f"cold rebuild with {workers} workers")
        parallel = rebuild_parallel(p_url, PROVINCE_REDIS, var, counties, workers, sizes)
        log(f"  {parallel['seconds']:.1f} s")
        report["rebuild"].append(parallel)
    with a_rt.sessions() as session:
        alone_rebuild, _ = timed(lambda: cache_ops.rebuild(session, a_rt.redis_admin, county, a_rt.rules))
    report["rebuild_county"] = {"alone_s": alone_rebuild, "in_province_s": sequential["per_county_s"][county]}


def measure_snapshot(report: dict[str, Any], p_rt: Runtime, a_rt: Runtime, county: str, now: datetime) -> None:
    """Snapshot reads, province against alone, in alternating rounds; the two snapshots must be equal."""
    same = same_snapshot(p_rt, a_rt, county, now)
    reads: dict[str, list[float]] = {"province": [], "alone": []}
    computes: dict[str, list[float]] = {"province": [], "alone": []}
    for _ in range(5):
        for label, rt in (("province", p_rt), ("alone", a_rt)):
            r, c = snapshot_reads(rt, county, now, 20)
            reads[label] += r
            computes[label] += c
    report["snapshot"] = {
        label: {"median_ms": 1e3 * statistics.median(reads[label]), "p95_ms": 1e3 * pct(reads[label], 0.95),
                "compute_median_ms": 1e3 * statistics.median(computes[label])} for label in reads}
    report["snapshot"]["same_snapshot"] = same
    log(f"snapshot read: province {report['snapshot']['province']['median_ms']:.2f} ms, "
        f"alone {report['snapshot']['alone']['median_ms']:.2f} ms, same snapshot: {same}")


def measure_live(args: argparse.Namespace, report: dict[str, Any], p_rt: Runtime, a_rt: Runtime, p_url: str,
                 a_url: str, county: str) -> None:
    """Change → event at ``--screens`` screens, the province's server and the county's alternating."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    live: dict[str, list[dict[str, Any]]] = {"province": [], "alone": []}
    for _ in range(args.live_rounds):
        for label, u, r, rt in (("province", p_url, PROVINCE_REDIS, p_rt), ("alone", a_url, ALONE_REDIS, a_rt)):
            log(f"live: {args.screens} screens on the {label} server, {args.writes} writes")
            result = live_round(u, r, rt, county, args.screens, args.writes)
            log(f"  p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms")
            live[label].append(result)
    report["live"] = live


def suffix(args: argparse.Namespace) -> str:
    return "" if args.cases == 10_000_000 and args.cities == 10 else f"-{args.cities}cities-{args.cases}"


def run(args: argparse.Namespace) -> dict[str, Any]:
    cities = list(range(province.TEMPLATE_CITY, province.TEMPLATE_CITY + args.cities))
    county = args.county
    city = f"{county[:4]}00"
    report: dict[str, Any] = {"command": "python -m bench.province_bench " + " ".join(sys.argv[1:]), "ids": args.ids,
                              "date": datetime.now(UTC).isoformat(timespec="seconds"),
                              "cores": os.cpu_count(), "county": county, "city": city,
                              "disk_free_gb_before": round(shutil.disk_usage("/work").free / 1e9, 1)}
    var = Path(tempfile.mkdtemp(prefix="bench-province-"))
    url = f"{ADMIN_URL.rsplit('/', 1)[0]}/{DATABASE}" if args.reuse else province.create_database(ADMIN_URL, DATABASE)
    if args.reuse:  # the kept database, brought to the current migrations (e.g. a new index)
        p_url, a_url = schema_url(url, "province"), schema_url(url, "alone")
        for scoped in (p_url, a_url):
            started = time.perf_counter()
            upgrade(scoped)
            log(f"migrated {scoped.rsplit('=', 1)[-1]} to head in {time.perf_counter() - started:.1f} s")
    else:
        p_url, a_url = fresh_schema(url, "province"), fresh_schema(url, "alone")
    p_rt, a_rt = runtime(p_url, PROVINCE_REDIS, county, var), runtime(a_url, ALONE_REDIS, county, var)
    try:
        if args.reuse:
            kept = json.loads((RESULTS / f"province{suffix(args)}.json").read_text(encoding="utf-8"))
            report.update({k: kept[k] for k in ("counties", "grids", "cases", "build_s", "load_s", "table_gb",
                                                "county_cases", "county_share", "cases_per_county") if k in kept})
            report["reused_from"] = kept["date"]
            now = datetime.fromisoformat(kept["now"])
            with p_rt.sessions() as session:
                counties = sorted(session.scalars(text("SELECT code FROM county")))
            if args.reload:
                reload(args, report, p_rt, county, now)
            sizes = county_sizes(p_rt)
            with a_rt.sessions() as session:
                alone_cases = int(session.scalar(select(func.count()).select_from(Case)) or 0)
            report.update(cases=sum(sizes.values()), county_cases=alone_cases,
                          county_share=alone_cases / max(1, sum(sizes.values())))
        else:
            now, counties, sizes = build(args, report, p_rt, a_rt, cities, county)
        report["now"] = now.isoformat()
        only = set(args.only.split(","))

        if "rebuild" in only:
            measure_rebuild(args, report, p_rt, a_rt, p_url, var, counties, sizes, county)
        elif only & {"snapshot", "rollup", "live"}:
            for rt, wanted in ((p_rt, counties), (a_rt, [county])):
                for code in wanted:
                    cache_ops.ensure_aggregates(rt, code)
        if "county" in only:
            report["county_rebuild"] = {label: county_rebuild(rt, county)
                                        for label, rt in (("province", p_rt), ("alone", a_rt))}
        if "snapshot" in only:
            measure_snapshot(report, p_rt, a_rt, county, now)
        if "rollup" in only:
            city_counties = [c for c in counties if c.startswith(county[:4])]
            report["rollup"] = [rollup(p_rt, city, city_counties, now, 30),
                                rollup(p_rt, province.PROVINCE, counties, now, 10)]
            log(f"roll-up: city {report['rollup'][0]['median_ms']:.1f} ms, "
                f"province {report['rollup'][1]['median_ms']:.1f} ms ({report['rollup'][0]['how']})")
        if "sql" in only:
            report["sql"] = compare_sql(p_rt, a_rt, county, now, args.sql_runs)
            report["explain"] = {"province": explain(p_rt, county, now), "alone": explain(a_rt, county, now)}
            with p_rt.sessions() as session:
                report["case_indexes"] = dict(session.execute(text(
                    """SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'case' AND schemaname = 'province'""")).all())
        if "live" in only:
            measure_live(args, report, p_rt, a_rt, p_url, a_url, county)
    finally:
        if args.keep:
            log(f"--keep: database {DATABASE} and namespace {NAMESPACE} (Redis db 12, 13) left in place")
            p_rt.close()
            a_rt.close()
        else:
            removed = sum(clear_namespace(rt.redis) for rt in (p_rt, a_rt))
            p_rt.close()
            a_rt.close()
            province.drop_database(ADMIN_URL, DATABASE)
            log(f"dropped database {DATABASE} and {removed:,} Redis keys")
        shutil.rmtree(var, ignore_errors=True)
    return report


def summary(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per goal: the county alone, in the province, the ratio, and whether the goal is met."""
    rows: list[dict[str, Any]] = []
    if "snapshot" in report:
        snap = report["snapshot"]
        ratio = snap["province"]["median_ms"] / snap["alone"]["median_ms"]
        rows.append({"measure": "one county's snapshot read, median ms", "alone": snap["alone"]["median_ms"],
                     "province": snap["province"]["median_ms"], "ratio": ratio, "goal": "ratio ≤ 1.2",
                     "met": ratio <= GOALS["ratio"]})
        rows.append({"measure": "  p95 ms", "alone": snap["alone"]["p95_ms"], "province": snap["province"]["p95_ms"],
                     "ratio": snap["province"]["p95_ms"] / snap["alone"]["p95_ms"]})
        rows.append({"measure": "  cold compute (aggregates → snapshot), ms",
                     "alone": snap["alone"]["compute_median_ms"], "province": snap["province"]["compute_median_ms"],
                     "ratio": snap["province"]["compute_median_ms"] / snap["alone"]["compute_median_ms"]})
    if "live" in report:
        p50 = {k: statistics.median(r["p50_ms"] for r in v) for k, v in report["live"].items()}
        p95 = {k: statistics.median(r["p95_ms"] for r in v) for k, v in report["live"].items()}
        screens = report["live"]["province"][0]["clients"]
        rows.append({"measure": f"change → event at {screens} screens, p50 ms", "alone": p50["alone"],
                     "province": p50["province"], "ratio": p50["province"] / p50["alone"], "goal": "ratio ≤ 1.2",
                     "met": p50["province"] / p50["alone"] <= GOALS["ratio"]})
        rows.append({"measure": "  p95 ms", "alone": p95["alone"], "province": p95["province"],
                     "ratio": p95["province"] / p95["alone"], "goal": "ratio ≤ 1.2",
                     "met": p95["province"] / p95["alone"] <= GOALS["ratio"]})
    if "rollup" in report:
        city, whole = report["rollup"]
        rows.append({"measure": f"city {city['area']} roll-up read ({city['counties']} counties), median ms",
                     "province": city["median_ms"], "goal": "≤ 10 ms", "met": city["median_ms"] <= GOALS["rollup_ms"]})
        rows.append({"measure": "  read exactly at now (deadline sets, no snapshots), median ms",
                     "province": city["exact"]["median_ms"]})
        rows.append({"measure": f"  province {whole['area']} roll-up ({whole['counties']} counties), median ms",
                     "province": whole["median_ms"]})
    if "rebuild" in report:
        for rebuild in report["rebuild"]:
            rows.append({"measure": f"province cold rebuild ({rebuild['how']}), s", "province": rebuild["seconds"],
                         "goal": "≤ 60 s", "met": rebuild["seconds"] <= GOALS["rebuild_s"]})
        rows.append({"measure": "  the county's own rebuild, s", "alone": report["rebuild_county"]["alone_s"],
                     "province": report["rebuild_county"]["in_province_s"],
                     "ratio": report["rebuild_county"]["in_province_s"] / report["rebuild_county"]["alone_s"]})
        mem = report["memory"]
        rows.append({"measure": "Redis MB per county (MEMORY USAGE, median)", "province": mem["per_county_mb_median"],
                     "goal": f"stated: {mem['per_county_mb_min']:.1f}–{mem['per_county_mb_max']:.1f}", "met": None})
        rows.append({"measure": "  used_memory per county, MB", "province": mem["used_memory_per_county_mb"]})
    if "sql" in report:
        slowest = max(report["sql"], key=lambda r: r["ratio"] or 0)
        rows.append({"measure": f"county SQL, slowest ratio ({slowest['query']}), ms", "alone": slowest["alone_ms"],
                     "province": slowest["province_ms"], "ratio": slowest["ratio"], "goal": "ratio ≤ 1.2",
                     "met": all((r["ratio"] or 0) <= GOALS["ratio"] for r in report["sql"])})
    return rows


def tables(report: dict[str, Any], markdown: bool) -> str:
    head = (f"{report['counties']} counties ({report['grids']:,} grids), {report['cases']:,} cases "
            f"({report['table_gb']:.1f} GB); county {report['county']}: {report['county_cases']:,} cases; "
            f"{report['cores']} cores; {report['date']}")
    rows = [{**r, "met": {True: "met", False: "NOT met", None: "–"}[r.get("met")] if "met" in r else ""}
            for r in summary(report)]
    main = render(rows, markdown=markdown, columns=[
        Column("measure", "measure"), Column("alone", "county alone", ",.2f"),
        Column("province", "in the province", ",.2f"), Column("ratio", "ratio", ".2f"), Column("goal", "goal"),
        Column("met", "status")])
    if "sql" not in report:
        return "\n\n".join([head, main])
    sql = render(report["sql"], markdown=markdown, columns=[
        Column("query", "county SQL (tablet, report)"), Column("alone_ms", "alone ms", ".1f"),
        Column("province_ms", "province ms", ".1f"), Column("ratio", "ratio", ".2f"), Column("agree", "same answer")])
    return "\n\n".join([head, main, sql])


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.province_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cities", type=int, default=10, help="cities of nine counties each (default 10: 90 counties)")
    parser.add_argument("--cases", type=int, default=10_000_000)
    parser.add_argument("--county", default="220283", help="the county measured (default 舒兰市 of 吉林市)")
    parser.add_argument("--screens", type=int, default=100)
    parser.add_argument("--writes", type=int, default=20, help="writes per live round")
    parser.add_argument("--live-rounds", type=int, default=2, help="rounds per server, alternating")
    parser.add_argument("--sql-runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=0, help="also rebuild with this many processes "
                                                               "(default: only when one process misses 60 s)")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    parser.add_argument("--reuse", action="store_true", help="measure the database and Redis a --keep run left "
                                                             "(migrated to head first) instead of building them")
    parser.add_argument("--ids", choices=province.ORDERS, default="county",
                        help="case ids (and rows) in order of arrival across the province, or grouped by county "
                             "within each million (default: county; see bench.province.ORDERS)")
    parser.add_argument("--reload", type=int, default=0, help="with --reuse: replace the cases by this many")
    parser.add_argument("--label", default="", help="suffix of the results file (e.g. after-0012)")
    parser.add_argument("--keep", action="store_true", help="leave the database and the Redis keys in place")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--json", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    report = run(args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"province{suffix(args)}{'-' + args.label if args.label else ''}.json"
    (RESULTS / name).write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2, default=str) if args.json else tables(report, args.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
