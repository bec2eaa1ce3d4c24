"""Redis aggregates per area × day × figure, kept equal to SQL by construction.

Each write applies the difference between a case's new and last contribution inside one
optimistic transaction (WATCH/MULTI), so an update applied twice counts once. ``rebuild``
recomputes everything from the database, which stays the truth.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import redis

from dashboard.contributions import Contribution, OpenEntry, delta
from data_access import redis_keys as keys


def apply_case(client: redis.Redis, county: str, case_id: int, new: Contribution) -> int:
    """Apply one case's new contribution atomically; returns the aggregate version after it."""
    contrib_key = keys.contribution(county, case_id)
    with client.pipeline() as pipe:
        while True:
            try:
                pipe.watch(contrib_key)
                raw = pipe.hget(contrib_key, str(case_id))
                old = Contribution.from_json(raw) if raw else None
                if old == new:
                    pipe.unwatch()
                    return version(client, county)
                pipe.multi()
                for day, counter in delta(old, new).items():
                    day_key = keys.day(county, day)
                    for field, amount in counter.items():
                        pipe.hincrby(day_key, field, amount)
                if new.open is not None:
                    pipe.hset(keys.open_cases(county), str(case_id), new.open.to_json())
                else:
                    pipe.hdel(keys.open_cases(county), str(case_id))
                pipe.hset(contrib_key, str(case_id), new.to_json())
                pipe.hset(keys.meta(county), "changed_at", repr(time.time()))
                pipe.hincrby(keys.meta(county), "version", 1)
                return int(pipe.execute()[-1])
            except redis.WatchError:
                continue


def apply_new_cases(client: redis.Redis, county: str, items: Iterable[tuple[int, Contribution]]) -> int:
    """Bulk-apply cases just inserted (bulk import), in one MULTI/EXEC.

    Freshly committed cases have no stored contribution, so no WATCH is needed; a case that
    somehow has one is applied through ``apply_case`` instead, keeping it idempotent.
    """
    items = list(items)
    if not items:
        return version(client, county)
    with client.pipeline(transaction=False) as pipe:
        for case_id, _ in items:
            pipe.hexists(keys.contribution(county, case_id), str(case_id))
        known = pipe.execute()
    fresh = [item for item, seen in zip(items, known, strict=True) if not seen]
    for case_id, contrib in (item for item, seen in zip(items, known, strict=True) if seen):
        apply_case(client, county, case_id, contrib)
    days: dict[str, Counter[str]] = defaultdict(Counter)
    with client.pipeline(transaction=True) as pipe:
        for case_id, contrib in fresh:
            days[contrib.day].update(contrib.counters)
            if contrib.open is not None:
                pipe.hset(keys.open_cases(county), str(case_id), contrib.open.to_json())
            pipe.hset(keys.contribution(county, case_id), str(case_id), contrib.to_json())
        for day, counter in days.items():
            for field, amount in counter.items():
                pipe.hincrby(keys.day(county, day), field, amount)
        pipe.hset(keys.meta(county), "changed_at", repr(time.time()))
        pipe.hincrby(keys.meta(county), "version", 1)
        return int(pipe.execute()[-1])


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


def rebuild(client: redis.Redis, county: str, items: Iterable[tuple[int, Contribution]]) -> RebuildReport:
    """Replace every aggregate of ``county`` with the sum of ``items``, in one MULTI/EXEC."""
    started = time.perf_counter()
    days: dict[str, Counter[str]] = defaultdict(Counter)
    open_entries: dict[str, bytes] = {}
    buckets: dict[str, dict[str, bytes]] = defaultdict(dict)
    count = 0
    for case_id, contrib in items:
        count += 1
        days[contrib.day].update(contrib.counters)
        if contrib.open is not None:
            open_entries[str(case_id)] = contrib.open.to_json()
        buckets[keys.contribution(county, case_id)][str(case_id)] = contrib.to_json()
    with client.pipeline(transaction=True) as pipe:
        _delete_matching(pipe, client, keys.day_pattern(county))
        _delete_matching(pipe, client, keys.contribution_pattern(county))
        pipe.delete(keys.open_cases(county))
        for day, counter in days.items():
            pipe.hset(keys.day(county, day), mapping=dict(counter))
        if open_entries:
            pipe.hset(keys.open_cases(county), mapping=open_entries)
        for key, mapping in buckets.items():
            pipe.hset(key, mapping=mapping)
        now = repr(time.time())
        pipe.hset(keys.meta(county), mapping={"rebuilt_at": now, "changed_at": now})
        pipe.hincrby(keys.meta(county), "version", 1)
        new_version = int(pipe.execute()[-1])
    return RebuildReport(count, len(open_entries), len(days), time.perf_counter() - started, new_version)


def read_days(client: redis.Redis, county: str, day_keys: Iterable[str]) -> dict[str, dict[str, int]]:
    """Counters of each requested day (missing days come back empty)."""
    day_keys = list(day_keys)
    with client.pipeline(transaction=False) as pipe:
        for day in day_keys:
            pipe.hgetall(keys.day(county, day))
        raw_days = pipe.execute()
    return {
        day: {field.decode(): int(value) for field, value in raw.items()}
        for day, raw in zip(day_keys, raw_days, strict=True)
    }


def read_area_days(
    client: redis.Redis, county: str, area: str, day_keys: Iterable[str], figures: list[str]
) -> dict[str, dict[str, int]]:
    """Only ``area``'s counters over many days: a year costs 365 small HMGETs, not 365 whole days."""
    day_keys = list(day_keys)
    with client.pipeline(transaction=False) as pipe:
        for day in day_keys:
            pipe.hmget(keys.day(county, day), [f"{area}:{f}" for f in figures])
        rows = pipe.execute()
    return {
        day: {f"{area}:{f}": int(v) for f, v in zip(figures, values, strict=True) if v is not None}
        for day, values in zip(day_keys, rows, strict=True)
    }


def read_all_days(client: redis.Redis, county: str) -> dict[str, dict[str, int]]:
    """Every day that holds counters (for reconcile)."""
    prefix = keys.day(county, "")
    day_keys = sorted(k.decode().removeprefix(prefix) for k in client.scan_iter(match=keys.day_pattern(county)))
    return read_days(client, county, day_keys)


def read_open(client: redis.Redis, county: str) -> dict[int, OpenEntry]:
    raw = client.hgetall(keys.open_cases(county))
    return {int(case_id): OpenEntry.from_json(value) for case_id, value in raw.items()}


def read_meta(client: redis.Redis, county: str) -> dict[str, float]:
    return {k.decode(): float(v) for k, v in client.hgetall(keys.meta(county)).items()}


def version(client: redis.Redis, county: str) -> int:
    return int(client.hget(keys.meta(county), "version") or 0)


def is_built(client: redis.Redis, county: str) -> bool:
    """Whether a rebuild has ever filled this Redis (a restarted Redis comes back empty)."""
    return bool(client.hexists(keys.meta(county), "rebuilt_at"))
