"""Redis aggregates whose reads cost O(areas), whatever the number of cases; kept equal to SQL.

Layout (keys in ``redis_keys``): every area gets a small integer index, and counters live in
packed big-endian int32 strings addressed by that index, updated with ``BITFIELD INCRBY``:

- per local day, the 8 period figures of every area, and the category/source breakdowns;
- the open-case counters of every area (open, red, each fact reason);
- per grid, sorted sets of its open cases' deadlines, so overdue, overdue 7+ days and due within
  24 h at any ``now`` are three ``ZCOUNT``s, rolled up to village, township and county;
- per case, a 12-byte record of the contribution last applied (day, areas, category, source,
  figure bits, fact reasons). Each write applies the difference between a case's new and
  recorded contribution inside one optimistic transaction (WATCH/MULTI), so an update applied
  twice counts once. ``rebuild`` recomputes everything from the database, which stays the truth.
"""

from __future__ import annotations

import struct
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import redis

from dashboard.domain.contributions import (
    BREAKDOWNS,
    CATEGORIES,
    FACT_CODES,
    FIGURES,
    OPEN_SLOTS,
    SOURCES,
    Contribution,
    OpenEntry,
    day_from_number,
    day_number,
    reasons_from_mask,
)
from dashboard.domain.vocabulary import AlertLevel
from data_access import redis_keys as keys

N_FIGURES, N_BREAKDOWNS, N_OPEN = len(FIGURES), len(BREAKDOWNS), len(OPEN_SLOTS)
CLOSED_BIT = 1 << FIGURES.index("closed")
RED_MASK = sum(1 << i for i, (level, _) in enumerate(FACT_CODES) if level is AlertLevel.red)
WARN_BIT = 0x80
RECORD = struct.Struct(">HHHHBBBB")
"""day number, township, village, grid index, category, source, figure bits, reason bits (bit 7: warns early)."""
RECORD_DTYPE = np.dtype([("day", ">u2"), ("township", ">u2"), ("village", ">u2"), ("grid", ">u2"),
                         ("category", "u1"), ("source", "u1"), ("flags", "u1"), ("reasons", "u1")])
PACKED = np.dtype(">i4")
MAX_AREAS = 0xFFFF

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

_CLOCK = """
local out = {}
for _, g in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local d = ARGV[1] .. g
  local over = redis.call('ZCOUNT', d, '-inf', '(' .. ARGV[3])
  local long = redis.call('ZCOUNT', d, '-inf', ARGV[4])
  local soon = redis.call('ZCOUNT', ARGV[2] .. g, ARGV[3], ARGV[5])
  if over + soon > 0 then
    out[#out + 1] = tonumber(g); out[#out + 1] = over; out[#out + 1] = long; out[#out + 1] = soon
  end
end
return out
"""
"""Per grid with any: overdue (due < now), overdue long (due ≤ now − 7 d), due soon (now ≤ due ≤ now + 24 h)."""


@dataclass(frozen=True, slots=True)
class Record:
    """The packed form of a contribution, with areas as indexes."""

    day: int
    township: int
    village: int
    grid: int
    category: int
    source: int
    flags: int
    reasons: int
    warn: bool

    @property
    def is_open(self) -> bool:
        return not self.flags & CLOSED_BIT

    def pack(self) -> bytes:
        return RECORD.pack(self.day, self.township, self.village, self.grid, self.category, self.source, self.flags,
                           self.reasons | (WARN_BIT if self.warn else 0))

    @classmethod
    def unpack(cls, raw: bytes) -> Record | None:
        if len(raw) < RECORD.size or not any(raw):
            return None
        day, township, village, grid, category, source, flags, reasons = RECORD.unpack(raw[: RECORD.size])
        return cls(day, township, village, grid, category, source, flags, reasons & ~WARN_BIT, bool(reasons & WARN_BIT))


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
    what one import counts, summed by numpy.

    Per record ``_count`` walks 8 figure bits × 4 areas and 4 breakdown slots in Python, half a
    second for 50 k imported cases; here every (day, slot) pair is formed as an array and counted
    with ``np.unique``. Open records, a small share of an import, still go through ``_count``,
    but only for their open slots.
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


