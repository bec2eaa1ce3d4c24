"""Serve the wall's snapshot from Redis, rebuilding the aggregates from SQL when Redis lost them."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from shapely import from_geojson

from dashboard import cache_ops
from dashboard.runtime import Runtime
from dashboard.wall_snapshot import WallSnapshot, build_snapshot, window_day_keys
from data_access import aggregates, areas
from data_access import redis_keys as keys

log = logging.getLogger(__name__)


def ensure_aggregates(rt: Runtime, county: str) -> None:
    """Rebuild once if this Redis has never been filled (first start, or Redis restarted)."""
    if aggregates.is_built(rt.redis, county):
        return
    lock = rt.redis.lock(keys.rebuild_lock(county), timeout=600, blocking_timeout=600)
    with lock:
        if aggregates.is_built(rt.redis, county):
            return
        with rt.sessions() as session:
            report = cache_ops.rebuild(session, rt.redis, county, rt.rules)
        log.info("rebuilt aggregates: %s cases in %.2f s", report.cases, report.seconds)


class SnapshotCache:
    """One snapshot per (version, minute) per process: many screens share one computation."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._lock = threading.Lock()
        self._key: tuple[str, int, int] | None = None
        self._value: WallSnapshot | None = None

    def get(self, county: str, now: datetime | None = None) -> WallSnapshot:
        now = now or datetime.now(UTC)
        ensure_aggregates(self.rt, county)
        version = aggregates.version(self.rt.redis, county)
        key = (county, version, int(now.timestamp() // 60))
        with self._lock:
            if self._key == key and self._value is not None:
                return self._value
        days = aggregates.read_days(self.rt.redis, county, window_day_keys(now))
        open_entries = aggregates.read_open(self.rt.redis, county)
        snapshot = build_snapshot(county=county, version=version, now=now, days=days, open_entries=open_entries,
                                  rules=self.rt.rules)
        with self._lock:
            self._key, self._value = key, snapshot
        return snapshot


def county_view(rt: Runtime, code: str | None) -> tuple[str, str, list[list[float]]]:
    """(code, name, [[south, west], [north, east]]) of the county a screen shows."""
    with rt.sessions() as session:
        county = areas.get_county(session, code or rt.settings.county_code)
        if county is None:
            raise LookupError(f"unknown county {code!r}")
        west, south, east, north = from_geojson(county.outline).bounds
        return county.code, county.name, [[south, west], [north, east]]
