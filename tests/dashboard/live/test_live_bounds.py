"""The live hub is bounded: hundreds of distinct periods from one wall cost no more states, no more
memory and no more recomputations per refresh than the configured few; states in use are never
evicted, a hub full of them refuses a new one (503), and one principal's streams are limited (429)."""

from __future__ import annotations

import asyncio
import tracemalloc
from dataclasses import replace
from datetime import date, timedelta

import httpx
import pytest

from app import create_app
from dashboard.access.security import DISPLAY_COOKIE, Limit, SecurityConfig
from dashboard.domain.clock import system_clock
from dashboard.live.live_hub import HubFull, LiveHub, ScreenKey, TooManyStreams
from dashboard.live.live_state import State
from dashboard.runtime import Runtime
from tests.dashboard.auth_support import new_screen

AREAS = 400
"""Map values per state, about what a county's grids give: one state weighs tens of kilobytes."""


def _spans(n: int) -> list[str]:
    """``n`` distinct valid period keys: spans of the past year."""
    end = date(2026, 6, 30)
    return [f"{(end - timedelta(days=k + 1)).isoformat()}_{end.isoformat()}" for k in range(n)]


class CountingHub(LiveHub):
    """Recomputes a realistic state per key, and counts the recomputations."""

    def __init__(self, **bounds: float) -> None:
        super().__init__(None, None, build="b1", clock=system_clock, **bounds)  # type: ignore[arg-type]
        self.computed = 0

    def _compute_now(self, key: ScreenKey) -> State:
        self.computed += 1
        values = {f"22028310{i:04d}": [i % 4, i, key[2]] for i in range(AREAS)}
        return {"id": f"1-{key[2]}", "build": "b1", "kpis": {"open": "5"}, "values": values, "cells": {},
                "updated": "10:00:05"}


def test_hundreds_of_distinct_periods_keep_states_memory_and_refresh_work_bounded() -> None:
    async def run() -> None:
        bound = 16
        hub = CountingHub(max_states=bound, idle_seconds=0)
        periods = _spans(400)
        tracemalloc.start()
        try:
            for period in periods[:bound]:
                await hub.watch(("220283", "220283", period, "zh"))
            bounded, _ = tracemalloc.get_traced_memory()
            most = hub.states()
            for period in periods[bound:]:
                await hub.watch(("220283", "220283", period, "zh"))
                most = max(most, hub.states())
            after, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert most <= bound, f"the hub kept {most} states"
        assert len(hub._computed) <= bound
        # 384 more states would weigh 24 times the first 16; evicted, they leave a little slack.
        assert after - bounded < bounded / 2, f"memory grew from {bounded} to {after} bytes"
        hub.computed = 0
        await hub.refresh()
        assert hub.computed <= bound, "a refresh recomputes only the states kept"

    asyncio.run(run())


def test_states_in_use_are_kept_and_a_full_hub_refuses_a_new_one_until_one_is_idle() -> None:
    async def run() -> None:
        hub = CountingHub(max_states=3, idle_seconds=3600)
        keys = [("220283", "220283", period, "zh") for period in _spans(4)]
        for key in keys[:3]:
            await hub.watch(key)
        with pytest.raises(HubFull):
            await hub.watch(keys[3])
        assert hub.states() == 3
        close = hub.open_stream(keys[0], "screen:wall")
        hub.idle_seconds = 0
        await hub.watch(keys[3])
        assert hub.states() == 2 and keys[0] in hub._watched, "the idle states went, the streamed one stayed"
        close()
        close()  # closing twice gives back one place only
        assert hub._watched[keys[0]].streams == 0 and hub._streams == {}

    asyncio.run(run())


def test_one_principal_may_hold_only_so_many_streams() -> None:
    async def run() -> None:
        hub = CountingHub(streams_per_principal=2)
        key: ScreenKey = ("220283", "220283", "30d", "zh")
        await hub.watch(key)
        closes = [hub.open_stream(key, "screen:wall"), hub.open_stream(key, "screen:wall")]
        with pytest.raises(TooManyStreams):
            hub.open_stream(key, "screen:wall")
        hub.open_stream(key, "leader:li")  # someone else is not affected
        closes[0]()
        hub.open_stream(key, "screen:wall")

    asyncio.run(run())


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_a_wall_cookie_cannot_grow_the_hub_or_open_endless_streams(runtime: Runtime, county: str) -> None:
    """Through the app, as the review did it: one wall's cookie asks for many distinct periods
    and opens many streams."""
    runtime.settings = replace(runtime.settings, live_max_states=4, live_streams_per_principal=2)
    app = create_app(runtime, SecurityConfig(api=Limit(10**9, 60))).server
    display = new_screen(runtime, county)

    async def run() -> None:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                         cookies={DISPLAY_COOKIE: display}) as client:
                statuses = [(await client.get("/api/live/poll", params={"period": period})).status_code
                            for period in ("1d", "01d", "001d", "7d", "30d", "90d", "ytd", "2d", "3d")]
                assert statuses[:3] == [200, 200, 200], "1d, 01d and 001d are one state"
                assert statuses.count(200) == 4 + 2 and set(statuses[6:]) == {503}, statuses
                refused = await client.get("/api/live/poll", params={"period": "2d"})
                assert refused.json()["errors"][0]["code"] == "busy"

    asyncio.run(run())


def test_the_stream_route_refuses_a_principal_beyond_its_streams_and_gives_back_a_closed_ones_place() -> None:
    from dashboard.access.auth import Principal, Role, acting_as
    from dashboard.api.errors import ApiError
    from dashboard.api.live import build_live_api
    from starlette.requests import Request

    async def run() -> None:
        hub = CountingHub(streams_per_principal=2)
        hub._county = "220283"
        route = next(r for r in build_live_api(hub).routes if getattr(r, "path", "") == "/api/live/stream")
        scope = {"type": "http", "method": "GET", "path": "/api/live/stream", "headers": [], "query_string": b"",
                 "state": {}}

        async def open_one() -> object:
            return await route.endpoint(request=Request(scope), county=None, area=None, period="30d",  # type: ignore[attr-defined]
                                        days=None, lang="zh", since=None)

        with acting_as(Principal("wall", Role.screen, "220283")):
            first, _second = await open_one(), await open_one()
            with pytest.raises(ApiError) as refused:
                await open_one()
            assert refused.value.status == 429

            async def gone() -> dict[str, str]:
                return {"type": "http.disconnect"}

            async def send(_message: object) -> None:
                return None

            await first(scope, gone, send)  # type: ignore[operator]  # the client went away
            assert hub._streams == {"screen:wall": 1}
            await open_one()

    asyncio.run(run())
