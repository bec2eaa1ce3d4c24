"""Server-side benchmarks: ``python -m bench [--quick] [--json] [--only snapshot,rebuild,import] [--keep]``.

Runs ``bench.import_speed`` first (when present), on a settled server; then builds the demo
county with 1 M and then 10 M cases (``--quick``: 100 k) in PostgreSQL schema ``bench`` and times
the product's rebuild and the wall snapshot against plain SQL at each volume. Writes ``bench/results/<name>.json`` and prints a
table (``--json``: one JSON document). Schema ``bench`` and Redis namespace ``bench`` (db 14) are
dropped at the end unless ``--keep``. See docs/benchmarks.md for results and how to read them.
"""

from __future__ import annotations

import os

os.environ["MEDIATION_REDIS_NAMESPACE"] = "bench"

import argparse
import contextlib
import hashlib
import importlib
import json
import platform
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

from bench import rebuild_speed, snapshot_speed, volume
from bench.table import Column, render
from data_access import aggregates
from data_access.database import make_engine

RESULTS = Path(__file__).resolve().parent / "results"
BENCHES = ("snapshot", "rebuild", "import")
RESULT_FILES = {"volume": "volume", "snapshot": "snapshot_speed", "rebuild": "rebuild_speed",
                "profile": "rebuild_profile"}
SNAPSHOT_GOAL = 500.0
"""Naive SQL per refresh must cost at least this many times our snapshot, at the largest volume."""
REBUILD_GOAL_SECONDS = 15.0
"""A cold rebuild at 10 M cases must take at most this long."""


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal:"))
    engine = make_engine(volume.BASE_URL)
    with engine.connect() as conn:
        pg = str(conn.exec_driver_sql("SHOW server_version").scalar_one())
        pg_settings = {name: str(conn.exec_driver_sql(f"SHOW {name}").scalar_one())
                       for name in ("shared_buffers", "work_mem", "jit", "max_parallel_workers_per_gather")}
    engine.dispose()
    with redis.Redis.from_url(volume.REDIS_URL) as client:
        redis_info = client.info("server")
    parser = "hiredis" if redis.utils.HIREDIS_AVAILABLE else "pure Python (no hiredis)"
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": round(mem / 1024 / 1024, 1),
            "python": platform.python_version(),
            "platform": platform.platform(), "postgresql": pg, "postgresql_settings": pg_settings,
            "redis": redis_info.get("redis_version"), "redis_py_parser": parser,
            "date": datetime.now(UTC).isoformat(timespec="seconds")}


PRODUCT_FILES = ("dashboard/screens/wall_service.py", "dashboard/screens/wall_snapshot.py", "dashboard/cases/cache_ops.py",
                 "dashboard/domain/contributions.py", "data_access/aggregates.py", "data_access/cases.py",
                 "data_access/figure_queries.py", "requirements.txt")


def product_code() -> dict[str, str]:
    """Short hashes of the files measured: others edit the product while benches run."""
    root = Path(__file__).resolve().parent.parent
    return {name: hashlib.sha256((root / name).read_bytes()).hexdigest()[:12] for name in PRODUCT_FILES
            if (root / name).exists()}


def run_import_bench(quick: bool, quiet: bool) -> dict[str, Any]:
    """The other helper's import bench, if it exposes ``main`` or ``run``; skipped with a note otherwise.

    Its own results file belongs to it: whatever this run writes there is copied into our report
    and the file is put back as it was, so a ``--quick`` run never replaces its full-size numbers.
    """
    try:
        module = importlib.import_module("bench.import_speed")
    except ImportError as error:
        return {"skipped": f"bench.import_speed not importable: {error}"}
    entry = getattr(module, "main", None) or getattr(module, "run", None)
    if entry is None:
        return {"skipped": "bench.import_speed has no main() or run()"}
    path = Path(getattr(module, "RESULTS", RESULTS / "import_speed.json"))
    saved = path.read_bytes() if path.exists() else None
    argv = ["--rows", "10000", "--runs", "1"] if quick else []
    volume.log(f"import bench: bench.import_speed.{entry.__name__}({argv})")
    try:
        with contextlib.redirect_stdout(sys.stderr) if quiet else contextlib.nullcontext():
            status = entry(argv)
        if status not in (0, None) or not path.exists():
            return {"skipped": f"bench.import_speed exited with {status}"}
        return {"results": json.loads(path.read_text(encoding="utf-8")), "argv": argv}
    finally:
        if saved is not None:
            path.write_bytes(saved)