def _record_slot(county: str, case_id: int) -> tuple[str, int]:
    return keys.record(county, case_id), (case_id % keys.RECORD_BUCKET) * RECORD.size


def _bump(pipe: redis.client.Pipeline, county: str) -> None:
    pipe.hset(keys.meta(county), "changed_at", repr(time.time()))
    pipe.hincrby(keys.meta(county), "version", 1)


class RebuildUnderWay(redis.RedisError):
    """A rebuild is between its SQL read and its write (:func:`raise_fence`): a case applied now
    could be wiped by that write. Writers treat it as Redis being away: they owe the case, or
    retry, and apply it once the rebuild is done."""


def _watch_unfenced(pipe: redis.client.Pipeline, county: str, *watched: str) -> None:
    """WATCH ``watched`` and the rebuild fence; refuses while the fence is up. Watching the fence
    too makes a rebuild that begins before the EXEC fail it, so the retry meets the fence."""
    fence = keys.rebuild_fence(county)
    pipe.watch(*watched, fence)
    if pipe.exists(fence):
        raise RebuildUnderWay("a rebuild of the aggregates is under way; the case is applied after it")


def apply_case(client: redis.Redis, county: str, case_id: int, new: Contribution) -> int:
    """Apply one case's new contribution atomically; returns the aggregate version after it.
    Refused with :class:`RebuildUnderWay` while a rebuild is under way."""
    indexes = _indexes(client, county, new.areas)
    record = _record(new, indexes)
    due_us = new.open.due_us if new.open else None
    key, offset = _record_slot(county, case_id)
    with client.pipeline() as pipe:
        while True:
            try:
                _watch_unfenced(pipe, county, key)
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

    An import prepares 50 k of them; one ``Record`` object and one ``pack`` per case were a third
    of a second, on the import's critical path. Here the packed records are one numpy array,
    cut into each case's bytes, and only open cases (a few in a hundred) become objects.
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
                _watch_unfenced(pipe, county, *counters)
                summed = _added(pipe.mget(counters), [new.changes[key] for key in counters])
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

    A year of imported cases changes some 200 k counters over about 700 keys: reading each key
    once (under WATCH) and writing it back whole costs two round trips, where one ``BITFIELD
    INCRBY`` per counter kept Redis busy for most of a second.
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

    An import's ids come from one sequence reservation, so 50 k records are a dozen SETRANGEs of
    up to 48 KB rather than 50 k commands of 12 bytes.
    """
    runs: list[tuple[str, int, list[int]]] = []
    for case_id in case_ids:
        key, offset = _record_slot(county, case_id)
        if runs and runs[-1][0] == key and runs[-1][2][-1] == case_id - 1:
            runs[-1][2].append(case_id)
        else:
            runs.append((key, offset, [case_id]))
    return runs


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


def _delete_matching(pipe: redis.client.Pipeline, client: redis.Redis, pattern: str) -> None:
    batch: list[bytes] = []
    for key in client.scan_iter(match=pattern, count=1000):
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
    (sorted segment sums: ``np.add.at`` is ~100× slower on large blocks)."""
    out = np.zeros((n, *values.shape[1:]), dtype=np.int64)
    if not len(rows):
        return out
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    out[ordered[starts]] = np.add.reduceat(values[order], starts, axis=0)
    return out


FENCE_SECONDS = 600
"""A fence outlives no rebuild: one whose process died stops holding writes back after this."""


def raise_fence(client: redis.Redis, county: str) -> str:
    """Mark a rebuild as under way, before it reads SQL; returns its token.

    A rebuild replaces every aggregate with what its SQL read saw, so a case committed after that
    read and applied before the rebuild's write would be wiped. The apply functions, which run
    after the writer's commit, therefore refuse while a fence is up (:class:`RebuildUnderWay`):
    either the commit came before the fence (and so before the read, which includes it), or the
    case waits for the rebuild to finish.
    """
    token = uuid.uuid4().hex
    with client.pipeline(transaction=True) as pipe:
        pipe.sadd(keys.rebuild_fence(county), token)
        pipe.expire(keys.rebuild_fence(county), FENCE_SECONDS)
        pipe.execute()
    return token


