"""Import speed: ``python -m bench.import_speed --rows 24000 [--sqlite] [--no-stages]``.

Generates a realistic case list (a year of a county: sources, categories, group sizes and a 99 %
closure rate like the demo county's; about half the rows located by lon/lat, the rest by grid
code), then times ``dashboard.imports.case_import.import_cases`` ``--runs`` times on emptied tables,
then (unless ``--no-stages``) its stages one by one (read, check, replay, bulk insert,
contributions, Redis) to show where the time goes. Prints a table and writes
``bench/results/import_speed.json`` (or ``--results``).

Where it writes: ``DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``), inside
its own schema (``--schema``, default ``bench_import``), which it DROPS and recreates at the start
and drops again at the end (unless ``--keep``). Do not run two of it at once on the same schema.
The schema keeps it clear of the test suite, which drops and recreates schema ``public`` of the
same database at the start of each run. Redis: ``REDIS_URL`` (default ``redis://127.0.0.1:6379/14``);
only the bench county's keys (county 990201) are touched, and removed at the end. With ``--sqlite``
it measures the embedded default instead: a SQLite file and an embedded Redis, both in a temporary
directory removed at the end.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shapely.geometry import Point, box
from sqlalchemy import text

from bench.schema import fresh_schema
from dashboard.cases import cache_ops
from dashboard.imports import onboarding
from dashboard.imports.case_import import COLUMNS, import_cases
from dashboard.runtime import Runtime
from dashboard.settings import Settings
from data_access import aggregates, redis_keys
from data_access.redis_connection import stop_embedded_redis
from data_access.database import make_engine
from data_access.migrate import upgrade
from geo.generate import GeneratedArea, GeneratedCounty

COUNTY = "990201"
WEST, SOUTH, TOWNSHIPS, VILLAGES, GRIDS, CELL = 127.0, 44.0, 4, 6, 8, 0.05
"""A synthetic county of square grids: 4 townships × 6 villages × 8 grids (192 grids)."""

SOURCES = {"grid_report": 35, "hotline_12345": 25, "walk_in": 15, "online": 10, "petition": 6, "police_110": 5,
           "court": 3, "other": 1}
CATEGORIES = {"neighbour": 20, "marriage_family": 16, "land": 12, "labour_wages": 10, "debt": 9, "property_mgmt": 7,
              "consumer": 6, "traffic": 5, "demolition": 4, "environment": 4, "medical": 3, "other": 4}
OPEN_STATUSES = ("received", "assessed", "dispatched", "mediating")
RESULTS = Path(__file__).resolve().parent / "results" / "import_speed.json"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def synthetic_county() -> GeneratedCounty:
    """Townships as columns, villages as rows within them, grids in a 2 × 4 block per village."""
    townships, villages, grids = [], [], []
    for t in range(TOWNSHIPS):
        t_code = f"{COUNTY}{t + 1:03d}"
        t_west = WEST + t * 2 * CELL
        t_box = box(t_west, SOUTH, t_west + 2 * CELL, SOUTH + VILLAGES * 4 * CELL)
        townships.append(GeneratedArea(t_code, f"基准镇{t + 1}", None, "town", t_box, t_box.centroid))
        for v in range(VILLAGES):
            v_code = f"{t_code}{v + 1:03d}"
            v_south = SOUTH + v * 4 * CELL
            v_box = box(t_west, v_south, t_west + 2 * CELL, v_south + 4 * CELL)
            villages.append(GeneratedArea(v_code, f"基准村{t + 1}-{v + 1}", t_code, "village", v_box, v_box.centroid))
            for g in range(GRIDS):
                west, south = t_west + (g % 2) * CELL, v_south + (g // 2) * CELL
                g_box = box(west, south, west + CELL, south + CELL)
                grids.append(GeneratedArea(f"{v_code}{g + 1:03d}", f"基准村{t + 1}-{v + 1}第{g + 1}网格", v_code,
                                           "grid", g_box, g_box.centroid))
    return GeneratedCounty(townships, villages, grids, Point(WEST + TOWNSHIPS * CELL, SOUTH + VILLAGES * 2 * CELL))


def write_cases(path: Path, rows: int, county: GeneratedCounty, seed: int = 20260101) -> None:
    """A year of cases ending a week before ``NOW``; 99 % closed, 90 % of those followed up."""
    rng = random.Random(seed)
    end = NOW - timedelta(days=7)
    start = end - timedelta(days=365)
    sources, source_weights = list(SOURCES), list(SOURCES.values())
    categories, category_weights = list(CATEGORIES), list(CATEGORIES.values())
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for n in range(rows):
            received = start + timedelta(seconds=rng.uniform(0, 365 * 86400))
            grid = rng.choice(county.grids)
            source = rng.choices(sources, source_weights)[0]
            category = rng.choices(categories, category_weights)[0]
            roll = rng.random()
            people = rng.randint(30, 80) if roll < 0.006 else rng.randint(10, 29) if roll < 0.03 else rng.choice((1, 1, 2, 3))
            tier = rng.choices(("village", "township", "county"), (80, 15, 5))[0]
            lon = lat = code = ""
            if source == "grid_report" or rng.random() < 0.3:
                west, south, east, north = grid.geometry.bounds
                lon, lat = f"{rng.uniform(west, east):.6f}", f"{rng.uniform(south, north):.6f}"
            else:
                code = grid.code
            resolved = satisfaction = ""
            if rng.random() < 0.99:
                closed = received + timedelta(days=rng.lognormvariate(1.0, 0.8))
                resolved = min(closed, NOW - timedelta(hours=1)).astimezone(UTC).isoformat(timespec="seconds")
                status = "followed_up" if rng.random() < 0.9 else "resolved"
                if status == "followed_up":
                    satisfaction = rng.choices(("satisfied", "neutral", "dissatisfied"), (95, 4, 1))[0]
            else:
                status = rng.choice(OPEN_STATUSES)
            local = received.astimezone(UTC) + timedelta(hours=8)
            writer.writerow((f"bench-{n:07d}", source, category, local.replace(tzinfo=None).isoformat(timespec="seconds")
                             + "+08:00", lon, lat, code, people, tier, status, resolved, satisfaction, "基准测试诉求"))


def drop_schema(url: str, schema: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def clear_county_keys(rt: Runtime, county: str) -> None:
    """Every Redis key of the bench county, and nothing else."""
    keys = list(rt.redis.scan_iter(match=redis_keys.meta(county).removesuffix("meta") + "*", count=5000))
    for start in range(0, len(keys), 5000):
        rt.redis.delete(*keys[start : start + 5000])


def empty_cases(rt: Runtime, county: str) -> None:
    with rt.engine.begin() as conn:
        if rt.engine.dialect.name == "postgresql":
            conn.execute(text('TRUNCATE case_event, "case" RESTART IDENTITY CASCADE'))
        else:
            conn.execute(text("DELETE FROM case_event"))
            conn.execute(text('DELETE FROM "case"'))
    aggregates.rebuild(rt.redis, county, [])


def timed(runs: int, reset: Callable[[], None], work: Callable[[], object]) -> list[float]:
    seconds = []
    for _ in range(runs):
        reset()
        started = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - started)
    return seconds


def phases(rt: Runtime, county: str, source: Path) -> dict[str, float]:
    """The import's stages run one by one through the same functions, to show where time goes."""
    from dashboard.cases.apply import apply_and_publish
    from dashboard.domain.contributions import contribution
    from dashboard.imports.case_file import read_rows
    from dashboard.imports.case_import import STATE_COLUMNS, _cases, grid_locator
    from dashboard.imports.row_check import CheckContext, check_rows
    from data_access import bulk_cases

    took: dict[str, float] = {}
    started = time.perf_counter()
    raw = read_rows(source)
    took["read"] = time.perf_counter() - started
    started = time.perf_counter()
    checked = check_rows(raw, CheckContext(rt.cases.places(), NOW, grid_locator(rt, county).locate_many))
    took["check"] = time.perf_counter() - started
    started = time.perf_counter()
    states, events = _cases(checked.valid, actor="import", now=NOW, rules=rt.rules, errors=[], file_name=source.name)
    took["replay: end states + events"] = time.perf_counter() - started
    started = time.perf_counter()
    values = [tuple(getattr(state, name) for name in STATE_COLUMNS) for state in states]
    with rt.sessions() as session, session.begin():
        ids = bulk_cases.insert_cases(session, values, events, STATE_COLUMNS)
    took["insert_cases + commit"] = time.perf_counter() - started
    started = time.perf_counter()
    items = [(case_id, contribution(state, rt.rules)) for case_id, state in zip(ids, states, strict=True)]
    took["contribution()"] = time.perf_counter() - started
    started = time.perf_counter()
    apply_and_publish(rt.redis, county, items, fresh=True)
    took["apply_and_publish (Redis)"] = time.perf_counter() - started
    took["events"] = len(events)
    return took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import_speed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=24_000, help="rows in the file (default: a year of a county)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--schema", default="bench_import", help="PostgreSQL schema to drop, recreate and use")
    parser.add_argument("--sqlite", action="store_true", help="SQLite file and embedded Redis instead of the servers")
    parser.add_argument("--no-stages", dest="stages", action="store_false", help="time only the whole import")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write the JSON results")
    parser.add_argument("--keep", action="store_true", help="leave the schema and the Redis keys in place")
    args = parser.parse_args(argv)

    base_url = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
    if not args.sqlite and not base_url.startswith("postgresql"):
        print("error: this bench measures PostgreSQL (or --sqlite); set DATABASE_URL=postgresql://…", file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        if args.sqlite:
            url, redis_url = f"sqlite:///{Path(tmp) / 'bench.db'}", None
            upgrade(url)
        else:
            url = fresh_schema(base_url, args.schema)
            redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14"
        rt = Runtime(Settings(database_url=url, redis_url=redis_url, var_dir=Path(tmp)))
        try:
            generated = synthetic_county()
            with rt.sessions() as session, session.begin():
                onboarding.save_county(session, generated, name="基准县", now=NOW,
                                       outline_geojson=json.dumps(box(WEST, SOUTH, WEST + TOWNSHIPS * 2 * CELL,
                                                                      SOUTH + VILLAGES * 4 * CELL).__geo_interface__))
            county = rt.cases.county_code
            source = Path(tmp) / "cases.csv"
            write_cases(source, args.rows, generated)

            cpu: list[float] = []

            def run_import() -> None:
                started = time.process_time()
                result = import_cases(rt, source, now=NOW)
                cpu.append(time.process_time() - started)
                if result.imported != args.rows:
                    raise SystemExit(f"bench file did not import cleanly: {result}")

            full = timed(args.runs, lambda: empty_cases(rt, county), run_import)
            with rt.sessions() as session:
                differences = len(cache_ops.reconcile(session, rt.redis, county, rt.rules))

            steps: list[dict[str, float]] = []
            if args.stages:
                timed(args.runs, lambda: empty_cases(rt, county), lambda: steps.append(phases(rt, county, source)))
            if not args.keep:
                clear_county_keys(rt, county)
        finally:
            rt.close()
            if args.sqlite:
                stop_embedded_redis(Path(tmp))
            if not args.keep and not args.sqlite:
                drop_schema(base_url, args.schema)

    stages = {name: statistics.median(step[name] for step in steps) for name in steps[0] if name != "events"} \
        if steps else {}
    database = "sqlite + embedded redis" if args.sqlite else "postgresql + redis"
    report: dict[str, object] = {
        "rows": args.rows,
        "database": database,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_1m_before_after": [load_before, os.getloadavg()[0]]},
        "reconcile_differences": differences,
        "import_cases": {"seconds": full, "best_seconds": min(full), "median_seconds": statistics.median(full),
                         "rows_per_second": round(args.rows / statistics.median(full)),
                         "client_cpu_seconds": cpu, "median_client_cpu_seconds": statistics.median(cpu)},
    }
    if steps:
        report["events"] = int(steps[0]["events"])
        report["insert_cases_only"] = {"seconds": [step["insert_cases + commit"] for step in steps],
                                       "median_seconds": stages["insert_cases + commit"],
                                       "rows_per_second": round(args.rows / stages["insert_cases + commit"])}
        report["stages_median_seconds"] = stages
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    lines = [("import_cases (whole, median)", statistics.median(full)), ("import_cases (whole, best)", min(full))]
    lines += [(f"  {name}", sec) for name, sec in stages.items()]
    print(f"{database}: runs {', '.join(f'{s:.2f}' for s in full)} s")
    print(f"{'what':<30}{'rows':>8}{'seconds':>10}{'rows/s':>9}")
    for name, seconds in lines:
        print(f"{name:<30}{args.rows:>8}{seconds:>10.2f}{round(args.rows / seconds):>9}")
    print(f"import_cases used {statistics.median(cpu):.2f} s of this process's CPU (median; the servers' work is not in it)")
    print(f"reconcile after the last import: {differences} differences; "
          f"load average {load_before:.1f} → {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; results in {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
