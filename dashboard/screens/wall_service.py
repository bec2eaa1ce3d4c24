"""Serve the wall's snapshot from Redis, rebuilding the aggregates from SQL when Redis lost them."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from shapely import from_geojson

from dashboard.cases.cache_ops import ensure_aggregates
from dashboard.runtime import Runtime
from dashboard.screens.caches import WALL_SNAPSHOT, GenerationStore
from dashboard.screens.area_figures import PERIOD_FIELDS, period_counts
from dashboard.domain.periods import Period, day_key, local_date
from dashboard.screens.wall_snapshot import (
    WINDOW_DAYS,
    WallSnapshot,
    build_snapshot,
    deadline_bounds,
    decode,
    encode,
    window_day_keys,
)
from data_access import aggregates, areas

log = logging.getLogger(__name__)

SHARED_TTL_SECONDS = 120
"""A shared snapshot is for one minute; it only needs to outlive that minute."""

SnapshotKey = tuple[str, int, int, Period]
"""(county, version, minute, period): the ``wall-snapshot`` region's key."""


class SnapshotCache:
    """The ``wall-snapshot`` cache region (``dashboard.screens.caches``): one snapshot per
    (county, version, minute), computed once in O(areas) by whichever process asks first, shared
    with every process through Redis, and kept per process for its screens."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._store: GenerationStore[SnapshotKey, WallSnapshot] = GenerationStore(
            WALL_SNAPSHOT, scope=lambda key: key[0], generation=lambda key: key[1:3])

    def get(self, county: str, now: datetime | None = None, *, period_days: int = WINDOW_DAYS,
            period: Period | None = None) -> WallSnapshot:
        """The snapshot, its period figures over ``period`` (default: the last ``period_days`` days).

        A process with no copy of this minute's snapshot reads built, version and the shared
        snapshot in one round trip; one with a copy reads only the version, and the shared
        snapshot after it only if the version moved on.
        """
        now = now or self.rt.clock()
        return self.get_periods(county, now, [period or Period.trailing(local_date(now), period_days)])[0]

    def get_periods(self, county: str, now: datetime, periods: list[Period]) -> list[WallSnapshot]:
        """``get`` for several periods of one county at one version: the version is read once
        (what a region's roll-up asks of each county: its period, the previous one, last year's)."""
        minute = int(now.timestamp() // 60)
        fetched = not self._store.any(lambda k: k[0] == county and k[2] == minute)
        shared: bytes | None = None
        if fetched:
            built, version, shared = aggregates.read_built_version_and_snapshot(self.rt.redis, county)
        else:
            built, version = aggregates.read_built_version(self.rt.redis, county)
        if not built:
            ensure_aggregates(self.rt, county)
            built, version, shared = aggregates.read_built_version_and_snapshot(self.rt.redis, county)
            fetched = True
        window = Period.trailing(local_date(now), WINDOW_DAYS)
        out = []
        for period in periods:
            key = (county, version, minute, period)
            found = self._store.get(key)
            if found is not None:
                out.append(found)
                continue
            snapshot = self._store.peek((county, version, minute, window))
            if snapshot is None:
                if not fetched:
                    shared = aggregates.read_shared_snapshot(self.rt.redis, county)
                    fetched = True
                snapshot = decode(shared, version=version, minute=minute) if shared else None
                if snapshot is None:
                    snapshot = self.compute(county, now)
                    aggregates.store_snapshot(self.rt.redis, county, encode(snapshot, minute),
                                              ttl_seconds=SHARED_TTL_SECONDS)
                self._store.put((county, version, minute, window), snapshot)
            if period != window:
                counters = aggregates.read_area_days(self.rt.redis, county, county, [day_key(d) for d in period.days()],
                                                     PERIOD_FIELDS)
                figures = replace(snapshot.figures, period=period_counts(counters, county, period),
                                  period_days=len(period.days()))
                snapshot = replace(snapshot, figures=figures)
            self._store.put(key, snapshot)
            out.append(snapshot)
        return out

    def compute(self, county: str, now: datetime) -> WallSnapshot:
        """The snapshot from the aggregates themselves (no shared copy): O(areas)."""
        now_us, long_us, soon_us = deadline_bounds(now, self.rt.rules)
        state = aggregates.read_state(self.rt.redis, county, window_day_keys(now), now_us=now_us, long_us=long_us,
                                      soon_us=soon_us)
        return build_snapshot(county=county, now=now, state=state, rules=self.rt.rules)


def county_view(rt: Runtime, code: str | None) -> tuple[str, str, list[list[float]]]:
    """(code, name, [[south, west], [north, east]]) of the county a screen shows."""
    with rt.sessions() as session:
        county = areas.get_county(session, code or rt.settings.county_code)
        if county is None:
            raise LookupError(f"unknown county {code!r}")
        west, south, east, north = from_geojson(county.outline).bounds
        return county.code, county.name, [[south, west], [north, east]]