def lower_fence(client: redis.Redis, county: str, token: str) -> None:
    """For a rebuild that failed; a rebuild that succeeds lowers its fence in its own write."""
    client.srem(keys.rebuild_fence(county), token)


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
            _delete_matching(pipe, client, pattern)
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
        pipe.eval(_REBUILT_VERSION, 1, keys.meta(county), int(time.time() * 1000))
        new_version = int(pipe.execute()[-1])
    days = int(np.count_nonzero(figures[0, :, 0])) if n_days else 0
    return RebuildReport(len(cols.ids), len(open_ids), days, time.perf_counter() - started, new_version)


def rebuild(client: redis.Redis, county: str, items: Iterable[tuple[int, Contribution]]) -> RebuildReport:
    """Replace every aggregate of ``county`` with the sum of ``items``."""
    return rebuild_columns(client, county, columns_from_contributions(items))


def _packed(raw: bytes | None, n: int, slots: int) -> npt.NDArray[np.int64]:
    """A packed counter string as an (n, slots) array; bytes past its end count as zero."""
    values = np.frombuffer(raw or b"", dtype=PACKED)[: n * slots].astype(np.int64)
    if values.size < n * slots:
        values = np.concatenate([values, np.zeros(n * slots - values.size, dtype=np.int64)])
    return values.reshape(n, slots)


def _codes(raw: dict[bytes, bytes]) -> list[str]:
    codes = [""] * (max((int(i) for i in raw.values()), default=-1) + 1)
    for code, i in raw.items():
        codes[int(i)] = code.decode()
    return codes


@dataclass(frozen=True)
class AreaArrays:
    """Everything the wall needs, per area index: O(areas) to read and to compute from."""

    version: int
    codes: list[str]
    figures: npt.NDArray[np.int64]
    """(days, areas, figures): the requested days' counters."""
    open: npt.NDArray[np.int64]
    """(areas, ``OPEN_SLOTS``)."""
    clock: npt.NDArray[np.int64]
    """(areas, 3): overdue, overdue 7+ days, due within 24 h — at the ``now`` they were read for."""


_known_codes: dict[str, tuple[tuple[bytes | None, int], list[str]]] = {}
"""Per area-index key: (areas_epoch, number of areas) → codes by index. Indexes only grow until
the index hash is recreated (rebuild, or an emptied Redis), which sets a new epoch; so this tag
tells whether the list read last time still holds."""


def read_state(client: redis.Redis, county: str, day_keys: Sequence[str], *, now_us: int, long_us: int,
               soon_us: int) -> AreaArrays:
    """One consistent read (MULTI) of the window's day counters, the open counters and the
    deadline counts per grid at the given bounds, rolled up to every area."""
    index_key = keys.area_index(county)
    known = _known_codes.get(index_key)
    clock = client.register_script(_CLOCK)
    for with_codes in (known is None, True):
        with client.pipeline(transaction=True) as pipe:
            pipe.hmget(keys.meta(county), ["version", "areas_epoch"])
            pipe.hlen(index_key)
            pipe.hgetall(index_key) if with_codes else pipe.echo("")
            pipe.get(keys.area_parent(county))
            for day in day_keys:
                pipe.get(keys.day(county, day))
            pipe.get(keys.open_counts(county))
            clock(keys=[keys.grids(county)], args=[keys.due(county, ""), keys.warn(county, ""), now_us, long_us,
                                                   soon_us], client=pipe)
            raw = pipe.execute()
        (current, epoch), size = raw[0], int(raw[1])
        if with_codes:
            known = ((epoch, size), _codes(raw[2]))
            _known_codes[index_key] = known
        if known is not None and known[0] == (epoch, size):
            break
    assert known is not None
    codes = known[1]
    n = len(codes)
    parents = _packed(raw[3], n, 1)[:, 0]
    figures = np.stack([_packed(r, n, N_FIGURES) for r in raw[4 : 4 + len(day_keys)]]) if day_keys \
        else np.zeros((0, n, N_FIGURES), dtype=np.int64)
    grid_rows = np.array(raw[-1], dtype=np.int64).reshape(-1, 4)
    clock_counts = np.zeros((n, 3), dtype=np.int64)
    rows, values = grid_rows[:, 0], grid_rows[:, 1:]
    for _ in range(8):
        keep = (rows >= 0) & (rows < n)
        rows, values = rows[keep], values[keep]
        if not rows.size:
            break
        np.add.at(clock_counts, rows, values)
        rows = parents[rows]
    return AreaArrays(int(current or 0), codes, figures, _packed(raw[-2], n, N_OPEN), clock_counts)


