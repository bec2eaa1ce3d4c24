"""Dash 4.4 registers a WebSocket callback route (``/_dash-ws-callback``) on its FastAPI backend,
which would run callbacks without the callback gate (``access.callback_gate``) ever seeing them.
The product uses no WebSocket (live updates are server-sent events), so the gate refuses every
upgrade, on every path, for every caller: signed in, same origin, a wall or a leader.

Tried as a browser would: a real server, a real WebSocket handshake (the ``websockets`` library).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from app import create_app
from dashboard.access.auth import Principal, Role, start_session
from dashboard.access.security import CSRF_COOKIE, DISPLAY_COOKIE, SESSION_COOKIE
from dashboard.runtime import Runtime
from tests.dashboard.auth_support import new_screen, new_user
from tests.waiting import wait_until

PATHS = ("/_dash-ws-callback", "/_dash-ws", "/_dash-update-component", "/api/live/stream", "/ws", "/")


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(runtime: Runtime) -> Iterator[str]:
    """The app under uvicorn in a thread of this process, on a free port."""
    config = uvicorn.Config(create_app(runtime).server, host="127.0.0.1", port=_port(), log_level="warning",
                            lifespan="off", ws="websockets")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{config.port}"
    wait_until(lambda: running.started, 20, message="uvicorn to start")
    try:
        yield url
    finally:
        running.should_exit = True
        thread.join(timeout=10)


def _handshake(url: str, path: str, cookies: dict[str, str]) -> int:
    """The HTTP status a same-origin WebSocket handshake to ``path`` gets (101: accepted)."""
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())

    async def attempt() -> int:
        try:
            async with connect(url.replace("http", "ws") + path, origin=url,  # type: ignore[arg-type]
                               additional_headers={"Cookie": cookie}, open_timeout=10) as ws:
                await ws.close()
                return 101
        except InvalidStatus as refused:
            return refused.response.status_code

    return asyncio.run(attempt())


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_no_websocket_upgrade_is_accepted_for_a_signed_in_same_origin_caller(runtime: Runtime, county: str,
                                                                             server: str) -> None:
    display = new_screen(runtime, county)
    new_user(runtime, "ws-leader", Role.leader, county)
    session_id, data = start_session(runtime.redis, Principal(name="ws-leader", role=Role.leader, area=county))
    leader = {SESSION_COOKIE: session_id, CSRF_COOKIE: data.csrf}
    with httpx.Client(cookies={DISPLAY_COOKIE: display}) as wall:
        assert wall.get(f"{server}/api/live/state").status_code == 200, "the wall is signed in"
    with httpx.Client(cookies=leader) as tablet:
        assert tablet.get(f"{server}/api/live/state").status_code == 200, "the leader is signed in"
    for who, cookies in (("wall", {DISPLAY_COOKIE: display}), ("leader", leader)):
        for path in PATHS:
            status = _handshake(server, path, cookies)
            assert status == 403, f"{who}: a WebSocket to {path} got {status}"
