"""How long a cold rebuild of every Redis aggregate takes, what it costs in Redis memory, and why.

``dashboard.cache_ops.rebuild`` (the product's rebuild: ORM rows → per-case contribution →
one MULTI/EXEC) runs in a fresh process, as ``python -m dashboard cache rebuild`` would, so its
peak memory is its own. Where it would clearly take too long or too much memory it is not run;
the result is extrapolated from the largest volume measured, and says so.

``set_based_build`` is this bench's own fixture, not product code: the same day counters and
open entries from two grouped scans of the case table plus the open cases. It fills Redis for the snapshot
bench at 10 M and shows what a set-based rebuild could cost. It writes no per-case
contribution hashes, which the write path needs, so it is not a drop-in replacement.
"""

from __future__ import annotations

import cProfile
import io
import multiprocessing
import pstats
import queue
import resource
import time
from collections import defaultdict
from dataclasses import fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import BigInteger, Date, cast, func, literal_column, select, text, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bench.volume import REDIS_URL, BenchEnv, clear_redis, log, machine_load
from dashboard import cache_ops
from dashboard.contributions import BREAKDOWN_LEVELS, Contribution, contribution
from dashboard.figures import PeriodCounts
from dashboard.runtime import Runtime
from dashboard.settings import Settings
from data_access import aggregates, cases, figure_queries
from data_access import redis_keys as keys
from data_access.models import Case

MAX_PRODUCT_SECONDS = 600.0
"""Beyond this estimate the product rebuild is extrapolated instead of run (the brief's 10 minutes)."""
MAX_MEMORY_SHARE = 0.75
"""Nor is it run when Redis plus the rebuilding process would need more than this share of the free RAM."""
CHILD_MEMORY_SHARE = 0.8
"""The rebuilding process is stopped when its resident memory passes this share of the RAM free
when it started: on a shared machine the bench must fail, not wake the OOM killer."""


class MemoryBudgetExceeded(RuntimeError):
    """The measured process outgrew its share of the machine and was stopped."""
PERIOD_FIELDS = [f.name for f in fields(PeriodCounts)]
KEY_KINDS = ("day", "contrib", "open", "meta")


