"""One Redis subscription per server process, fanned out to every open screen of that process.

The hub listens for "a new version" messages, recomputes each watched screen state once, keeps a
short ring of deltas, and wakes the streams. A clock tick recomputes too, because alert levels
and overdue counts change with time alone. A recomputation that fails (Redis or the database
away) leaves the last state in place and marks it stale since its last good refresh; every
message to a screen says so, so a screen that still hears pings does not claim to be live.

The states, their deltas and their encoded events are the ``screen-state`` cache region
(``dashboard.screens.caches``): one entry per screen kind, replaced by the refresh that changes it.

The region is bounded, because every entry costs a recomputation on every change and every tick:
at most ``max_states`` entries; one that no stream holds and no poll asked for within
``idle_seconds`` is evicted (at every refresh, and when a new one needs its place); a new screen
kind that finds the hub full of states in use is refused (:class:`HubFull`, a 503). Each
principal may hold at most ``streams_per_principal`` open streams (:class:`TooManyStreams`, a 429).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from dashboard.live.live_state import Delta, State, compose, screen_state, state_delta
from dashboard.domain.clock import Clock
from dashboard.domain.periods import LOCAL_TZ, Period, local_date
from dashboard.runtime import Runtime
from dashboard.screens.caches import SCREEN_STATE, counters
from dashboard.screens import rollup
from dashboard.screens.panel_service import PanelService
from dashboard.screens.region_wall import RegionWall
from dashboard.domain.screen_period import ScreenPeriod
from dashboard.screens.wall_service import SnapshotCache
from data_access import areas
from data_access import redis_changes

log = logging.getLogger(__name__)
RING = 64
"""Deltas kept per screen kind: enough to bridge a reconnect of a few seconds under load."""
MESSAGES_KEPT = 32
"""Encoded events kept per screen kind: the latest state's, from the few states screens are at."""
RETRY_SECONDS = 2.0
"""After a failed refresh, try again this soon rather than at the next tick: screens heal faster."""

MAX_STATES = 64
"""Screen states one process keeps by default (``Settings.live_max_states``)."""
IDLE_SECONDS = 300.0
"""A state no stream holds and nobody asked for within this long may be evicted (``Settings.live_idle_seconds``)."""
STREAMS_PER_PRINCIPAL = 8
"""Open streams one principal may hold in one process by default (``Settings.live_streams_per_principal``)."""


class HubFull(RuntimeError):
    """Every screen state the hub may keep is in use: a new one would grow it without bound."""


class TooManyStreams(RuntimeError):
    """The principal already holds as many open streams as it may."""


ScreenKey = tuple[str, str, str, str]
"""(county, area the screen follows, period key (``ScreenPeriod.key``), language): screens that
share it share one state. For a city or province screen the first two are the region's code; its
state is the combination of its counties' (``screens.region_wall``)."""