def ensure_aggregates(env: volume.BenchEnv, rebuilt: dict[str, Any] | None) -> str:
    """The snapshot bench needs aggregates: keep the rebuild bench's, else fill Redis with the
    set-based fixture (equal to the product's rebuild wherever both ran; and the product's own
    rebuild cannot finish past about 1 M cases with the runtime's Redis client)."""
    if rebuilt is not None and aggregates.is_built(env.rt.redis, env.county):
        return str(rebuilt["aggregates_left_by"])
    rebuild_speed.set_based_build(env)
    return "set-based fixture"


def measure_volumes(env: volume.BenchEnv, report: dict[str, Any], sizes: list[int], only: set[str],
                    suffix: str) -> None:
    """Grow the case table size by size; at each, the rebuild bench and then the snapshot bench."""
    previous: dict[str, Any] | None = None
    if "rebuild" in only:
        report["volume"].append(asdict(volume.grow(env, min(200_000, sizes[0]))))
        report["profile"] = rebuild_speed.profile(env, RESULTS / f"rebuild_profile{suffix}.txt")
        plain = report["profile"]["plain"]
        previous = None if "failed" in plain else plain
    for size in sizes:
        grown = volume.grow(env, size)
        if grown.added or not report["volume"]:
            report["volume"].append(asdict(grown))
        volume.clear_redis(env.rt.redis)
        rebuilt = None
        if "rebuild" in only:
            rebuilt = rebuild_speed.run(env, previous)
            report["rebuild"].append(rebuilt)
            if rebuilt["product"] is not None:
                previous = rebuilt["product"]
        if "snapshot" in only:
            source = ensure_aggregates(env, rebuilt)
            result = snapshot_speed.run(env, ours_runs=20, naive_runs=5)
            result["aggregates_from"] = source
            report["snapshot"].append(result)