def available_bytes() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def redis_used(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def namespace_memory(client: redis.Redis, county: str) -> dict[str, int]:
    """Bytes per key kind of this county, from ``MEMORY USAGE`` (exact even with other users on the server)."""
    totals = dict.fromkeys(KEY_KINDS, 0)
    counts = dict.fromkeys(KEY_KINDS, 0)
    prefix = keys.meta(county).removesuffix("meta")
    names = [k.decode() for k in client.scan_iter(match=f"{prefix}*", count=5000)]
    with client.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.memory_usage(name, samples=0)
        sizes = pipe.execute()
    for name, size in zip(names, sizes, strict=True):
        kind = name.removeprefix(prefix).split(":", 1)[0]
        if kind in totals:
            totals[kind] += int(size or 0)
            counts[kind] += 1
    return {**{f"{k}_bytes": v for k, v in totals.items()}, **{f"{k}_keys": v for k, v in counts.items()}}


def _profile_summary(profiler: cProfile.Profile, path: Path) -> list[dict[str, object]]:
    """Write the full cProfile listing; return the top functions by own time."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("tottime")
    stats.print_stats(40)
    stats.sort_stats("cumulative").print_stats(40)
    path.write_text(out.getvalue(), encoding="utf-8")
    rows = []
    for (filename, line, name), (_, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        short = f"{Path(filename).parent.name}/{Path(filename).name}:{line}({name})" if line else name
        rows.append({"function": short, "calls": calls, "tottime_s": tottime, "cumtime_s": cumtime})
    rows.sort(key=lambda r: -float(r["tottime_s"]))
    return rows[:25]


def _trim_contribution_json() -> None:
    """What-if: copy each ``Contribution.to_json`` result into a right-sized bytes object.

    orjson ≥ 3.12 returns bytes whose buffer keeps its over-allocation (≈16 KB for a 0.7 KB
    contribution); ``aggregates.rebuild`` holds one per case until its MULTI/EXEC.
    """
    original = Contribution.to_json

    def trimmed(self: Contribution) -> bytes:
        return bytes(memoryview(original(self)))

    Contribution.to_json = trimmed  # type: ignore[method-assign]


def _rebuild_child(results: multiprocessing.Queue, *args: Any) -> None:  # type: ignore[type-arg]
    try:
        results.put(("ok", _rebuild_worker(*args)))
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which re-raises
        results.put(("error", f"{type(error).__name__}: {error}"))


def _time_pipelines(durations: list[float]) -> None:
    """Record how long each big pipeline ``execute`` takes (the rebuild's single MULTI/EXEC)."""
    original = redis.client.Pipeline.execute

    def timed_execute(self: redis.client.Pipeline, raise_on_error: bool = True) -> list[Any]:
        started = time.perf_counter()
        try:
            return original(self, raise_on_error)
        finally:
            durations.append(time.perf_counter() - started)

    redis.client.Pipeline.execute = timed_execute  # type: ignore[method-assign]


def _patient_client() -> redis.Redis:
    """The product's client settings (``redis_connection.connect``) without the 5 s read timeout."""
    return redis.Redis.from_url(REDIS_URL, socket_timeout=None, socket_connect_timeout=2, health_check_interval=30)


def _rebuild_worker(url: str, county: str, var_dir: str, mode: str, profile_path: str | None,
                    patient: bool) -> dict[str, Any]:
    """Runs in a fresh process: ``mode`` is ``rebuild`` (timed), ``rebuild_trimmed`` (the same with
    right-sized contribution bytes), ``profile`` (cProfile) or ``phases``. ``patient`` swaps the
    runtime's Redis client (5 s socket timeout) for one that waits for a long EXEC."""
    if mode == "rebuild_trimmed":
        _trim_contribution_json()
    pipelines: list[float] = []
    _time_pipelines(pipelines)
    rt = Runtime(Settings(database_url=url, redis_url=REDIS_URL, var_dir=Path(var_dir), scheduler=False))
    client = _patient_client() if patient else rt.redis
    try:
        result: dict[str, Any] = {"redis_client": "socket_timeout=None" if patient else "runtime (socket_timeout=5 s)"}
        with rt.sessions() as session:
            if mode == "phases":
                started = time.perf_counter()
                rows = [(case.id, case) for case in cases.iter_county_cases(session, county)]
                result["fetch_orm_s"] = time.perf_counter() - started
                started = time.perf_counter()
                items = [(case_id, contribution(case, rt.rules)) for case_id, case in rows]
                result["contribution_s"] = time.perf_counter() - started
                del rows
                started = time.perf_counter()
                aggregates.rebuild(client, county, items)
                result["aggregate_and_redis_s"] = time.perf_counter() - started
            elif mode == "profile":
                profiler = cProfile.Profile()
                profiler.enable()
                cache_ops.rebuild(session, client, county, rt.rules)
                profiler.disable()
                result["top"] = _profile_summary(profiler, Path(profile_path or "rebuild_profile.txt"))
            else:
                started = time.perf_counter()
                try:
                    report = cache_ops.rebuild(session, client, county, rt.rules)
                except redis.TimeoutError as error:
                    result.update(failed=f"redis.TimeoutError: {error}", failed_after_s=time.perf_counter() - started)
                else:
                    result.update(seconds=time.perf_counter() - started, cases=report.cases,
                                  open_cases=report.open_cases, days=report.days)
        result["pipeline_execute_s"] = max(pipelines, default=0.0)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return result
    finally:
        client.close()
        rt.close()


def _rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * resource.getpagesize()
    except (FileNotFoundError, ProcessLookupError):
        return 0


def in_fresh_process(env: BenchEnv, mode: str, profile_path: Path | None = None, *,
                     patient: bool = False) -> dict[str, Any]:
    """A spawned process per measurement, so its peak RSS is the rebuild's own; watched, and
    stopped if its resident memory passes ``CHILD_MEMORY_SHARE`` of the RAM free at its start."""
    context = multiprocessing.get_context("spawn")
    budget = int(CHILD_MEMORY_SHARE * available_bytes())
    results = context.Queue()
    child = context.Process(target=_rebuild_child, args=(results, env.url, env.county, str(env.var_dir), mode,
                                                         str(profile_path) if profile_path else None, patient))
    child.start()
    try:
        while True:
            try:
                status, payload = results.get(timeout=0.2)
                break
            except queue.Empty:
                if child.pid is not None and _rss_bytes(child.pid) > budget:
                    child.kill()
                    raise MemoryBudgetExceeded(f"stopped at {budget / 1e9:.1f} GB resident") from None
                if not child.is_alive():
                    raise RuntimeError(f"rebuild process died with exit code {child.exitcode}") from None
    finally:
        child.join()
    if status != "ok":
        raise RuntimeError(f"rebuild process failed: {payload}")
    return payload  # type: ignore[no-any-return]


def product_rebuild(env: BenchEnv, mode: str = "rebuild", *, patient: bool = False) -> dict[str, Any]:
    """Cold: the county's keys are deleted first, so Redis memory before/after is the rebuild's."""
    clear_redis(env.rt.redis)
    before = redis_used(env.rt.redis)
    load = machine_load()
    try:
        result = in_fresh_process(env, mode, patient=patient)
    except (MemoryBudgetExceeded, RuntimeError) as error:
        result = {"failed": f"{type(error).__name__}: {error}"}
    if "failed" in result:
        clear_redis(env.rt.redis)
        after_s = f" after {result['failed_after_s']:.0f} s" if "failed_after_s" in result else ""
        log(f"  product rebuild with the {result.get('redis_client', 'runtime')} client failed{after_s}: "
            f"{result['failed']}")
        return {**result, "cases": env.cases(), "load_before": load, "load_after": machine_load()}
    after = redis_used(env.rt.redis)
    memory = namespace_memory(env.rt.redis, env.county)
    result.update(used_memory_before=before, used_memory_after=after, used_memory_delta=after - before,
                  namespace=memory, namespace_bytes=sum(v for k, v in memory.items() if k.endswith("_bytes")),
                  load_before=load, load_after=machine_load())
    log(f"  product rebuild{' (trimmed bytes)' if mode != 'rebuild' else ''} of {result['cases']:,} cases "
        f"[{result['redis_client']}]: {result['seconds']:.1f} s (MULTI/EXEC {result['pipeline_execute_s']:.1f} s), "
        f"Redis keys {result['namespace_bytes'] / 1e6:,.0f} MB "
        f"(contribution hashes {memory['contrib_bytes'] / 1e6:,.0f} MB; "
        f"used_memory +{(after - before) / 1e6:,.0f} MB), rebuilding process peak {result['peak_rss_mb']:,.0f} MB")
    return result


def profile(env: BenchEnv, path: Path) -> dict[str, Any]:
    """Where the product rebuild's time goes: a plain phase split, then cProfile (full listing in ``path``)."""
    cases_now = env.cases()
    log(f"profiling the product rebuild at {cases_now:,} cases")
    plain = product_rebuild(env)
    trimmed = product_rebuild(env, "rebuild_trimmed")
    clear_redis(env.rt.redis)
    phases = in_fresh_process(env, "phases")
    clear_redis(env.rt.redis)
    profiled = in_fresh_process(env, "profile", path)
    clear_redis(env.rt.redis)
    total = phases["fetch_orm_s"] + phases["contribution_s"] + phases["aggregate_and_redis_s"]
    log(f"  phases: SQL+ORM {phases['fetch_orm_s']:.1f} s, contribution() {phases['contribution_s']:.1f} s, "
        f"aggregate+Redis {phases['aggregate_and_redis_s']:.1f} s")
    return {"cases": cases_now, "seconds_unprofiled": plain["seconds"], "plain": plain, "trimmed_bytes": trimmed,
            "phases_s": phases,
            "phases_share": {k: phases[k] / total for k in ("fetch_orm_s", "contribution_s", "aggregate_and_redis_s")},
            "top_tottime": profiled["top"], "listing": str(path)}


AREA_NAMES = ("county_code", "township_code", "village_code", "grid_code")
BREAKDOWN_NAMES = tuple(f"{level}_code" for level in BREAKDOWN_LEVELS)


def _local_day() -> ColumnElement[Any]:
    """The Asia/Shanghai date of receipt (UTC+8, no DST since 1991) from the naive-UTC column.

    A cast to ``date`` instead of the product's ``to_char``: the same day, far cheaper per row.
    """
    return cast(Case.received_at + literal_column("interval '8 hours'"), Date)


def _day_key(day: date, cache: dict[date, str]) -> str:
    if day not in cache:
        cache[day] = day.strftime("%Y%m%d")
    return cache[day]


def sql_aggregates(session: Session, county: str) -> dict[str, dict[str, int]]:
    """Every day counter of ``county`` in two scans of the case table.

    Each scan groups by (day, grid and its parents) or (day, township, category, source) — under a
    million groups — and ``GROUPING SETS`` over that small result rolls it up to every area. The
    figure definitions are the product's own (``figure_queries.period_columns``).
    """
    session.execute(text("SET LOCAL work_mem = '512MB'"))
    session.execute(text("SET LOCAL jit = off"))
    day = _local_day().label("day")
    columns = figure_queries.period_columns()
    areas = [getattr(Case, name) for name in AREA_NAMES]
    per_grid = (select(day, *areas, *(col.label(name) for name, col in columns.items()))
                .where(Case.county_code == county).group_by(day, *areas).subquery())
    grid_sets = func.grouping_sets(*(tuple_(per_grid.c.day, per_grid.c[name]) for name in AREA_NAMES))
    rollup = select(per_grid.c.day, *(per_grid.c[name] for name in AREA_NAMES),
                    func.grouping(*(per_grid.c[name] for name in AREA_NAMES)).label("g"),
                    *(cast(func.sum(per_grid.c[name]), BigInteger).label(name) for name in PERIOD_FIELDS)
                    ).group_by(grid_sets)

    keys_by_day: dict[date, str] = {}
    days: dict[str, dict[str, int]] = defaultdict(dict)
    conn = session.connection()
    level_of = _grouping_positions(len(AREA_NAMES), 1)
    width = len(AREA_NAMES)
    for row in conn.execute(rollup).all():
        area = row[1 + level_of[row[1 + width]][0]]
        counters = days[_day_key(row[0], keys_by_day)]
        for name, value in zip(PERIOD_FIELDS, row[2 + width :], strict=True):
            if value:
                counters[f"{area}:{name}"] = value

    breakdown_areas = [getattr(Case, name) for name in BREAKDOWN_NAMES]
    per_value = (select(day, *breakdown_areas, Case.category, Case.source, func.count().label("n"))
                 .where(Case.county_code == county).group_by(day, *breakdown_areas, Case.category, Case.source)
                 .subquery())
    value_sets = func.grouping_sets(*(tuple_(per_value.c.day, per_value.c[area], per_value.c[field])
                                      for area in BREAKDOWN_NAMES for field in ("category", "source")))
    names = (*BREAKDOWN_NAMES, "category", "source")
    breakdown = select(per_value.c.day, *(per_value.c[n] for n in names),
                       func.grouping(*(per_value.c[n] for n in names)).label("g"),
                       cast(func.sum(per_value.c.n), BigInteger).label("n")).group_by(value_sets)
    present = _grouping_positions(len(names), 2)
    for day_number, *values, grouping, n in conn.execute(breakdown).all():
        area_at, field_at = present[grouping]
        days[_day_key(day_number, keys_by_day)][f"{values[area_at]}:{names[field_at]}.{values[field_at]}"] = n
    return dict(days)


def _grouping_positions(width: int, chosen: int) -> dict[int, tuple[int, ...]]:
    """``GROUPING()`` bitmask → positions of the grouped columns (a set bit means "rolled up")."""
    out: dict[int, tuple[int, ...]] = {}
    for mask in range(1 << width):
        positions = tuple(i for i in range(width) if not (mask >> (width - 1 - i)) & 1)
        if len(positions) == chosen:
            out[mask] = positions
    return out


def open_entries(session: Session, county: str, rt: Runtime) -> dict[str, bytes]:
    """The open cases exactly as the product stores them (its own ``contribution``, on plain rows)."""
    stmt = select(*Case.__table__.columns).where(Case.county_code == county, Case.resolved_at.is_(None))
    out: dict[str, bytes] = {}
    for row in session.execute(stmt):
        entry = contribution(row, rt.rules).open
        if entry is not None:
            out[str(row.id)] = entry.to_json()
    return out


def compare_with_redis(client: redis.Redis, county: str, days: dict[str, dict[str, int]],
                       entries: dict[str, bytes]) -> list[str]:
    """Differences between what ``set_based_build`` would write and what the product rebuild wrote."""
    cached = aggregates.read_all_days(client, county)
    diffs = [f"day {d}" for d in sorted(days.keys() | cached.keys()) if days.get(d, {}) != cached.get(d, {})]
    stored = {k.decode() if isinstance(k, bytes) else k: v for k, v in client.hgetall(keys.open_cases(county)).items()}
    if stored != entries:
        diffs.append(f"open entries: {len(stored.keys() ^ entries.keys())} ids differ, "
                     f"{sum(stored.get(k) != v for k, v in entries.items())} values differ")
    return diffs


def clear_county(client: redis.Redis, county: str) -> None:
    """Delete one county's keys of the bench namespace (day, contribution, open, meta)."""
    prefix = keys.meta(county).removesuffix("meta")
    found = list(client.scan_iter(match=f"{prefix}*", count=5000))
    for start in range(0, len(found), 5000):
        client.delete(*found[start : start + 5000])


def set_based_build(env: BenchEnv, *, compare: bool = False, into: str | None = None) -> dict[str, Any]:
    """Fill Redis with day counters and open entries computed in SQL (bench fixture; see module doc).

    ``into`` writes under another county code (then deletes it), to time the write while keeping
    the product rebuild's keys for the snapshot bench; ``compare`` checks equality with those keys.
    """
    target = into or env.county
    started = time.perf_counter()
    with env.rt.sessions() as session, session.begin():
        days = sql_aggregates(session, env.county)
        sql_seconds = time.perf_counter() - started
        entries = open_entries(session, env.county, env.rt)
    read_seconds = time.perf_counter() - started
    diffs = compare_with_redis(env.rt.redis, env.county, days, entries) if compare else None
    client = env.rt.redis
    clear_county(client, target)
    write_started = time.perf_counter()
    with client.pipeline(transaction=False) as pipe:
        for day, counters in days.items():
            pipe.hset(keys.day(target, day), mapping=counters)  # type: ignore[arg-type]
        items = list(entries.items())
        for start in range(0, len(items), 10_000):
            pipe.hset(keys.open_cases(target), mapping=dict(items[start : start + 10_000]))
        stamp = repr(time.time())
        pipe.hset(keys.meta(target), mapping={"rebuilt_at": stamp, "changed_at": stamp})
        pipe.hincrby(keys.meta(target), "version", 1)
        pipe.execute()
    write_seconds = time.perf_counter() - write_started
    result: dict[str, Any] = {
        "cases": env.cases(), "sql_grouping_sets_s": sql_seconds, "open_entries_s": read_seconds - sql_seconds,
        "redis_write_s": write_seconds, "seconds": read_seconds + write_seconds, "days": len(days),
        "counters": sum(len(c) for c in days.values()), "open_cases": len(entries),
        "namespace": namespace_memory(client, target),
    }
    if into:
        clear_county(client, into)
    if diffs is not None:
        result["equals_product_rebuild"] = not diffs
        result["differences"] = diffs[:20]
    log(f"  set-based build: {result['seconds']:.1f} s (SQL {sql_seconds:.1f} s, "
        f"open {result['open_entries_s']:.1f} s, "
        f"Redis {write_seconds:.1f} s); {result['counters']:,} counters"
        + ("" if diffs is None else f"; {'equal to' if not diffs else 'DIFFERENT from'} the product rebuild"))
    return result


def estimate(previous: dict[str, Any], cases_now: int) -> dict[str, Any]:
    """Extrapolation from the largest product rebuild measured: time, client memory and the per-case
    Redis keys (contributions, open entries) grow linearly; the day hashes are bounded by
    areas × days, so their size at the smaller volume is kept (a lower bound)."""
    scale = cases_now / previous["cases"]
    memory = previous["namespace"]
    return {
        "from_cases": previous["cases"],
        "seconds": previous["seconds"] * scale,
        "redis_bytes": (memory["contrib_bytes"] + memory["open_bytes"]) * scale + memory["day_bytes"],
        "client_peak_mb": previous["peak_rss_mb"] * scale,
    }


def run(env: BenchEnv, previous: dict[str, Any] | None) -> dict[str, Any]:
    """Product rebuild at this volume if feasible (else extrapolated), then the set-based fixture.

    Afterwards Redis holds the county's aggregates for the snapshot bench: the product's when it ran.
    """
    cases_now = env.cases()
    log(f"rebuild at {cases_now:,} cases")
    result: dict[str, Any] = {"cases": cases_now, "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
    guess = estimate(previous, cases_now) if previous else None
    memory_needed = (guess["redis_bytes"] + guess["client_peak_mb"] * 1e6) if guess else 0.0
    if guess and (guess["seconds"] > MAX_PRODUCT_SECONDS or memory_needed > MAX_MEMORY_SHARE * available_bytes()):
        result["product"] = None
        result["product_estimate"] = guess
        result["product_skipped_because"] = (
            f"estimated {guess['seconds']:.0f} s (limit {MAX_PRODUCT_SECONDS:.0f} s) and "
            f"{memory_needed / 1e9:.1f} GB of Redis + client memory ({available_bytes() / 1e9:.1f} GB available)")
        log(f"  product rebuild not run: {result['product_skipped_because']}")
        result["set_based"] = set_based_build(env)
    else:
        measured = product_rebuild(env)
        if "failed_after_s" in measured:
            result["product_runtime_client"] = measured
            measured = product_rebuild(env, patient=True)
        if "failed" in measured:
            result.update(product=None, product_failed=measured, product_skipped_because=measured["failed"])
            if guess:
                result["product_estimate"] = guess
            result["set_based"] = set_based_build(env)
        else:
            result["product"] = measured
            result["set_based"] = set_based_build(env, compare=True, into=f"{env.county}-set-based")
    result["aggregates_left_by"] = "set-based fixture" if result["product"] is None else "product rebuild"
    return result
