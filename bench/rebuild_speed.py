"""How long a cold rebuild of every Redis aggregate takes, what it costs in Redis memory, and why.

``dashboard.cases.cache_ops.rebuild`` (the product's rebuild) runs in a fresh process, as ``python -m
dashboard cache rebuild`` would, so its peak memory is its own. It is set-based: one query packs
every case into a bigint (day, place, category, source, figure and reason bits) returned as a
few large byte strings, numpy sums them per day × area, and one MULTI/EXEC writes packed arrays,
per-grid deadline sets and 12-byte case records. Its phases are timed apart (SQL, then numpy and
Redis), and up to 1 M cases ``cache_ops.reconcile`` checks the result against plain SQL.
"""

from __future__ import annotations

import cProfile
import io
import multiprocessing
import pstats
import queue
import resource
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

from bench.volume import REDIS_URL, BenchEnv, clear_redis, log, machine_load
from dashboard.cases import cache_ops
from dashboard.runtime import Runtime
from dashboard.settings import Settings
from data_access import aggregates, case_columns
from data_access import redis_keys as keys

RECONCILE_UP_TO = 1_000_000
"""``reconcile`` groups the whole case table by day and area four times; past this it takes minutes."""
CHILD_MEMORY_SHARE = 0.8
"""The rebuilding process is stopped when its resident memory passes this share of the RAM free
when it started: on a shared machine the bench must fail, not wake the OOM killer."""


class MemoryBudgetExceeded(RuntimeError):
    """The measured process outgrew its share of the machine and was stopped."""


KEY_KINDS = ("day", "bd", "open", "due", "warn", "rec", "areas", "parents", "grids", "meta", "snapshot")