@dataclass
class Watched:
    """One screen kind's entry in the ``screen-state`` region."""

    latest: State
    fresh_at: datetime
    """When ``latest`` was last confirmed current: the last refresh that succeeded."""
    ring: deque[Delta] = field(default_factory=lambda: deque(maxlen=RING))
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    stale_since: datetime | None = None
    """``fresh_at`` as it was when refreshes began to fail; ``None`` while they succeed."""
    messages: dict[tuple[object, ...], bytes] = field(default_factory=dict)
    """Encoded stream events, shared by the streams of this screen kind (``live_api.stream_message``)."""
    asked_at: float = field(default_factory=time.monotonic)
    """When a request last asked for this state (monotonic seconds): idle ones are evicted."""
    streams: int = 0
    """Open streams on this state; a state with any is never evicted."""

    def encoded(self, memo: tuple[object, ...], encode: Callable[[], bytes]) -> bytes:
        """The event ``memo`` names, encoded once for every stream that asks. Entries of older
        states are never asked for again, so the few kept are dropped together once there are
        more than a handful."""
        message = self.messages.get(memo)
        if message is None:
            if len(self.messages) >= MESSAGES_KEPT:
                self.messages.clear()
            message = self.messages[memo] = encode()
        return message

    def wake(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    def stale_text(self) -> str | None:
        """What a screen's badge puts after "stale since": local wall-clock time, or ``None`` when fresh."""
        return None if self.stale_since is None else self.stale_since.astimezone(LOCAL_TZ).strftime("%H:%M:%S")


class LiveHub:
    def __init__(self, rt: Runtime, snapshots: SnapshotCache, *, build: str, tick_seconds: float = 15.0,
                 clock: Clock | None = None, max_states: int = MAX_STATES, idle_seconds: float = IDLE_SECONDS,
                 streams_per_principal: int = STREAMS_PER_PRINCIPAL) -> None:
        """``clock`` defaults to the runtime's."""
        self.rt = rt
        self.clock: Clock = clock or rt.clock
        self.max_states = max_states
        self.idle_seconds = idle_seconds
        self.streams_per_principal = streams_per_principal
        self._streams: dict[str, int] = {}
        """Open streams per principal."""
        self.snapshots = snapshots
        self.panels = PanelService(rt)
        self.regions = RegionWall(rt, snapshots, self.panels)
        self.build = build
        self.tick_seconds = tick_seconds
        self._watched: dict[ScreenKey, Watched] = {}
        self._lock = asyncio.Lock()
        self._dirty = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._county: str | None = None
        self._known: set[str] = set()
        self._computed: dict[ScreenKey, tuple[tuple[object, int], State]] = {}
        """Each screen kind's last state and the (version, minute) it was computed at."""

    def default_county(self) -> str:
        """The county screens show by default, remembered: they keep being served while the database is away."""
        if self._county is None:
            self._county = self.rt.county_code()
        return self._county

    def screen_county(self, county: str | None) -> str:
        """The county (or city or province) a screen asks for, if it exists here: an unknown code
        must neither start a rebuild nor take a slot in the hub."""
        if not county or county == self.default_county() or county in self._known:
            return county or self.default_county()
        if rollup.is_region(county):
            self.regions.layout(county)  # LookupError for a region holding no served county
            return county
        with self.rt.sessions() as session:
            found = areas.get_county(session, county)
            if found is None or found.code != county:
                raise LookupError(f"unknown county {county!r}")
        self._known.add(county)
        return county

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._listen(), name="live-listen"),
                       asyncio.create_task(self._tick(), name="live-tick"),
                       asyncio.create_task(self._work(), name="live-work")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def watch(self, key: ScreenKey) -> Watched:
        """The state of a screen kind, computed on first use; every call counts as asking for it.

        Raises :class:`HubFull` when the hub keeps ``max_states`` states and none is idle."""
        watched = self._watched.get(key)
        if watched is None:
            async with self._lock:
                watched = self._watched.get(key)
                if watched is None:
                    if len(self._watched) >= self.max_states:
                        self.evict_idle()
                    if len(self._watched) >= self.max_states:
                        raise HubFull(f"this server already follows {self.max_states} screen states, all in use; "
                                      "retry later, or use one of the periods screens already show")
                    watched = Watched(await self._compute(key), fresh_at=self.clock())
                    self._watched[key] = watched
        watched.asked_at = time.monotonic()
        return watched

    def evict_idle(self) -> int:
        """Forget every state no stream holds and nobody asked for within ``idle_seconds``;
        returns how many were evicted."""
        cutoff = time.monotonic() - self.idle_seconds
        idle = [key for key, watched in self._watched.items() if watched.streams == 0 and watched.asked_at <= cutoff]
        for key in idle:
            del self._watched[key]
            self._computed.pop(key, None)
        if idle:
            followed = [key for key in self._watched if rollup.is_region(key[0])]
            today = local_date(self.clock())
            self.regions.forget({key[0] for key in followed}, {ScreenPeriod.from_key(key[2]).period(today) for key in followed})
        return len(idle)

    def states(self) -> int:
        """How many screen states this process keeps (and recomputes on every change and tick)."""
        return len(self._watched)

    def open_stream(self, key: ScreenKey, principal: str) -> Callable[[], None]:
        """Count a stream of ``principal`` on the (watched) state ``key``; returns the function
        that closes it, to be called exactly once. Raises :class:`TooManyStreams` at the limit."""
        if self._streams.get(principal, 0) >= self.streams_per_principal:
            raise TooManyStreams(f"at most {self.streams_per_principal} open live streams per user or screen")
        watched = self._watched[key]
        self._streams[principal] = self._streams.get(principal, 0) + 1
        watched.streams += 1
        closed = False

        def close() -> None:
            nonlocal closed
            if closed:
                return
            closed = True
            watched.streams -= 1
            watched.asked_at = time.monotonic()
            left = self._streams.get(principal, 1) - 1
            if left > 0:
                self._streams[principal] = left
            else:
                self._streams.pop(principal, None)

        return close

    def current(self, key: ScreenKey) -> Watched:
        return self._watched[key]

    def delta_since(self, key: ScreenKey, since: str | None) -> Delta | None:
        """What turns state ``since`` into the latest; ``None`` if ``since`` is unknown here."""
        watched = self._watched.get(key)
        if watched is None or since is None:
            return None
        if since == watched.latest["id"]:
            return {"from": since, "to": since, "build": self.build, "kpis": {}, "values": {}, "cells": {},
                    "updated": watched.latest["updated"]}
        chain = list(watched.ring)
        for start, delta in enumerate(chain):
            if delta["from"] == since:
                return compose(chain[start:])
        return None

    async def refresh(self) -> bool:
        """Recompute every watched state; wake its streams if anything changed, or if it turned
        stale or fresh again. Returns whether every recomputation succeeded."""
        ok = True
        self.evict_idle()  # an idle state costs nothing more from here on
        for key, watched in list(self._watched.items()):
            try:
                new = await self._compute(key)
            except Exception:  # noqa: BLE001 - Redis or the database away: screens keep the last state, marked stale
                log.warning("live refresh failed for %s", key, exc_info=True)
                ok = False
                if watched.stale_since is None:
                    watched.stale_since = watched.fresh_at
                    watched.wake()
                continue
            recovered = watched.stale_since is not None
            watched.fresh_at = self.clock()
            watched.stale_since = None
            old = watched.latest
            if new["id"] == old["id"]:  # the id holds a digest of the content: nothing changed
                if recovered:
                    watched.wake()
                continue
            watched.ring.append(state_delta(old, new))
            watched.latest = new
            watched.wake()
        return ok

    async def _compute(self, key: ScreenKey) -> State:
        return await asyncio.to_thread(self._compute_now, key)

    def _compute_now(self, key: ScreenKey) -> State:
        """The screen kind's state; recomputed only when its county's version or the minute moved
        on (every write bumps the version; levels that change with time change by the minute), so
        a clock tick with nothing new costs one version read."""
        county, area, period_key, lang = key
        now = self.clock()
        period = ScreenPeriod.from_key(period_key).period(local_date(now))
        if rollup.is_region(county):
            return self._compute_region(key, period, now)
        snapshot = self.snapshots.get(county, now, period=period)
        generation = (snapshot.version, int(now.timestamp() // 60))
        known = self._computed.get(key)
        counters(SCREEN_STATE).count(hit=known is not None and known[0] == generation)
        if known is not None and known[0] == generation:
            return known[1]
        panels = self.panels.get(snapshot, area=area, period=period, now=now)
        state = screen_state(snapshot, build=self.build, panels=panels, lang=lang)
        self._computed[key] = (generation, state)
        return state

    def _compute_region(self, key: ScreenKey, period: Period, now: datetime) -> State:
        """A city's or province's state: recomputed when any of its counties' versions or the
        minute moved on, from the counties' cached snapshots and panels (``RegionWall``)."""
        code, _, _, lang = key
        counties = self.regions.county_snapshots(code, now)
        generation = (tuple(s.version for s in counties), int(now.timestamp() // 60))
        known = self._computed.get(key)
        counters(SCREEN_STATE).count(hit=known is not None and known[0] == generation)
        if known is not None and known[0] == generation:
            return known[1]
        snapshot, panels = self.regions.state(code, counties, period=period, now=now)
        state = screen_state(snapshot, build=self.build, panels=panels, lang=lang)
        self._computed[key] = (generation, state)
        return state

    async def _listen(self) -> None:
        """Follow every county's change channel; reconnect forever (Redis may restart).

        On one server one pattern subscription covers every county; on a Redis Cluster each served
        county's channel is followed with sharded pub/sub on the shard that owns it, and followed
        anew when the served counties change (``redis_changes.follow_changes``). Every
        (re)subscription marks the states dirty, to catch up on anything missed while away."""
        async def served() -> list[str]:
            return await asyncio.to_thread(self.rt.served_counties)

        while True:
            try:
                await redis_changes.follow_changes(self.rt.redis_url, served, self._dirty.set)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                log.warning("live subscription lost; retrying", exc_info=True)
                await asyncio.sleep(1.0)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.tick_seconds)
            self._dirty.set()

    async def _work(self) -> None:
        """One recomputation at a time; a burst of messages collapses into the next one; a failed
        one is retried soon."""
        loop = asyncio.get_running_loop()
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            if not await self.refresh():
                loop.call_later(RETRY_SECONDS, self._dirty.set)
