"""Redis aggregates whose reads cost O(areas), whatever the number of cases; kept equal to SQL.

This module applies committed cases: each write applies the difference between a case's new and
recorded contribution inside one optimistic transaction (WATCH/MULTI), so an update applied
twice counts once; a bulk insert goes in one MULTI/EXEC. Nothing is applied while a rebuild is
under way (``aggregate_fence``). The layout is in ``aggregate_records``, reading in
``aggregate_reads``, the rebuild from SQL in ``aggregate_rebuild``; their public names are
importable from here too, so ``from data_access import aggregates`` reaches all of it.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import redis

from dashboard.domain.contributions import (
    CATEGORIES,
    FACT_CODES,
    SOURCES,
    Contribution,
    day_from_number,
    day_number,
)
from data_access import redis_keys as keys
from data_access.aggregate_fence import (
    FENCE_SECONDS,
    LEASE_SECONDS,
    FenceLease,
    RebuildUnderWay,
    lower_fence,
    raise_fence,
    renew_fence,
    watch_unfenced,
)
from data_access.aggregate_reads import (
    AreaArrays,
    area_indexes,
    is_built,
    read_all_days,
    read_area_days,
    read_built_version,
    read_built_version_and_snapshot,
    read_days,
    read_open,
    read_open_counts,
    read_shared_snapshot,
    read_state,
    store_snapshot,
    version,
)
from data_access.aggregate_rebuild import CaseColumns, RebuildReport, columns_from_contributions, rebuild, rebuild_columns
from data_access.aggregate_records import (
    CLOSED_BIT,
    N_BREAKDOWNS,
    N_FIGURES,
    N_OPEN,
    PACKED,
    RECORD,
    RECORD_DTYPE,
    RED_MASK,
    WARN_BIT,
    Record,
    record_slot,
)

__all__ = [
    "CLOSED_BIT", "FENCE_SECONDS", "LEASE_SECONDS", "FenceLease", "renew_fence", "PACKED", "RECORD", "RECORD_DTYPE", "RED_MASK", "WARN_BIT", "AreaArrays",
    "CaseColumns", "Changes", "NewCases", "RebuildReport", "RebuildUnderWay", "Record", "apply_case",
    "apply_new_cases", "apply_prepared", "area_indexes", "columns_from_contributions", "is_built", "lower_fence",
    "prepare_new_cases", "raise_fence", "read_all_days", "read_area_days", "read_built_version",
    "read_built_version_and_snapshot", "read_days", "read_open", "read_open_counts", "read_shared_snapshot",
    "read_state", "rebuild", "rebuild_columns", "store_snapshot", "version",
]

_ASSIGN = """
local out, parent = {}, -1
if redis.call('HLEN', KEYS[1]) == 0 then
  local now = redis.call('TIME')
  redis.call('HSET', KEYS[4], 'areas_epoch', now[1] .. '.' .. string.format('%06d', now[2]))
end
for i = 1, #ARGV do
  local idx = redis.call('HGET', KEYS[1], ARGV[i])
  if not idx then
    idx = redis.call('HLEN', KEYS[1])
    redis.call('HSET', KEYS[1], ARGV[i], idx)
    redis.call('BITFIELD', KEYS[2], 'SET', 'i32', '#' .. idx, parent)
    if i == #ARGV then redis.call('SADD', KEYS[3], idx) end
  end
  out[i] = tonumber(idx)
  parent = out[i]
