"""Live updates for screens: a server-sent event stream, with plain polling as the fallback.

Server-sent events ride on ordinary HTTP, so they pass proxies that block WebSocket upgrades,
and the browser's EventSource reconnects by itself after any outage.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from dashboard.access.auth import current_user
from dashboard.access.scope import caller_sees
from dashboard.live.live_hub import HubFull, LiveHub, ScreenKey, TooManyStreams, Watched
from dashboard.api.errors import ApiError
from dashboard.domain.periods import local_date
from dashboard.runtime import NoCountyError
from dashboard.screens import rollup
from dashboard.domain.screen_period import ScreenPeriod

RECHECK_SECONDS = 30.0
"""An open stream checks this often that its session still stands (screen not revoked, user
still active): a wall's stream stays open for days, and revocation must reach it too."""
HEARTBEAT_SECONDS = 5.0
"""A ping event this often: screens tell "quiet" from "dead", proxies keep the stream open.

Every message, pings included, carries ``stale_since``: ``None`` while the hub's refreshes
succeed, else the local time of its last good one. A ping proves the connection, not the data."""


PeriodKey = Annotated[str, Query(max_length=21, pattern=r"^[0-9a-z_-]+$")]
"""The wall's period (``ScreenPeriod.key``: ``30d``, ``ytd``, ``2025-01-01_2025-12-31``)."""
Days = Annotated[int | None, Query(ge=1, le=1098)]
"""The older ``?days=N``: the last N days, when no ``period`` is given."""
Area = Annotated[str | None, Query(max_length=15, pattern=r"^[0-9]+$")]
"""The township a wall follows (``?township=``); the county when absent. For a city or province
screen, the region's code (or absent)."""
Lang = Annotated[str, Query(pattern="^(zh|en)$")]


def _event(kind: str, body: dict[str, object]) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(body) + b"\n\n"


def with_freshness(body: dict[str, object], watched: Watched) -> dict[str, object]:
    return {**body, "stale_since": watched.stale_text()}


def stream_message(hub: LiveHub, key: ScreenKey, since: str | None) -> bytes:
    """The event that brings a screen at state ``since`` to the latest: a delta, or the full state.

    A change wakes every stream of a screen kind at once, all at the same ``since``: the event is
    built and encoded once per (since, latest, freshness) and the same bytes go to each of them.
    """
    watched = hub.current(key)

    def encode() -> bytes:
        delta = hub.delta_since(key, since)
        return (_event("delta", with_freshness(delta, watched)) if delta
                else _event("full", with_freshness(watched.latest, watched)))

    return watched.encoded((since, watched.latest["id"], watched.stale_since), encode)


def ping_message(watched: Watched) -> bytes:
    return watched.encoded(("ping", watched.stale_since), lambda: _event("ping", with_freshness({}, watched)))


class HeldStream(StreamingResponse):
    """A stream that gives its place back however it ends: sent to the end, the client gone, or
    cancelled before the first byte (a generator that never started would run no ``finally``)."""

    def __init__(self, content: AsyncIterator[bytes], close: Callable[[], None], **options: object) -> None:
        super().__init__(content, **options)  # type: ignore[arg-type]
        self.close = close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.close()


def busy(error: HubFull) -> ApiError:
    return ApiError(503, "busy", "period", str(error))


def principal_of(request: Request) -> str:
    """Whom a stream counts against: the signed-in user, screen or source system, else the address."""
    user = current_user()
    if user is not None:
        return f"{user.role.value}:{user.name}"
    return f"address:{request.client.host if request.client else '?'}"


