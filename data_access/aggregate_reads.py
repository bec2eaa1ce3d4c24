"""Reading the Redis aggregates: O(areas) per read, whatever the number of cases.

``read_state`` is what the wall reads; the others serve reconciliation, area figures and the
shared snapshot. The layout is in ``aggregate_records``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import redis

from dashboard.domain.contributions import BREAKDOWNS, FIGURES, OpenEntry, reasons_from_mask
from data_access import redis_keys as keys
from data_access.redis_connection import scan_county
from data_access.aggregate_records import N_BREAKDOWNS, N_FIGURES, N_OPEN, PACKED, RECORD, Record, record_slot

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
"""Per grid with any: overdue (due < now), overdue long (due ≤ now − 7 d), due soon (now ≤ due ≤ now + 24 h).

The grids' deadline keys are built in the script from ARGV prefixes: they carry the county's hash
tag like ``KEYS[1]``, so on a cluster they are in its slot."""


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
    for with_codes in (known is None, True):
        with client.pipeline(transaction=True) as pipe:
            pipe.hmget(keys.meta(county), ["version", "areas_epoch"])
            pipe.hlen(index_key)
            pipe.hgetall(index_key) if with_codes else pipe.exists(index_key)  # a placeholder with a key: a cluster
            # pipeline refuses keyless commands such as ECHO
            pipe.get(keys.area_parent(county))
            for day in day_keys:
                pipe.get(keys.day(county, day))
            pipe.get(keys.open_counts(county))
            # EVAL, not a registered script: a cluster pipeline cannot load a script inside its MULTI
            # (nor has it an ``eval`` method), and on one server it spares the SCRIPT EXISTS round trip
            # a pipeline makes per script.
            pipe.execute_command("EVAL", _CLOCK, 1, keys.grids(county), keys.due(county, ""), keys.warn(county, ""),
                                 now_us, long_us, soon_us)
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
        found |= {k.decode().rsplit(":", 1)[-1] for k in scan_county(client, keys.meta(county), pattern)}
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
            key, offset = record_slot(county, case_id)
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


def version(client: redis.Redis, county: str) -> int:
    """The aggregate version: bumped by every write, published on the change channel."""
    return int(client.hget(keys.meta(county), "version") or 0)


def is_built(client: redis.Redis, county: str) -> bool:
    """Whether a rebuild has ever filled this Redis (a restarted Redis comes back empty)."""
    return bool(client.hexists(keys.meta(county), "rebuilt_at"))
