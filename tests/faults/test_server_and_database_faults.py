"""The app server restarts under a screen, and PostgreSQL stops under the API: clear 503s, no
partial writes, screens keep their last figures and heal."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx

from tests.factories import GRID_CODES
from tests.faults.conftest import Stack
from tests.faults.test_redis_fault import HEAL_SECONDS, StreamFollower, refs_in_sql
from tests.waiting import wait_until


def _case(ref: str) -> dict[str, object]:
    return {"external_ref": ref, "category": "neighbour", "received_at": datetime.now(UTC).isoformat(),
            "location": {"grid_code": GRID_CODES[0]}}


def _kpi(body: dict) -> int:
    """Open cases: a count that a new case raises by one whatever the day, even across midnight."""
    return int(str(body["kpis"]["open"]).replace(",", ""))


def _wait_shows(follower: StreamFollower, value: int, since: float, what: str) -> None:
    """Until the stream has announced ``value`` open cases since ``since``; fails saying ``what`` did not happen."""
    wait_until(lambda: value in follower.open_after(since), HEAL_SECONDS, interval=0.1,
               message=lambda: f"{what}: {value} open cases on the stream (seen since: {list(follower.open_after(since))[-5:]})")


def test_app_server_restart_under_a_live_stream_resumes_updates(stack: Stack) -> None:
    server = stack.server()
    api = httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {stack.token}"})
    follower = StreamFollower(server.url, stack)
    follower.start()
    with stack.screen(timeout=10) as screen:
        before = _kpi(screen.get(f"{server.url}/api/live/state").json())
    try:
        assert api.post("/api/cases", json=_case("restart-1")).status_code == 201
        _wait_shows(follower, before + 1, 0, "the stream shows a new case")

        server.stop()
        stopped = time.monotonic()
        server.start()
        assert api.post("/api/cases", json=_case("restart-2")).status_code == 201
        posted = time.monotonic()
        _wait_shows(follower, before + 2, stopped, "the stream resumes after the app server restarted")
        print(f"the stream showed the new case {time.monotonic() - posted:.1f} s after it was posted")
    finally:
        follower.stop.set()
        api.close()


def test_postgres_stopped_answers_503_keeps_the_screens_and_heals(stack: Stack) -> None:
    server = stack.server()
    api = httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {stack.token}"})
    first = api.post("/api/cases", json=_case("pg-1"))
    assert first.status_code == 201, first.text
    screen = stack.screen(timeout=10)
    state = screen.get(f"{server.url}/api/live/state").json()
    follower = StreamFollower(server.url, stack)
    follower.start()

    stack.pg.stop()
    try:
        refused = api.post("/api/cases", json=_case("pg-2"))
        assert refused.status_code == 503, refused.text
        assert int(refused.headers["Retry-After"]) > 0
        [error] = refused.json()["errors"]
        assert set(error) == {"code", "field", "message"} and error["code"] == "database_unavailable"
        moved = api.post(f"/api/cases/{first.json()['id']}/events", json={"action": "assess", "actor": "t"})
        assert moved.status_code == 503 and "Retry-After" in moved.headers
        for path in ("/api/live/state", "/api/live/poll"):
            during = screen.get(f"{server.url}{path}")
            assert during.status_code == 200, f"{path} stopped serving: {during.text}"
            assert during.json()["kpis"] == state["kpis"]
        fresh = StreamFollower(server.url, stack, cookies=screen.cookies)
        fresh.start()
        try:
            wait_until(lambda: fresh.events, HEAL_SECONDS, interval=0.1, message="a reconnecting screen to get a state")
        finally:
            fresh.stop.set()
        assert fresh.events[0][2]["kpis"] == state["kpis"], "a reconnecting screen got another state"
    finally:
        stack.pg.start()

    assert refs_in_sql(stack, "pg-") == {"pg-1": 1}, "a refused write left something behind"
    returned = time.monotonic()
    try:
        wait_until(lambda: api.post("/api/cases", json=_case("pg-2")).status_code == 201, HEAL_SECONDS,
                   message="writes to succeed again after PostgreSQL returned")
        moved = api.post(f"/api/cases/{first.json()['id']}/events", json={"action": "assess", "actor": "t"})
        assert moved.status_code == 201, moved.text
        assert refs_in_sql(stack, "pg-") == {"pg-1": 1, "pg-2": 1}
        _wait_shows(follower, _kpi(state) + 1, returned, "the live stream shows the write made after PostgreSQL returned")
    finally:
        follower.stop.set()
        api.close()
        screen.close()
