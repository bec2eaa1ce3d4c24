"""Rebuilding the Redis aggregates from the database, which stays the truth.

A rebuild reads every case as columns, adds them up on arrays (one pass over the cases plus
O(days × areas)) and replaces every aggregate of the county in one MULTI/EXEC, which also
lowers the rebuild fence (``aggregate_fence``) it raised before its SQL read.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import redis

from dashboard.domain.contributions import CATEGORIES, FACT_CODES, SOURCES, Contribution, day_from_number, day_number
from data_access import redis_keys as keys
from data_access.redis_connection import scan_county
from data_access.aggregate_records import (
    CLOSED_BIT,
    MAX_AREAS,
    N_FIGURES,
    N_OPEN,
    PACKED,
    RECORD,
    RECORD_DTYPE,
    RED_MASK,
    WARN_BIT,
)

_REBUILT_VERSION = """
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
local floor = tonumber(ARGV[1])
local version = current + 1
if floor > version then version = floor end
redis.call('HSET', KEYS[1], 'version', version)
return version
"""
"""A rebuild's version: one past the last, and never below the clock in milliseconds. A Redis that
restarted empty would otherwise count from 1 again, and every process and screen that kept a
state of an earlier version 5 would take the new version 5 for it."""

@dataclass(frozen=True)
class CaseColumns:
    """Every case of a county as columns (what a rebuild reads), one entry per case.

    ``place`` indexes ``places`` (township, village, grid codes); ``reasons`` holds the fact-reason
    bits with bit 7 set when an open case warns early; ``open_ids``/``open_due_us`` give the
    deadline of every open case.
    """

    ids: npt.NDArray[np.int64]
    day: npt.NDArray[np.int64]
    place: npt.NDArray[np.int64]
    category: npt.NDArray[np.int64]
    source: npt.NDArray[np.int64]
    flags: npt.NDArray[np.int64]
    reasons: npt.NDArray[np.int64]
    open_ids: npt.NDArray[np.int64]
    open_due_us: npt.NDArray[np.int64]
    places: list[tuple[str, str, str]]


def columns_from_contributions(items: Iterable[tuple[int, Contribution]]) -> CaseColumns:
    """The columns of already computed contributions (small counties, SQLite, tests)."""
    places: dict[tuple[str, str, str], int] = {}
    rows: list[tuple[int, int, int, int, int, int, int]] = []
    due: list[tuple[int, int]] = []
    for case_id, contrib in items:
        place = places.setdefault(contrib.areas[1:], len(places))  # type: ignore[arg-type]
        entry = contrib.open
        reasons = (entry.mask | (WARN_BIT if entry.warn_early else 0)) if entry else 0
        rows.append((case_id, day_number(contrib.day), place, CATEGORIES.index(contrib.category),
                     SOURCES.index(contrib.source), contrib.flags, reasons))
        if entry is not None:
            due.append((case_id, entry.due_us))
    table = np.array(rows, dtype=np.int64).reshape(-1, 7)
    opened = np.array(due, dtype=np.int64).reshape(-1, 2)
    return CaseColumns(*(table[:, i] for i in range(7)), opened[:, 0], opened[:, 1], list(places))


@dataclass(frozen=True)
class RebuildReport:
    cases: int
    open_cases: int
    days: int
    seconds: float
    version: int


def _delete_matching(pipe: redis.client.Pipeline, client: redis.Redis, county: str, pattern: str) -> None:
    batch: list[bytes] = []
    for key in scan_county(client, keys.meta(county), pattern):
        batch.append(key)
        if len(batch) >= 1000:
            pipe.delete(*batch)
            batch = []
    if batch:
        pipe.delete(*batch)


def _area_codes(county: str, places: list[tuple[str, str, str]]) -> tuple[list[str], npt.NDArray[np.int32]]:
    """Indexes county first, then townships, villages and grids (breakdown arrays stay short)."""
    codes = [county]
    for level in range(3):
        codes += sorted({place[level] for place in places} - set(codes))
    index = {code: i for i, code in enumerate(codes)}
    parents = np.full(len(codes), -1, dtype=np.int32)
    for township, village, grid in places:
        parents[index[township]], parents[index[village]], parents[index[grid]] = 0, index[township], index[village]
    if len(codes) > MAX_AREAS:
        raise ValueError(f"{len(codes)} areas exceed the packed record's {MAX_AREAS}")
    return codes, parents


def _roll(values: npt.NDArray[np.int64], rows: npt.NDArray[np.int64], n: int) -> npt.NDArray[np.int64]:
    """Sum ``values`` (first axis one per row) into ``n`` areas by each row's area index ``rows``
    (sorted segment sums)."""
    out = np.zeros((n, *values.shape[1:]), dtype=np.int64)
    if not len(rows):
        return out
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    out[ordered[starts]] = np.add.reduceat(values[order], starts, axis=0)
    return out


def rebuild_columns(client: redis.Redis, county: str, cols: CaseColumns, *, fence: str | None = None) -> RebuildReport:
    """Replace every aggregate of ``county`` with what ``cols`` add up to, in one MULTI/EXEC.

    Grouping is done on arrays (bincounts per day × place), so the cost is one pass over the
    cases plus O(days × areas); no per-case Python runs except for open cases. ``fence`` (from
    :func:`raise_fence`) is lowered in the same MULTI/EXEC.
    """
    started = time.perf_counter()
    if not len(cols.ids):
        cols = CaseColumns(*(np.zeros(0, dtype=np.int64) for _ in range(9)), [])  # type: ignore[arg-type]
    codes, parents = _area_codes(county, cols.places)
    index = {code: i for i, code in enumerate(codes)}
    n = len(codes)
    place_areas = np.array([[index[t], index[v], index[g]] for t, v, g in cols.places], dtype=np.int64).reshape(-1, 3)
    n_places = max(len(cols.places), 1)
    first_day = int(cols.day.min()) if len(cols.day) else 0
    day_of = cols.day - first_day
    n_days = int(day_of.max()) + 1 if len(day_of) else 0
    cell = day_of * n_places + cols.place

    present = np.bincount(cols.flags, minlength=256) > 0
    flag_values = np.flatnonzero(present)
    flag_of = (np.cumsum(present) - 1)[cols.flags]
    counts = np.bincount(cell * len(flag_values) + flag_of, minlength=n_days * n_places * len(flag_values))
    bits = (flag_values[:, None] >> np.arange(N_FIGURES)) & 1
    by_place = (counts.reshape(n_days * n_places, len(flag_values)).astype(np.float64) @ bits.astype(np.float64))
    by_place = by_place.astype(np.int64).reshape(n_days, n_places, N_FIGURES)
    per_place = by_place.transpose(1, 0, 2)[: len(cols.places)]
    figures = np.zeros((n, n_days, N_FIGURES), dtype=np.int64)
    for level in range(3):
        figures += _roll(per_place, place_areas[:, level], n)
    figures[0] += per_place.sum(axis=0)

    breakdown_cells = [
        np.bincount(cell * size + column, minlength=n_days * n_places * size).reshape(n_days, n_places, size)
        for column, size in ((cols.category, len(CATEGORIES)), (cols.source, len(SOURCES)))]
    per_place_bd = np.concatenate(breakdown_cells, axis=2).transpose(1, 0, 2)[: len(cols.places)]
    width = int(place_areas[:, 0].max()) + 1 if len(cols.places) else 1
    breakdowns = _roll(per_place_bd, place_areas[:, 0], width)
    breakdowns[0] += per_place_bd.sum(axis=0)

    is_open = (cols.flags & CLOSED_BIT) == 0
    open_ids, open_place, open_reasons = cols.ids[is_open], cols.place[is_open], cols.reasons[is_open]
    order = np.argsort(cols.open_ids)
    at = np.searchsorted(cols.open_ids[order], open_ids)
    if len(open_ids) and not np.array_equal(cols.open_ids[order][np.minimum(at, len(order) - 1)], open_ids):
        raise ValueError("an open case has no deadline")
    open_due = cols.open_due_us[order][at] if len(open_ids) else np.zeros(0, dtype=np.int64)
    slots = np.zeros((len(open_ids), N_OPEN), dtype=np.int64)
    slots[:, 0] = 1
    slots[:, 1] = (open_reasons & RED_MASK) != 0
    for i in range(len(FACT_CODES)):
        slots[:, 2 + i] = (open_reasons >> i) & 1
    open_counts = np.zeros((n, N_OPEN), dtype=np.int64)
    for level in range(3):
        open_counts += _roll(slots, place_areas[open_place, level], n)
    open_counts[0] += slots.sum(axis=0)

    records = np.zeros(int(cols.ids.max()) + 1 if len(cols.ids) else 0, dtype=RECORD_DTYPE)
    records["day"][cols.ids] = cols.day
    for name, level in (("township", 0), ("village", 1), ("grid", 2)):
        records[name][cols.ids] = place_areas[cols.place, level]
    for name in ("category", "source", "flags", "reasons"):
        records[name][cols.ids] = getattr(cols, name)
    raw_records = memoryview(records.tobytes())
    bucket_bytes = keys.RECORD_BUCKET * RECORD.size
    used_buckets = np.flatnonzero(np.bincount(cols.ids // keys.RECORD_BUCKET)) if len(cols.ids) else []

    deadlines: dict[int, dict[str, int]] = defaultdict(dict)
    warns: dict[int, dict[str, int]] = defaultdict(dict)
    for case_id, grid, due_us, reasons in zip(open_ids.tolist(), place_areas[open_place, 2].tolist(),
                                              open_due.tolist(), open_reasons.tolist(), strict=True):
        deadlines[grid][str(case_id)] = due_us
        if reasons & WARN_BIT:
            warns[grid][str(case_id)] = due_us

    with client.pipeline(transaction=True) as pipe:
        for pattern in (keys.day_pattern(county), keys.breakdown_pattern(county), keys.due_pattern(county),
                        keys.warn_pattern(county), keys.record_pattern(county)):
            _delete_matching(pipe, client, county, pattern)
        pipe.delete(keys.open_counts(county), keys.grids(county), keys.area_index(county), keys.area_parent(county),
                    keys.snapshot(county))
        pipe.hset(keys.area_index(county), mapping={code: i for i, code in enumerate(codes)})
        pipe.set(keys.area_parent(county), parents.astype(PACKED).tobytes())
        grid_indexes = sorted({int(g) for g in place_areas[:, 2]}) if len(cols.places) else []
        if grid_indexes:
            pipe.sadd(keys.grids(county), *grid_indexes)
        for d in np.flatnonzero(figures[0, :, 0]).tolist():
            day = day_from_number(first_day + d)
            pipe.set(keys.day(county, day), figures[:, d, :].astype(PACKED).tobytes())
            pipe.set(keys.breakdown(county, day), breakdowns[:, d, :].astype(PACKED).tobytes())
        pipe.set(keys.open_counts(county), open_counts.astype(PACKED).tobytes())
        for grid, mapping in deadlines.items():
            pipe.zadd(keys.due(county, grid), mapping)  # type: ignore[arg-type]
        for grid, mapping in warns.items():
            pipe.zadd(keys.warn(county, grid), mapping)  # type: ignore[arg-type]
        for bucket in used_buckets:
            start = int(bucket) * bucket_bytes
            pipe.set(keys.record(county, int(bucket) * keys.RECORD_BUCKET), raw_records[start : start + bucket_bytes])
        now = repr(time.time())
        pipe.hset(keys.meta(county), mapping={"rebuilt_at": now, "changed_at": now, "areas_epoch": now})
        if fence is not None:
            pipe.srem(keys.rebuild_fence(county), fence)
        # EVAL as a raw command: a cluster pipeline has no ``eval`` method, yet sends EVAL in its MULTI.
        pipe.execute_command("EVAL", _REBUILT_VERSION, 1, keys.meta(county), int(time.time() * 1000))
        new_version = int(pipe.execute()[-1])
    days = int(np.count_nonzero(figures[0, :, 0])) if n_days else 0
    return RebuildReport(len(cols.ids), len(open_ids), days, time.perf_counter() - started, new_version)


def rebuild(client: redis.Redis, county: str, items: Iterable[tuple[int, Contribution]]) -> RebuildReport:
    """Replace every aggregate of ``county`` with the sum of ``items``."""
    return rebuild_columns(client, county, columns_from_contributions(items))
