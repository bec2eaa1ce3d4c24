"""Rate limits on a moving window in Redis, on both backends: N requests pass in any span of the
window, the next is refused, whatever fixed-window boundary lies between them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis
from fastapi.testclient import TestClient

from app import create_app
from dashboard.access.auth import Role
from dashboard.access.rate_limits import Backoff, Limit, RateLimiter
from dashboard.access.security import SecurityConfig
from dashboard.runtime import Runtime
from data_access import redis_keys
from tests.dashboard.auth_support import as_role, new_user, served

BOUNDARY = 1_800_000_000.0
"""A multiple of 60 and of 300 seconds: where a fixed window of either length would start afresh."""


class PinnedClock:
    """Seconds since the epoch that move only when a test moves them."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_n_requests_pass_and_the_next_is_refused_across_a_fixed_window_boundary(runtime: Runtime) -> None:
    clock = PinnedClock(BOUNDARY - 1)
    limiter = RateLimiter(runtime.redis, clock)
    assert [limiter.allow("api", "ip:10.0.0.1", Limit(3, 60))[0] for _ in range(3)] == [True, True, True]
    clock.now = BOUNDARY + 1  # a fixed window would have started again here
    assert limiter.allow("api", "ip:10.0.0.1", Limit(3, 60)) == (False, 59)
    clock.now = BOUNDARY + 59  # exactly 60 s after the three: they still count
    assert limiter.allow("api", "ip:10.0.0.1", Limit(3, 60)) == (False, 1)
    clock.now = BOUNDARY + 59.5
    assert [limiter.allow("api", "ip:10.0.0.1", Limit(3, 60))[0] for _ in range(4)] == [True, True, True, False]


def test_the_window_moves_with_each_request(runtime: Runtime) -> None:
    clock = PinnedClock(BOUNDARY - 30)
    limiter = RateLimiter(runtime.redis, clock)
    limit = Limit(2, 60)
    assert limiter.allow("api", "leader:甲", limit)[0]
    clock.now = BOUNDARY + 10
    assert limiter.allow("api", "leader:甲", limit)[0]
    assert limiter.allow("api", "leader:甲", limit) == (False, 21)
    clock.now = BOUNDARY + 31  # the first left the window, the second has 39 s to go
    assert limiter.allow("api", "leader:甲", limit)[0]
    assert limiter.allow("api", "leader:甲", limit) == (False, 40)


def test_callers_and_scopes_are_counted_apart(runtime: Runtime) -> None:
    limiter = RateLimiter(runtime.redis, PinnedClock(BOUNDARY))
    assert limiter.allow("login-name", "admin1", Limit(1, 300))[0]
    assert not limiter.allow("login-name", "admin1", Limit(1, 300))[0]
    assert limiter.allow("login-name", "admin2", Limit(1, 300))[0]
    assert limiter.allow("login-ip", "admin1", Limit(1, 300))[0]


def test_every_process_counts_against_the_same_limit(runtime: Runtime) -> None:
    clock = PinnedClock(BOUNDARY)
    other = redis.Redis.from_url(runtime.redis_url)
    try:
        here, there = RateLimiter(runtime.redis, clock), RateLimiter(other, clock)
        assert here.allow("api", "ip:10.0.0.2", Limit(2, 60))[0] and there.allow("api", "ip:10.0.0.2", Limit(2, 60))[0]
        assert not here.allow("api", "ip:10.0.0.2", Limit(2, 60))[0]
        assert not there.allow("api", "ip:10.0.0.2", Limit(2, 60))[0]
    finally:
        other.close()


def test_windows_are_kept_under_our_key_namespace(runtime: Runtime) -> None:
    RateLimiter(runtime.redis, PinnedClock(BOUNDARY)).allow("api", "ip:10.0.0.3", Limit(5, 60))
    ours = re.compile(re.escape(redis_keys.namespace_pattern()).replace(r"\*", ".*"))
    keys = [key.decode() for key in runtime.redis.scan_iter(match="*10.0.0.3*")]
    assert len(keys) == 1 and ours.fullmatch(keys[0]) and ":auth:rate:" in keys[0]


def test_a_limit_that_cannot_be_counted_lets_requests_through() -> None:
    nowhere = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    assert RateLimiter(nowhere, PinnedClock(BOUNDARY)).allow("api", "ip:10.0.0.4", Limit(1, 60)) == (True, 0)


def test_a_strict_limit_that_cannot_be_counted_refuses_to_guess() -> None:
    """Sign-in asks strictly: without Redis the error reaches it (a 503), no guess passes uncounted."""
    nowhere = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    with pytest.raises(redis.RedisError):
        RateLimiter(nowhere, PinnedClock(BOUNDARY)).allow("login-ip", "10.0.0.4", Limit(1, 60), strict=True)


def test_sign_in_stays_limited_across_a_fixed_window_boundary(runtime: Runtime, county: str) -> None:
    clock = PinnedClock(BOUNDARY - 1)
    config = SecurityConfig(login_per_ip=Limit(3, 300), login_lockout=Backoff(free=100), clock=clock)
    password = new_user(runtime, "admin1", Role.admin)
    with served(create_app(runtime, config).server) as client:
        for _ in range(3):
            assert _sign_in(client, "admin1", "not the password").status_code == 401
        clock.now = BOUNDARY + 1
        limited = _sign_in(client, "admin1", password)
        assert limited.status_code == 429 and limited.headers["retry-after"] == "299"
        clock.now = BOUNDARY + 300
        assert _sign_in(client, "admin1", password).status_code == 303


def _sign_in(client: TestClient, name: str, password: str) -> httpx.Response:
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert csrf is not None
    return client.post("/login", data={"csrf": csrf.group(1), "name": name, "password": password},
                       follow_redirects=False)


def test_without_a_clock_of_their_own_the_limits_read_the_runtimes(runtime: Runtime, county: str) -> None:
    moment = [datetime.fromtimestamp(BOUNDARY - 1, UTC)]
    runtime.clock = lambda: moment[0]
    with served(create_app(runtime, SecurityConfig(api=Limit(1, 60))).server) as client:
        as_role(client, runtime, Role.leader)
        assert client.get("/api/live/state").status_code == 200
        moment[0] += timedelta(seconds=2)
        limited = client.get("/api/live/state")
        assert limited.status_code == 429 and limited.headers["retry-after"] == "59"
        moment[0] += timedelta(seconds=59)
        assert client.get("/api/live/state").status_code == 200