def collect(args: argparse.Namespace, sizes: list[int], only: set[str]) -> dict[str, Any]:
    suffix = "-quick" if args.quick else ""
    report: dict[str, Any] = {"machine": machine(), "product_code": product_code(),
                              "command": "python -m bench " + " ".join(sys.argv[1:]),
                              "sizes": sizes, "volume": [], "snapshot": [], "rebuild": [], "profile": None,
                              "import": None}
    started = time.perf_counter()
    if "import" in only:
        # First, on a settled server: after the 10 M load and its schema's drop PostgreSQL spends
        # minutes writing gigabytes out, and an import then measures that instead of itself.
        report["import"] = run_import_bench(args.quick, args.json)
        if not args.keep:
            with redis.Redis.from_url(volume.REDIS_URL) as client:
                volume.clear_redis(client)
    if {"snapshot", "rebuild"} & only:
        env = volume.setup()
        report["setup_s"] = env.setup_seconds
        try:
            measure_volumes(env, report, sizes, only, suffix)
        finally:
            if args.keep:
                volume.log(f"--keep: schema {volume.SCHEMA} and Redis namespace bench (db 14) left in place")
                env.close()
            else:
                volume.teardown(env)
    report["total_s"] = time.perf_counter() - started
    report["goals"] = goals(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name, file in RESULT_FILES.items():
        if report[name]:
            part = {"machine": report["machine"], "command": report["command"], name: report[name]}
            (RESULTS / f"{file}{suffix}.json").write_text(json.dumps(part, indent=2, default=str) + "\n",
                                                          encoding="utf-8")
    (RESULTS / f"all{suffix}.json").write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return report


def goals(report: dict[str, Any]) -> dict[str, Any]:
    """The two targets of docs/benchmarks.md, judged at the largest volume measured."""
    out: dict[str, Any] = {}
    if report["snapshot"]:
        last = report["snapshot"][-1]
        out["snapshot"] = {"cases": last["cases"], "ratio": last["ratio_naive_over_ours"], "goal": SNAPSHOT_GOAL,
                           "met": last["ratio_naive_over_ours"] >= SNAPSHOT_GOAL and last["cases"] >= 10_000_000}
    if report["rebuild"]:
        last = report["rebuild"][-1]
        seconds = (last["product"] or last.get("product_estimate") or {}).get("seconds")
        out["rebuild"] = {"cases": last["cases"], "seconds": seconds, "measured": last["product"] is not None,
                          "goal_s": REBUILD_GOAL_SECONDS,
                          "met": seconds is not None and seconds <= REBUILD_GOAL_SECONDS
                          and last["cases"] >= 10_000_000}
    return out


def tables(report: dict[str, Any], *, markdown: bool = False) -> str:
    """Plain tables for a terminal, or Markdown ones for docs/benchmarks.md."""
    m = report["machine"]
    parts = [f"{m['cpu']} ×{m['cores']}, {m['ram_gb']} GB, PostgreSQL {m['postgresql']}, Redis {m['redis']}, "
             f"Python {m['python']}, redis-py parser {m['redis_py_parser']}, {m['date']}"]
    if report["volume"]:
        rows = [{"cases": v["cases"], "added": v["added"], "insert": v["seconds"].get("insert"),
                 "index": v["seconds"].get("indexes_and_keys"), "vacuum": v["seconds"].get("vacuum_analyze"),
                 "total": v["seconds"].get("total"), "open": 100 * v["open_share"], "red": v["red_open"],
                 "gb": v["table_gb"], "load": " ".join(map(str, v["load"]["loadavg"]))} for v in report["volume"]]
        parts.append("volume (generate cases in SQL)\n" + render(rows, markdown=markdown, columns=[
            Column("cases", "cases", ",d"), Column("added", "added", ",d"), Column("insert", "insert s", ".1f"),
            Column("index", "indexes s", ".1f"), Column("vacuum", "vacuum s", ".1f"), Column("total", "total s", ".1f"),
            Column("open", "open %", ".2f"), Column("red", "red open", ",d"), Column("gb", "table GB", ".2f"),
            Column("load", "load 1/5/15 after")]))
    if report["snapshot"]:
        rows = [{"cases": s["cases"], "open": s["open_cases"], "ours": 1e3 * s["ours_median_s"],
                 "p95": 1e3 * s["ours_p95_s"], "days": 1e3 * s["ours_phases_median_s"]["read_days"],
                 "read_open": 1e3 * s["ours_phases_median_s"]["read_open"],
                 "build": 1e3 * s["ours_phases_median_s"]["build_snapshot"], "naive": 1e3 * s["naive_median_s"],
                 "first": 1e3 * s["naive_first_run_s"], "ratio": s["ratio_naive_over_ours"],
                 "agree": "yes" if s["agree"] else "NO", "load": " ".join(map(str, s["load_before"]["loadavg"]))}
                for s in report["snapshot"]]
        parts.append("wall snapshot per refresh (ms)\n" + render(rows, markdown=markdown, columns=[
            Column("cases", "cases", ",d"), Column("open", "open", ",d"), Column("ours", "ours med", ".1f"),
            Column("p95", "ours p95", ".1f"), Column("days", "read_days", ".1f"),
            Column("read_open", "read_open", ".1f"),
            Column("build", "build", ".1f"), Column("naive", "naive med", ".1f"), Column("first", "naive 1st", ".1f"),
            Column("ratio", "naive/ours", ".1f"), Column("agree", "agree"), Column("load", "load before")]))
    if report["rebuild"]:
        rows = []
        for r in report["rebuild"]:
            product, estimate = r["product"], r.get("product_estimate") or {}
            how = "measured" if product else (f"estimated from {estimate['from_cases']:,}" if estimate else "failed")
            redis_bytes = product["namespace_bytes"] if product else estimate.get("redis_bytes")
            shipped = r.get("product_runtime_client")
            if shipped:
                how += f" (runtime client: timeout after {shipped['failed_after_s']:.0f} s)"
            rows.append({
                "cases": r["cases"], "how": how,
                "exec": product.get("pipeline_execute_s") if product else None,
                "seconds": product["seconds"] if product else estimate.get("seconds"),
                "redis": redis_bytes / 1e6 if redis_bytes is not None else None,
                "contrib": product["namespace"]["contrib_bytes"] / 1e6 if product else None,
                "used": product["used_memory_delta"] / 1e6 if product else None,
                "rss": product["peak_rss_mb"] if product else estimate.get("client_peak_mb"),
                "set": r["set_based"]["seconds"], "set_mb": sum(v for k, v in r["set_based"]["namespace"].items()
                                                                if k.endswith("_bytes")) / 1e6,
                "equal": {True: "yes", False: "NO", None: "–"}[r["set_based"].get("equals_product_rebuild")]})
        parts.append("cold rebuild of every aggregate\n" + render(rows, markdown=markdown, columns=[
            Column("cases", "cases", ",d"), Column("how", "product rebuild"), Column("seconds", "seconds", ",.1f"),
            Column("exec", "MULTI/EXEC s", ".1f"),
            Column("redis", "Redis keys MB", ",.0f"), Column("contrib", "of which contrib MB", ",.0f"),
            Column("used", "used_memory Δ MB", ",.0f"),
            Column("rss", "client peak MB", ",.0f"), Column("set", "set-based s", ".1f"),
            Column("set_mb", "set-based Redis MB", ",.0f"), Column("equal", "same counters")]))
    if report["profile"]:
        p = report["profile"]
        memory = [{"variant": name, "s": p[key].get("seconds"), "rss": p[key].get("peak_rss_mb")}
                  for name, key in (("as shipped", "plain"), ("contribution bytes trimmed", "trimmed_bytes"))]
        phases = [{"phase": k.removesuffix("_s"), "s": v, "share": 100 * p["phases_share"][k]}
                  for k, v in p["phases_s"].items() if k in p["phases_share"]]
        top = p["top_tottime"][:12]
        parts.append("\n\n".join([
            f"where the product rebuild's time goes at {p['cases']:,} cases "
            f"({p['seconds_unprofiled']:.1f} s unprofiled)",
            render(memory, markdown=markdown, columns=[
                Column("variant", "rebuild"), Column("s", "seconds", ".1f"), Column("rss", "client peak MB", ",.0f")]),
            render(phases, markdown=markdown, columns=[
                Column("phase", "phase"), Column("s", "seconds", ".1f"), Column("share", "%", ".0f")]),
            render(top, markdown=markdown, columns=[
                Column("function", "top own time (cProfile)"), Column("calls", "calls", ",d"),
                Column("tottime_s", "own s", ".2f"), Column("cumtime_s", "cum s", ".2f")])]))
    if report["import"]:
        imp = report["import"]
        if "skipped" in imp:
            parts.append(f"import: skipped ({imp['skipped']})")
        else:
            res = imp["results"]
            stages = res.get("stages_median_seconds", {})
            rows = [{"what": name, "rows": res["rows"], "s": res[name]["median_seconds"],
                     "rate": res[name]["rows_per_second"]} for name in ("import_cases", "insert_cases_only")
                    if name in res and not (stages and name == "insert_cases_only")]
            rows += [{"what": f"  {stage}", "rows": res["rows"], "s": seconds,
                      "rate": round(res["rows"] / seconds) if seconds else None}
                     for stage, seconds in stages.items()]
            parts.append("import (bench.import_speed)\n" + render(rows, markdown=markdown, columns=[
                Column("what", "what"), Column("rows", "rows", ",d"), Column("s", "median s", ".2f"),
                Column("rate", "rows/s", ",d")]))
    for name, goal in report["goals"].items():
        parts.append(f"goal {name}: {'MET' if goal['met'] else 'NOT met'} — {json.dumps(goal, default=str)}")
    return "\n\n".join(parts)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 k cases instead of 1 M and 10 M (CI-sized)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    parser.add_argument("--only", default=",".join(BENCHES), help=f"comma-separated subset of {','.join(BENCHES)}")
    parser.add_argument("--sizes", help="comma-separated case counts, overriding the defaults (e.g. 1000000)")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument("--keep", action="store_true", help="leave schema bench and the Redis namespace in place")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = only - set(BENCHES)
    if unknown:
        print(f"error: unknown bench {sorted(unknown)}; choose from {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    sizes = ([int(s) for s in args.sizes.split(",")] if args.sizes
             else [100_000] if args.quick else [1_000_000, 10_000_000])
    report = collect(args, sorted(sizes), only)
    print(json.dumps(report, indent=2, default=str) if args.json else tables(report, markdown=args.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