def read_days(client: redis.Redis, county: str, day_keys: Iterable[str]) -> dict[str, dict[str, int]]:
    """Counters of each requested day as ``"{area}:{figure}"`` → count (zeros left out)."""
    day_keys = list(day_keys)
    with client.pipeline(transaction=True) as pipe:
        pipe.hgetall(keys.area_index(county))
        for day in day_keys:
            pipe.get(keys.day(county, day))
            pipe.get(keys.breakdown(county, day))
        raw = pipe.execute()
    codes = _codes(raw[0])
    out: dict[str, dict[str, int]] = {}
    for i, day in enumerate(day_keys):
        counters: dict[str, int] = {}
        for packed, names in ((raw[1 + 2 * i], FIGURES), (raw[2 + 2 * i], BREAKDOWNS)):
            values = _packed(packed, -(-len(packed or b"") // (PACKED.itemsize * len(names))), len(names))
            for area, slot in zip(*np.nonzero(values), strict=True):
                counters[f"{codes[area]}:{names[slot]}"] = int(values[area, slot])
        out[day] = counters
    return out


def read_area_days(
    client: redis.Redis, county: str, area: str, day_keys: Iterable[str], figures: list[str]
) -> dict[str, dict[str, int]]:
    """Only ``area``'s counters over many days: a year costs 365 small ``GETRANGE``s, not 365 whole days."""
    day_keys = list(day_keys)
    found = client.hget(keys.area_index(county), area)
    if found is None:
        return {day: {} for day in day_keys}
    i = int(found)
    with client.pipeline(transaction=False) as pipe:
        for day in day_keys:
            pipe.getrange(keys.day(county, day), i * N_FIGURES * 4, (i + 1) * N_FIGURES * 4 - 1)
            pipe.getrange(keys.breakdown(county, day), i * N_BREAKDOWNS * 4, (i + 1) * N_BREAKDOWNS * 4 - 1)
        raw = pipe.execute()
    out: dict[str, dict[str, int]] = {}
    for d, day in enumerate(day_keys):
        values = dict(zip(FIGURES, _packed(raw[2 * d], 1, N_FIGURES)[0].tolist(), strict=True))
        values.update(zip(BREAKDOWNS, _packed(raw[2 * d + 1], 1, N_BREAKDOWNS)[0].tolist(), strict=True))
        out[day] = {f"{area}:{f}": values[f] for f in figures if values.get(f)}
    return out


def read_all_days(client: redis.Redis, county: str) -> dict[str, dict[str, int]]:
    """Every day that holds counters (for reconcile)."""
    found: set[str] = set()
    for pattern in (keys.day_pattern(county), keys.breakdown_pattern(county)):
        found |= {k.decode().rsplit(":", 1)[-1] for k in client.scan_iter(match=pattern, count=1000)}
    return {day: counters for day, counters in read_days(client, county, sorted(found)).items() if counters}


def read_open_counts(client: redis.Redis, county: str) -> dict[str, tuple[int, ...]]:
    """Per area with any open case: its ``OPEN_SLOTS`` counters (for reconcile)."""
    with client.pipeline(transaction=True) as pipe:
        pipe.hgetall(keys.area_index(county))
        pipe.get(keys.open_counts(county))
        index, raw = pipe.execute()
    codes = _codes(index)
    values = _packed(raw, len(codes), N_OPEN)
    return {codes[i]: tuple(values[i].tolist()) for i in range(len(codes)) if values[i].any()}


def read_open(client: redis.Redis, county: str) -> dict[int, OpenEntry]:
    """Every open case from the deadline sets and records: O(open cases), for reconcile only."""
    with client.pipeline(transaction=True) as pipe:
        pipe.hgetall(keys.area_index(county))
        pipe.smembers(keys.grids(county))
        index, grids = pipe.execute()
    codes = _codes(index)
    grids = sorted(int(g) for g in grids)
    with client.pipeline(transaction=True) as pipe:
        for grid in grids:
            pipe.zrange(keys.due(county, grid), 0, -1, withscores=True)
            pipe.zrange(keys.warn(county, grid), 0, -1)
        raw = pipe.execute()
    due: dict[int, tuple[int, float, bool]] = {}
    for g, grid in enumerate(grids):
        warned = {int(m) for m in raw[2 * g + 1]}
        for member, score in raw[2 * g]:
            due[int(member)] = (grid, score, int(member) in warned)
    with client.pipeline(transaction=False) as pipe:
        for case_id in due:
            key, offset = _record_slot(county, case_id)
            pipe.getrange(key, offset, offset + RECORD.size - 1)
        records = [Record.unpack(r) for r in pipe.execute()]
    out: dict[int, OpenEntry] = {}
    for (case_id, (grid, score, warned)), record in zip(due.items(), records, strict=True):
        township, village, reasons = (record.township, record.village, record.reasons) if record else (0, 0, 0)
        out[case_id] = OpenEntry((county, codes[township], codes[village], codes[grid]), int(score),
                                 reasons_from_mask(reasons), warned)
    return out


def area_indexes(client: redis.Redis, county: str) -> dict[str, int]:
    """Area code → index in the packed arrays."""
    return {code.decode(): int(i) for code, i in client.hgetall(keys.area_index(county)).items()}


def read_built_version(client: redis.Redis, county: str) -> tuple[bool, int]:
    """(built, version) in one round trip: what a process checks before using its own copy."""
    with client.pipeline(transaction=False) as pipe:
        pipe.hexists(keys.meta(county), "rebuilt_at")
        pipe.hget(keys.meta(county), "version")
        built, current = pipe.execute()
    return bool(built), int(current or 0)


def read_built_version_and_snapshot(client: redis.Redis, county: str) -> tuple[bool, int, bytes | None]:
    """(built, version, the shared snapshot) in one round trip: what a process without a copy of
    this minute's snapshot needs. The snapshot may be of another version or minute: the caller checks."""
    with client.pipeline(transaction=False) as pipe:
        pipe.hmget(keys.meta(county), ["rebuilt_at", "version"])
        pipe.get(keys.snapshot(county))
        (rebuilt_at, current), shared = pipe.execute()
    return rebuilt_at is not None, int(current or 0), shared


def read_shared_snapshot(client: redis.Redis, county: str) -> bytes | None:
    """The snapshot another process stored, for a process whose copy of this minute is of an older version."""
    return client.get(keys.snapshot(county))


def store_snapshot(client: redis.Redis, county: str, raw: bytes, *, ttl_seconds: int) -> None:
    client.set(keys.snapshot(county), raw, ex=ttl_seconds)


def read_meta(client: redis.Redis, county: str) -> dict[str, float]:
    return {k.decode(): float(v) for k, v in client.hgetall(keys.meta(county)).items()}


def version(client: redis.Redis, county: str) -> int:
    return int(client.hget(keys.meta(county), "version") or 0)


def is_built(client: redis.Redis, county: str) -> bool:
    """Whether a rebuild has ever filled this Redis (a restarted Redis comes back empty)."""
    return bool(client.hexists(keys.meta(county), "rebuilt_at"))