def available_bytes() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def redis_used(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def namespace_memory(client: redis.Redis, county: str) -> dict[str, int]:
    """Bytes per key kind of this county, from ``MEMORY USAGE`` (exact even with other users on the
    server). ``contrib`` is kept as the name of the per-case records, as in earlier reports."""
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
    out = {**{f"{k}_bytes": v for k, v in totals.items()}, **{f"{k}_keys": v for k, v in counts.items()}}
    out["contrib_bytes"] = totals["rec"]
    return out


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


def _rebuild_child(results: multiprocessing.Queue, *args: Any) -> None:  # type: ignore[type-arg]
    try:
        results.put(("ok", _rebuild_worker(*args)))
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which re-raises
        results.put(("error", f"{type(error).__name__}: {error}"))


def _rebuild_worker(url: str, county: str, var_dir: str, mode: str, profile_path: str | None,
                    patient: bool) -> dict[str, Any]:
    """Runs in a fresh process: ``mode`` is ``rebuild`` (timed, the product's call), ``phases``
    (SQL columns, then numpy + Redis, timed apart) or ``profile`` (cProfile). ``patient`` uses
    the runtime's admin client (no read timeout, as the CLI and ``ensure_aggregates`` do) rather
    than its ordinary one (5 s)."""
    rt = Runtime(Settings(database_url=url, redis_url=REDIS_URL, var_dir=Path(var_dir), scheduler=False))
    client = rt.redis_admin if patient else rt.redis
    try:
        result: dict[str, Any] = {"redis_client": "admin (no read timeout)" if patient else "runtime (5 s timeout)"}
        with rt.sessions() as session:
            if mode == "phases":
                started = time.perf_counter()
                columns = case_columns.case_columns(session, county, rt.rules)
                result["sql_columns_s"] = time.perf_counter() - started
                started = time.perf_counter()
                report = aggregates.rebuild_columns(client, county, columns)
                result["numpy_and_redis_s"] = time.perf_counter() - started
                result.update(seconds=result["sql_columns_s"] + result["numpy_and_redis_s"], cases=report.cases)
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
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return result
    finally:
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


def product_rebuild(env: BenchEnv, mode: str = "rebuild", *, patient: bool = True) -> dict[str, Any]:
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
        log(f"  product rebuild with the {result.get('redis_client', 'runtime')} client failed: {result['failed']}")
        return {**result, "cases": env.cases(), "load_before": load, "load_after": machine_load()}
    after = redis_used(env.rt.redis)
    memory = namespace_memory(env.rt.redis, env.county)
    result.update(used_memory_before=before, used_memory_after=after, used_memory_delta=after - before,
                  namespace=memory, namespace_bytes=sum(v for k, v in memory.items()
                                                        if k.endswith("_bytes") and k != "contrib_bytes"),
                  pipeline_execute_s=None, load_before=load, load_after=machine_load())
    log(f"  product rebuild ({mode}) of {result['cases']:,} cases [{result['redis_client']}]: "
        f"{result['seconds']:.1f} s, Redis keys {result['namespace_bytes'] / 1e6:,.1f} MB "
        f"(case records {memory['rec_bytes'] / 1e6:,.1f} MB; used_memory +{(after - before) / 1e6:,.0f} MB), "
        f"rebuilding process peak {result['peak_rss_mb']:,.0f} MB")
    return result


def profile(env: BenchEnv, path: Path) -> dict[str, Any]:
    """Where the product rebuild's time goes: a plain phase split, then cProfile (full listing in ``path``)."""
    cases_now = env.cases()
    log(f"profiling the product rebuild at {cases_now:,} cases")
    plain = product_rebuild(env)
    phases = product_rebuild(env, "phases")
    clear_redis(env.rt.redis)
    profiled = in_fresh_process(env, "profile", path, patient=True)
    clear_redis(env.rt.redis)
    names = ("sql_columns_s", "numpy_and_redis_s")
    total = sum(phases[k] for k in names)
    log(f"  phases: SQL columns {phases['sql_columns_s']:.1f} s, numpy + Redis {phases['numpy_and_redis_s']:.1f} s")
    return {"cases": cases_now, "seconds_unprofiled": plain["seconds"], "plain": plain, "trimmed_bytes": {},
            "phases_s": {k: phases[k] for k in names}, "phases_share": {k: phases[k] / total for k in names},
            "top_tottime": profiled["top"], "listing": str(path)}


def set_based_build(env: BenchEnv) -> dict[str, Any]:
    """Fill Redis for the snapshot bench: the product's own rebuild, in this process."""
    started = time.perf_counter()
    with env.rt.sessions() as session:
        report = cache_ops.rebuild(session, env.rt.redis_admin, env.county, env.rt.rules)
    return {"seconds": time.perf_counter() - started, "cases": report.cases,
            "namespace": namespace_memory(env.rt.redis, env.county)}


def run(env: BenchEnv, previous: dict[str, Any] | None) -> dict[str, Any]:
    """The product rebuild at this volume: timed whole, then by phase, then with the runtime's
    ordinary client (5 s read timeout); up to ``RECONCILE_UP_TO`` cases, reconciled with SQL.

    Afterwards Redis holds the county's aggregates from the product rebuild, for the snapshot bench.
    """
    del previous
    cases_now = env.cases()
    log(f"rebuild at {cases_now:,} cases")
    result: dict[str, Any] = {"cases": cases_now, "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                              "product_estimate": None}
    runtime_client = product_rebuild(env, patient=False)
    if "failed" in runtime_client:
        result["product_runtime_client"] = runtime_client
    phases = product_rebuild(env, "phases")
    measured = product_rebuild(env)
    result["product"] = None if "failed" in measured else {**measured, "phases": phases,
                                                           "runtime_client_seconds": runtime_client.get("seconds")}
    same: bool | None = None
    if result["product"] is not None and cases_now <= RECONCILE_UP_TO:
        started = time.perf_counter()
        with env.rt.sessions() as session:
            diffs = cache_ops.reconcile(session, env.rt.redis, env.county, env.rt.rules)
        same = not diffs
        result["reconcile"] = {"seconds": time.perf_counter() - started, "differences": [str(d) for d in diffs[:20]]}
        log(f"  reconcile with SQL: {'no difference' if same else f'{len(diffs)} DIFFERENCES'} "
            f"({result['reconcile']['seconds']:.0f} s)")
    result["set_based"] = {"seconds": phases.get("seconds"), "namespace": measured.get("namespace", {}),
                           "equals_product_rebuild": same}
    result["aggregates_left_by"] = "product rebuild"
    return result