end
return out
"""
"""Index of each code (county, township, village, grid), assigned on first sight, atomically; a new
index hash gets a new ``areas_epoch`` in meta, so readers know their cached code list is void."""


def _record(contrib: Contribution, indexes: Sequence[int]) -> Record:
    entry = contrib.open
    return Record(day_number(contrib.day), indexes[1], indexes[2], indexes[3], CATEGORIES.index(contrib.category),
                  SOURCES.index(contrib.source), contrib.flags, entry.mask if entry else 0,
                  bool(entry and entry.warn_early))


def _indexes(client: redis.Redis, county: str, areas: Sequence[str]) -> list[int]:
    script = client.register_script(_ASSIGN)
    found = script(keys=[keys.area_index(county), keys.area_parent(county), keys.grids(county), keys.meta(county)],
                   args=list(areas))
    return [int(i) for i in found]


Changes = defaultdict[str, defaultdict[int, int]]
"""Packed-array key → slot → amount: every counter change of one write, merged."""


def _changes() -> Changes:
    return defaultdict(lambda: defaultdict(int))


def _count(changes: Changes, county: str, county_index: int, record: Record, sign: int) -> None:
    """Add ``sign`` × what ``record`` counts to ``changes``."""
    areas = (county_index, record.township, record.village, record.grid)
    day = day_from_number(record.day)
    figures = changes[keys.day(county, day)]
    for bit in range(N_FIGURES):
        if record.flags >> bit & 1:
            for area in areas:
                figures[area * N_FIGURES + bit] += sign
    breakdown = changes[keys.breakdown(county, day)]
    for area in areas[:2]:
        breakdown[area * N_BREAKDOWNS + record.category] += sign
        breakdown[area * N_BREAKDOWNS + len(CATEGORIES) + record.source] += sign
    if record.is_open:
        _count_open(changes, county, county_index, record, sign)


def _count_new(changes: Changes, county: str, county_index: int, table: npt.NDArray[np.void]) -> None:
    """``_count`` of +1 for many new records at once (``table``: packed records as ``RECORD_DTYPE``):
    what one import counts. Every (day, slot) pair is formed as an array and counted at once;
    open records also go through ``_count_open`` for their open slots. Equal to ``_count`` per
    record (tested).
    """
    if not len(table):
        return
    day, flags = table["day"].astype(np.int64), table["flags"].astype(np.int64)
    areas = np.column_stack([np.full(len(table), county_index, dtype=np.int64),
                             *(table[level].astype(np.int64) for level in ("township", "village", "grid"))])
    pairs: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = []
    for bit in range(N_FIGURES):
        hit = (flags >> bit & 1).astype(bool)
        pairs += [(day[hit], areas[hit, level] * N_FIGURES + bit) for level in range(4)]
    _add_pairs(changes, county, keys.day, pairs)
    category, source = table["category"].astype(np.int64), table["source"].astype(np.int64) + len(CATEGORIES)
    _add_pairs(changes, county, keys.breakdown,
               [(day, areas[:, level] * N_BREAKDOWNS + slot) for level in range(2) for slot in (category, source)])
    for row in np.flatnonzero(flags & CLOSED_BIT == 0).tolist():
        record = Record.unpack(table[row : row + 1].tobytes())
        assert record is not None
        _count_open(changes, county, county_index, record, 1)


_BINCOUNT_FACTOR = 4
"""``_add_pairs`` counts with one bin per possible pair while those are at most this many per pair."""


def _add_pairs(changes: Changes, county: str, key: Callable[[str, str], str],
               pairs: Sequence[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]) -> None:
    """Add 1 to ``changes[key(day)][slot]`` for every (day, slot) pair given as arrays."""
    days = np.concatenate([d for d, _ in pairs])
    slots = np.concatenate([s for _, s in pairs])
    if not len(slots):
        return
    width, first = int(slots.max()) + 1, int(days.min())
    combined = (days - first) * width + slots
    bins = (int(days.max()) - first + 1) * width
    if bins <= _BINCOUNT_FACTOR * len(combined):
        # A count per possible pair in one linear pass: a third of the time of sorting for ``np.unique``.
        all_counts = np.bincount(combined, minlength=bins)
        found = np.flatnonzero(all_counts)
        counts = all_counts[found]
    else:  # pairs spread over many years and places: sorting costs less memory than a bin for each
        found, counts = np.unique(combined, return_counts=True)
    numbers, slots = np.divmod(found, width)
    numbers += first
    starts = np.flatnonzero(np.diff(numbers, prepend=-1))
    ends = [*starts[1:].tolist(), len(found)]
    for start, end in zip(starts.tolist(), ends, strict=True):
        counted = dict(zip(slots[start:end].tolist(), counts[start:end].tolist(), strict=True))
        target = changes[key(county, day_from_number(int(numbers[start])))]
        if target:
            for slot, amount in counted.items():
                target[slot] += amount
        else:
            target.update(counted)


def _count_open(changes: Changes, county: str, county_index: int, record: Record, sign: int) -> None:
    """The open-case slots of ``_count``: open, red, and each fact reason, for every area of the record."""
    slots = [0, *([1] if record.reasons & RED_MASK else []),
             *(2 + i for i in range(len(FACT_CODES)) if record.reasons >> i & 1)]
    opened = changes[keys.open_counts(county)]
    for area in (county_index, record.township, record.village, record.grid):
        for slot in slots:
            opened[area * N_OPEN + slot] += sign


def _queue_counts(pipe: redis.client.Pipeline, changes: Changes) -> None:
    for key, slots in changes.items():
        args: list[object] = []
        for slot, amount in slots.items():
            if amount:
                args += ["INCRBY", "i32", f"#{slot}", amount]
        if args:
            pipe.execute_command("BITFIELD", key, *args)


def _queue_deadlines(pipe: redis.client.Pipeline, county: str, case_id: int, old: Record | None, new: Record,
                     due_us: int | None) -> None:
    if old is not None and old.is_open:
        pipe.zrem(keys.due(county, old.grid), case_id)
        pipe.zrem(keys.warn(county, old.grid), case_id)
    if new.is_open and due_us is not None:
        pipe.zadd(keys.due(county, new.grid), {str(case_id): due_us})
        if new.warn:
            pipe.zadd(keys.warn(county, new.grid), {str(case_id): due_us})


def _bump(pipe: redis.client.Pipeline, county: str) -> None:
    pipe.hset(keys.meta(county), "changed_at", repr(time.time()))
    pipe.hincrby(keys.meta(county), "version", 1)


def apply_case(client: redis.Redis, county: str, case_id: int, new: Contribution) -> int:
    """Apply one case's new contribution atomically; returns the aggregate version after it.
    Refused with :class:`RebuildUnderWay` while a rebuild is under way."""
    indexes = _indexes(client, county, new.areas)
    record = _record(new, indexes)
    due_us = new.open.due_us if new.open else None
    key, offset = record_slot(county, case_id)
    with client.pipeline(transaction=True) as pipe:  # explicit: a cluster's pipelines default to none
        while True:
            try:
                watch_unfenced(pipe, county, key)
                old = Record.unpack(pipe.getrange(key, offset, offset + RECORD.size - 1))
                old_due = pipe.zscore(keys.due(county, old.grid), case_id) if old and old.is_open else None
                if old == record and old_due == due_us:
                    pipe.unwatch()
                    return version(client, county)
                pipe.multi()
                changes = _changes()
                if old is not None:
                    _count(changes, county, indexes[0], old, -1)
                _count(changes, county, indexes[0], record, 1)
                _queue_counts(pipe, changes)
                _queue_deadlines(pipe, county, case_id, old, record, due_us)
                pipe.setrange(key, offset, record.pack())
                _bump(pipe, county)
                return int(pipe.execute()[-1])
            except redis.WatchError:
                continue


@dataclass(frozen=True)
class NewCases:
    """Cases of one bulk insert, turned into records, counter changes and deadlines ahead of time.

    An import prepares them while PostgreSQL is still busy with its COPY and sends them after the
    commit; preparing only assigns area indexes, which is harmless if the transaction fails.
    """

    contributions: dict[int, Contribution]
    packed: dict[int, bytes]
    changes: Changes
    due: dict[str, dict[str, int]]


def prepare_new_cases(client: redis.Redis, county: str, items: Iterable[tuple[int, Contribution]]) -> NewCases:
    """Records, counter changes and deadlines of many new cases, built column by column.

    The packed records are one numpy array cut into each case's bytes; the result is the same
    as packing each case's ``Record`` (tested).
    """
    latest = dict(sorted(dict(items).items()))
    contribs = list(latest.values())
    # One index lookup per distinct place, not per case: an import of 50 k cases touches ~200 places.
    places = {areas: _indexes(client, county, areas) for areas in {contrib.areas for contrib in contribs}}
    table = np.zeros(len(contribs), dtype=RECORD_DTYPE)
    indexes = np.array([places[contrib.areas] for contrib in contribs], dtype=np.int64).reshape(-1, 4)
    for level, name in enumerate(("township", "village", "grid"), start=1):
        table[name] = indexes[:, level]
    table["day"] = [day_number(contrib.day) for contrib in contribs]
    table["category"] = [_CATEGORY_INDEX[contrib.category] for contrib in contribs]
    table["source"] = [_SOURCE_INDEX[contrib.source] for contrib in contribs]
    table["flags"] = [contrib.flags for contrib in contribs]
    due: defaultdict[str, dict[str, int]] = defaultdict(dict)
    for n, (case_id, contrib) in enumerate(latest.items()):
        entry = contrib.open
        if entry is None:
            continue
        table["reasons"][n] = entry.mask | (WARN_BIT if entry.warn_early else 0)
        if contrib.flags & CLOSED_BIT:
            continue
        grid = int(indexes[n, 3])
        due[keys.due(county, grid)][str(case_id)] = entry.due_us
        if entry.warn_early:
            due[keys.warn(county, grid)][str(case_id)] = entry.due_us
    raw, size = table.tobytes(), RECORD.size
    packed = {case_id: raw[n * size : (n + 1) * size] for n, case_id in enumerate(latest)}
    changes = _changes()
    for county_index in np.unique(indexes[:, 0]).tolist():
        _count_new(changes, county, county_index, table[indexes[:, 0] == county_index])
    return NewCases(latest, packed, changes, dict(due))


_CATEGORY_INDEX = {category: n for n, category in enumerate(CATEGORIES)}
_SOURCE_INDEX = {source: n for n, source in enumerate(SOURCES)}


def apply_prepared(client: redis.Redis, county: str, new: NewCases) -> int:
    """Send prepared cases in one MULTI/EXEC; returns the aggregate version after it.

    Freshly committed cases have no record, so no WATCH is needed; a case that somehow has one
    is applied through ``apply_case`` instead, and the rest prepared again without it, keeping
    the whole idempotent.
    """
    if not new.packed:
        return version(client, county)
    runs = _runs(county, list(new.packed))
    with client.pipeline(transaction=False) as pipe:
        for key, offset, run in runs:
            pipe.getrange(key, offset, offset + len(run) * RECORD.size - 1)
        stored = pipe.execute()
    known = {case_id for (_, _, run), raw in zip(runs, stored, strict=True) for n, case_id in enumerate(run)
             if Record.unpack(raw[n * RECORD.size:(n + 1) * RECORD.size]) is not None}
    if known:
        for case_id in known:
            apply_case(client, county, case_id, new.contributions[case_id])
        rest = [(case_id, c) for case_id, c in new.contributions.items() if case_id not in known]
        return apply_prepared(client, county, prepare_new_cases(client, county, rest))
    counters = sorted(new.changes)
    with client.pipeline(transaction=True) as pipe:
        while True:
            try:
                watch_unfenced(pipe, county, *counters)
                # MGET as a raw command: a cluster pipeline blocks its ``mget`` method (the keys share
                # the county's slot, so the command itself is fine there).
                summed = _added(pipe.execute_command("MGET", *counters), [new.changes[key] for key in counters])
                pipe.multi()
                for key, offset, run in runs:
                    pipe.setrange(key, offset, b"".join(map(new.packed.__getitem__, run)))
                for key, members in new.due.items():
                    pipe.zadd(key, members)  # type: ignore[arg-type]
                for key, value in zip(counters, summed, strict=True):
                    pipe.set(key, value)
                _bump(pipe, county)
                return int(pipe.execute()[-1])
            except redis.WatchError:
                break
    # Counters moved under us: another write, or a rebuild that may now hold these very cases
    # (under new area indexes). Look at the records again and prepare anew.
    return apply_prepared(client, county, prepare_new_cases(client, county, list(new.contributions.items())))


def _added(current: Sequence[bytes | None], changes: Sequence[dict[int, int]]) -> list[bytes]:
    """Packed counter strings with ``changes`` added, for a bulk write.

    Each key is read once (under WATCH) and written back whole, so a bulk write costs two round
    trips whatever the number of counters it changes.
    """
    out: list[bytes] = []
    for raw, slots in zip(current, changes, strict=True):
        values = np.frombuffer(raw or b"", dtype=PACKED).astype(np.int64)
        where = np.fromiter(slots.keys(), dtype=np.int64, count=len(slots))
        amounts = np.fromiter(slots.values(), dtype=np.int64, count=len(slots))
        if len(where) and int(where.max()) >= len(values):
            values = np.concatenate([values, np.zeros(int(where.max()) + 1 - len(values), dtype=np.int64)])
        np.add.at(values, where, amounts)
        out.append(values.astype(PACKED).tobytes())
    return out


def apply_new_cases(client: redis.Redis, county: str, items: Iterable[tuple[int, Contribution]]) -> int:
    """Bulk-apply cases just inserted (bulk import), in one MULTI/EXEC."""
    return apply_prepared(client, county, prepare_new_cases(client, county, items))


def _runs(county: str, case_ids: Sequence[int]) -> list[tuple[str, int, list[int]]]:
    """Sorted case ids cut into runs of consecutive ids within one record string: (key, byte offset, ids).

    An import's ids come from one sequence reservation, so its records go in a few long
    SETRANGEs.
    """
    runs: list[tuple[str, int, list[int]]] = []
    for case_id in case_ids:
        key, offset = record_slot(county, case_id)
        if runs and runs[-1][0] == key and runs[-1][2][-1] == case_id - 1:
            runs[-1][2].append(case_id)
        else:
            runs.append((key, offset, [case_id]))
    return runs
