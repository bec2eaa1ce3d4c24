"""The app server restarts under a screen, and PostgreSQL stops under the API: clear 503s, no
partial writes, screens keep their last figures and heal."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx

from tests.factories import GRID_CODES
from tests.faults.conftest import Stack
from tests.faults.test_redis_fault import HEAL_SECONDS, StreamFollower, refs_in_sql


def _case(ref: str) -> dict[str, object]:
    return {"external_ref": ref, "category": "neighbour", "received_at": datetime.now(UTC).isoformat(),
            "location": {"grid_code": GRID_CODES[0]}}


def _kpi(body: dict) -> int:
    """Open cases: a count that a new case raises by one whatever the day, even across midnight."""
    return int(str(body["kpis"]["open"]).replace(",", ""))


def _shows(follower: StreamFollower, value: int, since: float, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value in follower.open_after(since):
            return True
        time.sleep(0.1)
    return False


def test_app_server_restart_under_a_live_stream_resumes_updates(stack: Stack) -> None:
    server = stack.server()
    api = httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {stack.token}"})
    follower = StreamFollower(server.url, stack)
    follower.start()
    with stack.screen(timeout=10) as screen:
        before = _kpi(screen.get(f"{server.url}/api/live/state").json())
    assert api.post("/api/cases", json=_case("restart-1")).status_code == 201
    assert _shows(follower, before + 1, 0, HEAL_SECONDS)

    server.stop()
    stopped = time.monotonic()
    server.start()
    assert api.post("/api/cases", json=_case("restart-2")).status_code == 201
    posted = time.monotonic()
    healed = _shows(follower, before + 2, stopped, HEAL_SECONDS)
    follower.stop.set()
    api.close()
    assert healed, "the stream did not resume after the app server restarted"
    print(f"the stream showed the new case {time.monotonic() - posted:.1f} s after it was posted")


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
        deadline = time.monotonic() + HEAL_SECONDS
        while not fresh.events and time.monotonic() < deadline:
            time.sleep(0.1)
        fresh.stop.set()
        assert fresh.events and fresh.events[0][2]["kpis"] == state["kpis"], "a reconnecting screen got no state"
    finally:
        stack.pg.start()

    assert refs_in_sql(stack, "pg-") == {"pg-1": 1}, "a refused write left something behind"
    returned = time.monotonic()
    deadline = returned + HEAL_SECONDS
    status = 0
    while status != 201 and time.monotonic() < deadline:
        status = api.post("/api/cases", json=_case("pg-2")).status_code
    assert status == 201, "writes did not succeed again after PostgreSQL returned"
    moved = api.post(f"/api/cases/{first.json()['id']}/events", json={"action": "assess", "actor": "t"})
    assert moved.status_code == 201, moved.text
    assert refs_in_sql(stack, "pg-") == {"pg-1": 1, "pg-2": 1}
    healed = _shows(follower, _kpi(state) + 1, returned, HEAL_SECONDS)
    follower.stop.set()
    api.close()
    screen.close()
    assert healed, "the live stream did not show the write made after PostgreSQL returned"