def build_live_api(hub: LiveHub) -> APIRouter:
    router = APIRouter(prefix="/api/live")

    def key_of(county: str | None, area: str | None, period: str | None, days: int | None, lang: str) -> ScreenKey:
        """An unknown county is refused before it can start a rebuild or take a slot in the hub;
        an unknown township is refused when its panels are first computed; so is a period that
        is not one (or a span that ends after today)."""
        try:
            screen_period = ScreenPeriod.from_key(period or f"{days or 30}d")
            screen_period.period(local_date(hub.clock()))
        except ValueError as error:
            raise ApiError(422, "invalid", "period", str(error)) from None
        period = screen_period.key  # one spelling per period: "01d" and "1d" are one screen state
        if area is not None and rollup.is_region(area):
            county = area  # ?area=CITY_OR_PROVINCE names a region screen (the gate may add a home county)
        try:
            code = hub.screen_county(county)
        except (NoCountyError, LookupError) as error:
            raise ApiError(404, "not_found", "county", str(error)) from None
        if rollup.is_region(code) and (area not in (None, code) or not caller_sees(code)):
            raise ApiError(404, "not_found", "area", f"no region screen {code!r} here")
        return (code, area or code, period, lang)

    def not_found(error: Exception) -> JSONResponse:
        return ApiError(404, "not_found", "area", str(error)).response()

    @router.get("/state")
    async def state(county: str | None = None, area: Area = None, period: PeriodKey | None = None, days: Days = None, lang: Lang = "zh") -> Response:
        """The full state of a screen (first load, or after a gap)."""
        try:
            watched = await hub.watch(key_of(county, area, period, days, lang))
        except (NoCountyError, LookupError) as error:
            return not_found(error)
        except HubFull as error:
            raise busy(error) from None
        return Response(orjson.dumps(with_freshness(watched.latest, watched)), media_type="application/json",
                        headers={"Cache-Control": "no-store"})

    @router.get("/poll")
    async def poll(county: str | None = None, area: Area = None, period: PeriodKey | None = None, days: Days = None, lang: Lang = "zh",
                   since: str | None = None) -> Response:
        """The same messages as the stream, for networks that break long-lived responses."""
        key = key_of(county, area, period, days, lang)
        try:
            watched = await hub.watch(key)
        except (NoCountyError, LookupError) as error:
            return not_found(error)
        except HubFull as error:
            raise busy(error) from None
        delta = hub.delta_since(key, since)
        body = {"kind": "delta", **delta} if delta else {"kind": "full", **watched.latest}
        return Response(orjson.dumps(with_freshness(body, watched)), media_type="application/json", headers={"Cache-Control": "no-store"})

    @router.get("/stream")
    async def stream(request: Request, county: str | None = None, area: Area = None, period: PeriodKey | None = None, days: Days = None,
                     lang: Lang = "zh", since: str | None = None) -> Response:
        key = key_of(county, area, period, days, lang)
        try:
            await hub.watch(key)
        except (NoCountyError, LookupError) as error:
            return not_found(error)
        except HubFull as error:
            raise busy(error) from None
        try:
            close = hub.open_stream(key, principal_of(request))
        except TooManyStreams as error:
            raise ApiError(429, "too_many_streams", None, str(error)) from None

        still_signed_in = request.scope.get("state", {}).get("still_signed_in")

        async def events() -> AsyncIterator[bytes]:
            yield b"retry: 2000\n\n"
            watched = hub.current(key)
            current: str | None = since
            checked = time.monotonic()
            woken = True
            # No disconnect polling here: Starlette cancels this generator when the client goes.
            while True:
                if woken or watched.latest["id"] != current:
                    # The state this message brings the screen to, read with it (no await between):
                    # the hub may move on while the message is being sent.
                    reached = watched.latest["id"]
                    yield stream_message(hub, key, current)
                    current = reached
                    # A change during that send woke an event this stream was not yet waiting
                    # on; comparing ids before waiting again catches it.
                    if watched.latest["id"] != current:
                        continue
                try:
                    async with asyncio.timeout(HEARTBEAT_SECONDS):
                        await watched.changed.wait()
                    woken = True
                except TimeoutError:
                    woken = False
                    if still_signed_in is not None and time.monotonic() - checked >= RECHECK_SECONDS:
                        checked = time.monotonic()
                        if not await run_in_threadpool(still_signed_in):
                            return  # revoked: the screen reconnects, and its next request is refused
                    yield ping_message(watched)

        return HeldStream(events(), close, media_type="text/event-stream",
                          headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    return router
