"""Every cache the screens use, named in one place with its key and lifetime.

Between the Redis aggregates and a screen there are two regions and no others:

1. ``wall-snapshot``: what the wall, the panels and the tablets read, per (county, version,
   minute[, period]). The first process to need it computes it in O(areas) from the aggregates
   and shares it through Redis (``redis_keys.snapshot``, 120 s); every process keeps its own
   copy for the screens it serves. A write bumps the version, the clock moves the minute, and
   either one retires every entry at once.
2. ``screen-state``: the live hub's state per screen kind (county, area, period, language), the
   short ring of deltas to it and its encoded stream events. It is recomputed when the county's
   version or the minute moved on, and only then: the side panels are not cached apart.

Two more regions hold things that do not come from the aggregates, declared here so one file
lists every cache: ``geometry`` (web GeoJSON per county and layer, until the county is imported
again) and ``static-assets`` (compressed scripts and style sheets, for the life of the process:
their URLs change with their content).

A region counts its hits and misses (``stats``), the way a cache manager with named regions
does, so an operator can see whether a cache earns its keep.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class Region:
    """What a cache holds: its name, the shape of its key and how long an entry lives."""

    name: str
    key: str
    lifetime: str
    between_aggregates_and_screens: bool


WALL_SNAPSHOT = Region(
    "wall-snapshot", key="(county, version, minute, period)",
    lifetime="until the county's version or the minute changes; the shared copy in Redis 120 s",
    between_aggregates_and_screens=True)
SCREEN_STATE = Region(
    "screen-state", key="(county, area, period key, language)",
    lifetime="until the county's version or the minute changes (checked on each change and 15 s tick)",
    between_aggregates_and_screens=True)
GEOMETRY = Region(
    "geometry", key="(county, layer, imported_at)", lifetime="until the county is imported again",
    between_aggregates_and_screens=False)
STATIC_ASSETS = Region(
    "static-assets", key="(path and query, content coding)",
    lifetime="the process: script and style URLs change with their content", between_aggregates_and_screens=False)

REGIONS: tuple[Region, ...] = (WALL_SNAPSHOT, SCREEN_STATE, GEOMETRY, STATIC_ASSETS)


class Counters:
    """Hits and misses of one region, summed over every store of that region in the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def count(self, *, hit: bool) -> None:
        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1


_COUNTERS: dict[str, Counters] = {region.name: Counters() for region in REGIONS}


def counters(region: Region) -> Counters:
    return _COUNTERS[region.name]


def stats() -> dict[str, dict[str, int]]:
    """Hits and misses per region since the process started."""
    return {name: {"hits": c.hits, "misses": c.misses} for name, c in _COUNTERS.items()}


class GenerationStore(Generic[K, V]):
    """A thread-safe store of one region that keeps one generation per scope.

    ``scope(key)`` and ``generation(key)`` name parts of a key (for the wall snapshot: the county,
    and its version and minute): storing an entry drops the entries of the same scope from other
    generations, so the store never holds more than the current generation of each scope.
    """

    def __init__(self, region: Region, *, scope: Callable[[K], Hashable],
                 generation: Callable[[K], Hashable]) -> None:
        self.region = region
        self._scope = scope
        self._generation = generation
        self._lock = threading.Lock()
        self._values: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._values.get(key)
        counters(self.region).count(hit=value is not None)
        return value

    def peek(self, key: K) -> V | None:
        """The entry without counting a hit or a miss (a lookup on the way to another key)."""
        with self._lock:
            return self._values.get(key)

    def any(self, match: Callable[[K], bool]) -> bool:
        with self._lock:
            return any(match(key) for key in self._values)

    def put(self, key: K, value: V) -> None:
        scope, generation = self._scope(key), self._generation(key)
        with self._lock:
            self._values = {k: v for k, v in self._values.items()
                            if self._scope(k) != scope or self._generation(k) == generation}
            self._values[key] = value
