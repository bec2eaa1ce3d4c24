"""The live hub's freshness: a refresh that fails marks the state stale since the last good one,
and every message to a screen (pings too) says so until a refresh succeeds again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import orjson
from starlette.requests import Request

from dashboard.domain.clock import system_clock
from dashboard.api.live import build_live_api, ping_message, stream_message, with_freshness
from dashboard.live.live_hub import MESSAGES_KEPT, LiveHub, ScreenKey
from dashboard.live.live_state import State

KEY: ScreenKey = ("220283", "220283", "30d", "zh")
GOOD = datetime(2026, 11, 22, 2, 0, 5, tzinfo=UTC)
"""10:00:05 in Asia/Shanghai."""


def _state(version: int, open_cases: int) -> State:
    return {"id": f"{version}-1", "build": "b1", "kpis": {"open": str(open_cases)}, "values": {}, "cells": {},
            "updated": "10:00:05"}


class ScriptedHub(LiveHub):
    """A hub whose recomputations answer from a script: a state, or an exception to raise."""

    def __init__(self, script: list[State | Exception]) -> None:
        super().__init__(None, None, build="b1", clock=system_clock)  # type: ignore[arg-type]
        self.script: Iterator[State | Exception] = iter(script)

    def _compute_now(self, key: ScreenKey) -> State:
        step = next(self.script)
        if isinstance(step, Exception):
            raise step
        return step


def test_a_failing_refresh_marks_the_state_stale_since_the_last_good_one() -> None:
    async def run() -> None:
        hub = ScriptedHub([_state(1, 5), ConnectionError("redis away"), ConnectionError("still away"), _state(1, 5)])
        watched = await hub.watch(KEY)
        watched.fresh_at = GOOD
        assert watched.stale_text() is None and with_freshness({}, watched) == {"stale_since": None}

        listening = watched.changed
        assert await hub.refresh() is False
        assert listening.is_set(), "streams hear at once that the data went stale"
        assert watched.stale_text() == "10:00:05"
        assert with_freshness({}, watched) == {"stale_since": "10:00:05"}, "a ping carries the stale time"
        assert watched.latest == _state(1, 5), "the screen keeps its last figures"

        assert await hub.refresh() is False
        assert watched.stale_text() == "10:00:05", "a second failure keeps the time of the last good refresh"

        listening = watched.changed
        assert await hub.refresh() is True
        assert watched.stale_text() is None and watched.fresh_at > GOOD
        assert listening.is_set(), "streams hear at once that the data is fresh again, even unchanged"

    asyncio.run(run())


def test_a_refresh_with_new_values_sends_a_delta_and_stays_fresh() -> None:
    async def run() -> None:
        hub = ScriptedHub([_state(1, 5), _state(2, 6)])
        watched = await hub.watch(KEY)
        assert await hub.refresh() is True
        assert watched.stale_text() is None
        delta = hub.delta_since(KEY, "1-1")
        assert delta is not None and delta["kpis"] == {"open": "6"}

    asyncio.run(run())


def _data(message: bytes) -> tuple[str, dict[str, object]]:
    kind, data = message.decode().removeprefix("event: ").split("\ndata: ")
    return kind, orjson.loads(data)


def test_streams_at_the_same_state_share_one_encoded_event_until_the_state_or_freshness_changes() -> None:
    """A change wakes every stream of a screen kind at once; encoding the event per stream was a
    third of the server's time with 1,000 screens open."""
    async def run() -> None:
        hub = ScriptedHub([_state(1, 5), _state(2, 6), ConnectionError("redis away")])
        watched = await hub.watch(KEY)
        first = stream_message(hub, KEY, None)
        assert stream_message(hub, KEY, None) is first, "a second screen gets the same bytes"
        assert _data(first) == ("full", {**_state(1, 5), "stale_since": None})

        await hub.refresh()
        delta = stream_message(hub, KEY, "1-1")
        assert stream_message(hub, KEY, "1-1") is delta
        assert _data(delta)[0] == "delta" and _data(delta)[1]["kpis"] == {"open": "6"}
        assert _data(stream_message(hub, KEY, "unknown"))[0] == "full", "a screen the ring cannot bridge gets it all"

        watched.fresh_at = GOOD
        await hub.refresh()
        assert _data(stream_message(hub, KEY, "1-1"))[1]["stale_since"] == "10:00:05", "a cached event never hides staleness"
        assert _data(ping_message(watched))[1] == {"stale_since": "10:00:05"}

        for n in range(3 * MESSAGES_KEPT):
            stream_message(hub, KEY, f"gone-{n}")
        assert len(watched.messages) <= MESSAGES_KEPT, "events of old states do not pile up"

    asyncio.run(run())


def test_a_change_while_a_stream_is_sending_reaches_it_without_waiting_for_the_next_one() -> None:
    """The hub wakes its streams by setting an event and replacing it; a stream still sending the
    previous message was not waiting on it, and used to sit until the next change or ping."""
    async def run() -> None:
        hub = ScriptedHub([_state(1, 5), _state(2, 6)])
        hub._county = KEY[0]
        route = next(r for r in build_live_api(hub).routes if getattr(r, "path", "") == "/api/live/stream")
        request = Request({"type": "http", "method": "GET", "path": "/api/live/stream", "headers": [],
                           "query_string": b"", "state": {}})
        response = await route.endpoint(request=request, county=None, area=None, period="30d", days=None,  # type: ignore[attr-defined]
                                         lang="zh", since=None)
        messages = response.body_iterator
        assert await anext(messages) == b"retry: 2000\n\n"
        assert _data(await anext(messages))[0] == "full"
        await hub.refresh()  # the change lands while the stream is between two sends
        # Missed, the change would wait for the next heartbeat, and that message would be a ping.
        kind, body = _data(await anext(messages))
        assert kind == "delta", f"the stream sent a {kind} before the change"
        assert body["kpis"] == {"open": "6"}
        await messages.aclose()  # type: ignore[attr-defined]

    asyncio.run(run())


def test_a_tick_with_nothing_new_reuses_the_state_and_a_new_version_or_minute_recomputes_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from dashboard.live import live_hub

    now = [GOOD]
    version = [1]
    computed: list[tuple[int, datetime]] = []

    class Snapshots:
        def get(self, county: str, at: datetime, *, period: object) -> SimpleNamespace:
            return SimpleNamespace(version=version[0], county=county)

    class Panels:
        def get(self, snapshot: SimpleNamespace, *, area: str, period: object, now: datetime) -> str:
            computed.append((snapshot.version, now))
            return "panels"

    monkeypatch.setattr(live_hub, "screen_state", lambda snapshot, **_: _state(snapshot.version, len(computed)))
    hub = LiveHub(None, Snapshots(), build="b1", clock=lambda: now[0])  # type: ignore[arg-type]
    hub.panels = Panels()  # type: ignore[assignment]
    first = hub._compute_now(KEY)
    now[0] = GOOD.replace(second=40)
    assert hub._compute_now(KEY) is first and len(computed) == 1, "same version, same minute: nothing recomputed"
    version[0] = 2
    assert hub._compute_now(KEY)["id"] == "2-1" and len(computed) == 2, "a write bumped the version"
    now[0] = GOOD.replace(minute=1)
    hub._compute_now(KEY)
    assert len(computed) == 3, "levels change with time: a new minute recomputes"
