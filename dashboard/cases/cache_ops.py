"""Rebuild the Redis aggregates from SQL, and check that they still equal SQL."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import redis
from sqlalchemy.orm import Session

from dashboard.domain.contributions import BREAKDOWN_LEVELS, OPEN_SLOTS, contribution
from dashboard.domain.figures import PeriodCounts
from dashboard.domain.rules import Rules
from data_access import aggregates, case_columns, cases, figure_queries
from data_access import redis_keys as keys
from data_access.aggregates import RebuildReport

if TYPE_CHECKING:
    from dashboard.runtime import Runtime

log = logging.getLogger(__name__)


REBUILD_STEPS = 2
"""A rebuild's steps as its ``progress`` counts them: read every case from SQL, write Redis."""


def rebuild(session: Session, client: redis.Redis, county: str, rules: Rules, *,
            progress: Callable[[int, int], None] | None = None,
            lease_seconds: float = aggregates.LEASE_SECONDS) -> RebuildReport:
    """Set-based: every case as packed columns (one COPY on PostgreSQL), summed with numpy.

    Fenced (``aggregates.FenceLease``) from before the read to the write, so no case written
    meanwhile is wiped by it. The fence is a lease this process renews while it works: should it
    die, writers get through again within ``lease_seconds``. ``progress`` is told (steps done,
    ``REBUILD_STEPS``): 0 before the read, 1 after it, 2 once Redis holds the new aggregates."""
    def step(done: int) -> None:
        if progress is not None:
            progress(done, REBUILD_STEPS)

    lease = aggregates.FenceLease(client, county, seconds=lease_seconds)
    try:
        step(0)
        columns = case_columns.case_columns(session, county, rules)
        step(1)
        report = aggregates.rebuild_columns(client, county, columns, fence=lease.token)
    except BaseException:
        with suppress(redis.RedisError):  # a fence left up lapses by itself
            lease.end(lower=True)
        raise
    lease.end()
    step(2)
    return report


@dataclass(frozen=True)
class Difference:
    key: str
    sql: object
    redis: object

    def __str__(self) -> str:
        return f"{self.key}: SQL {self.sql!r} ≠ Redis {self.redis!r}"


def reconcile(session: Session, client: redis.Redis, county: str, rules: Rules) -> list[Difference]:
    """Every place where Redis disagrees with a plain SQL query; empty means exact."""
    cached = aggregates.read_all_days(client, county)
    expected: dict[tuple[str, str], int] = {}
    for level in figure_queries.AREA_COLUMNS:
        for (day, area), counts in figure_queries.daily_counts_by_area(session, county_code=county, level=level).items():
            for f in fields(PeriodCounts):
                expected[(day, f"{area}:{f.name}")] = getattr(counts, f.name)
    for level in BREAKDOWN_LEVELS:
        for field in ("category", "source"):
            for (day, area, value), n in figure_queries.breakdown_by_day(
                session, county_code=county, level=level, field=field
            ).items():
                expected[(day, f"{area}:{field}.{value}")] = n
    found = {(day, name): value for day, counters in cached.items() for name, value in counters.items()}
    diffs = [
        Difference(f"day {day} {name}", expected.get((day, name), 0), found.get((day, name), 0))
        for day, name in sorted(expected.keys() | found.keys())
        if expected.get((day, name), 0) != found.get((day, name), 0)
    ]
    open_cached = aggregates.read_open(client, county)
    open_expected: dict[str, list[int]] = defaultdict(lambda: [0] * len(OPEN_SLOTS))
    for case in cases.open_cases(session, county):
        entry = contribution(case, rules).open
        assert entry is not None
        for area in entry.areas:
            counts = open_expected[area]
            counts[0] += 1
            counts[1] += entry.red
            for i, slot in enumerate(OPEN_SLOTS[2:], start=2):
                counts[i] += any(code == slot for _, code in entry.reasons)
        got = open_cached.pop(case.id, None)
        if got != entry:
            diffs.append(Difference(f"open case {case.id}", entry, got))
    diffs.extend(Difference(f"open case {case_id}", None, "cached as open") for case_id in open_cached)
    open_found = aggregates.read_open_counts(client, county)
    for area in sorted(open_expected.keys() | open_found.keys()):
        want, got = tuple(open_expected.get(area, ())), open_found.get(area, ())
        if want != got:
            diffs.append(Difference(f"open counters {area} {OPEN_SLOTS}", want, got))
    return diffs


def ensure_aggregates(rt: Runtime, county: str) -> None:
    """Rebuild once if this Redis has never been filled (first start, or Redis restarted)."""
    if aggregates.is_built(rt.redis, county):
        return
    lock = rt.redis.lock(keys.rebuild_lock(county), timeout=600, blocking_timeout=600)
    with lock:
        if aggregates.is_built(rt.redis, county):
            return
        with rt.sessions() as session:
            report = rebuild(session, rt.redis_admin, county, rt.rules)
        log.info("rebuilt aggregates: %s cases in %.2f s", report.cases, report.seconds)
