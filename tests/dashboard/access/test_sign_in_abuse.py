"""Sign-in abuse (issue 18 item 7): refused attempts are counted, not each audited; lock-out is per
name *and* address with exponential, capped backoff; forwarded headers are believed only from the
proxies the settings name, and then Secure cookies and HSTS follow the caller's original scheme."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import httpx
import pytest
from fastapi.testclient import TestClient

from app import create_app
from dashboard.access.auth import Role
from dashboard.access.cookies import SESSION_COOKIE
from dashboard.access.csrf import LOGIN_CSRF_COOKIE
from dashboard.access.rate_limits import Backoff, Limit
from dashboard.access.security import SecurityConfig
from dashboard.runtime import Runtime
from dashboard.settings import load_settings
from data_access import audit
from tests.dashboard.auth_support import new_user

NOW = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def _client(runtime: Runtime, config: SecurityConfig, ip: str = "10.0.0.5", **options: object) -> TestClient:
    return TestClient(create_app(runtime, config).server, client=(ip, 50000), **options)  # type: ignore[arg-type]


def _sign_in(client: TestClient, name: str, password: str, headers: dict[str, str] | None = None) -> httpx.Response:
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login", headers=headers).text)
    assert csrf is not None
    # Sent by hand: the browser got it over HTTPS (a Secure cookie), this client speaks plain HTTP to the app.
    client.cookies.set(LOGIN_CSRF_COOKIE, csrf.group(1))
    return client.post("/login", data={"csrf": csrf.group(1), "name": name, "password": password},
                       headers=headers, follow_redirects=False)


def _entries(runtime: Runtime, action: str) -> list[dict[str, object]]:
    with runtime.sessions() as session:
        return [{**audit.detail_of(e), "_ip": e.ip, "_actor": e.actor}
                for e in reversed(audit.page(session, action=action, limit=500))]


def test_backoff_doubles_from_the_free_failures_up_to_its_cap() -> None:
    backoff = Backoff(free=3, base=30, cap=900)
    assert [backoff.lock_seconds(n) for n in range(1, 10)] == [0, 0, 30, 60, 120, 240, 480, 900, 900]
    assert backoff.lock_seconds(10_000) == 900


def test_refused_attempts_are_counted_in_one_entry_per_burst(runtime: Runtime, county: str) -> None:
    clock = Clock()
    config = SecurityConfig(login_per_ip=Limit(2, 300), login_lockout=Backoff(free=100), clock=clock)
    password = new_user(runtime, "admin1", Role.admin)
    client = _client(runtime, config)
    for _ in range(2):
        assert _sign_in(client, "admin1", "not the password").status_code == 401
    for _ in range(30):
        assert _sign_in(client, "admin1", password).status_code == 429
    limited = _entries(runtime, "sign_in_limited")
    assert [(e["count"], e["burst"]) for e in limited] == [(1, "started"), (10, "continuing")]
    clock.now += 301  # the window has room again: the next attempt is admitted and ends the burst
    assert _sign_in(client, "admin1", password).status_code == 303
    limited = _entries(runtime, "sign_in_limited")
    assert [(e["count"], e["burst"]) for e in limited] == [(1, "started"), (10, "continuing"), (30, "ended")]
    assert limited[-1]["scope"] == "login-ip" and limited[-1]["_ip"] == "10.0.0.5"
    assert len(_entries(runtime, "sign_in_failed")) == 2


def test_a_stranger_elsewhere_cannot_lock_a_named_officer_out(runtime: Runtime, county: str) -> None:
    config = SecurityConfig(login_per_ip=Limit(100, 300), login_lockout=Backoff(free=3, base=300))
    password = new_user(runtime, "duty1", Role.duty_officer)
    stranger = _client(runtime, config, ip="203.0.113.9")
    codes = [_sign_in(stranger, "duty1", f"guess number {n}").status_code for n in range(8)]
    assert codes == [401, 401, 401, 429, 429, 429, 429, 429]
    assert _sign_in(stranger, "duty1", password).status_code == 429  # locked even with the right password
    officer = _client(runtime, config, ip="10.0.0.5")
    signed_in = _sign_in(officer, "duty1", password)
    assert signed_in.status_code == 303
    assert any(c.startswith(SESSION_COOKIE) for c in signed_in.headers.get_list("set-cookie"))


def test_lockout_backs_off_and_a_success_clears_it(runtime: Runtime, county: str) -> None:
    clock = Clock()
    config = SecurityConfig(login_per_ip=Limit(100, 300), login_lockout=Backoff(free=2, base=10, cap=40),
                            clock=clock)
    password = new_user(runtime, "duty1", Role.duty_officer)
    client = _client(runtime, config)
    assert _sign_in(client, "duty1", "wrong one 1").status_code == 401
    waits = []
    for _ in range(4):  # failures 2, 3, 4, 5 lock for 10, 20, 40, 40 s
        assert _sign_in(client, "duty1", "wrong again").status_code == 401
        locked = _sign_in(client, "duty1", password)
        assert locked.status_code == 429
        waits.append(int(locked.headers["retry-after"]))
        clock.now += waits[-1] - 1
        assert _sign_in(client, "duty1", password).status_code == 429
        clock.now += 1
    assert waits == [10, 20, 40, 40]
    assert _sign_in(client, "duty1", password).status_code == 303
    assert _sign_in(client, "duty1", "wrong after success").status_code == 401  # the count starts again
    failed = _entries(runtime, "sign_in_failed")
    assert [e["failures"] for e in failed] == [1, 2, 3, 4, 5, 1]
    assert [e.get("locked_seconds") for e in failed] == [None, 10, 20, 40, 40, None]


def _behind(runtime: Runtime, trusted: tuple[str, ...], peer: str) -> TestClient:
    runtime.settings = replace(runtime.settings, trusted_proxies=trusted)
    return _client(runtime, SecurityConfig(), ip=peer)


FORWARDED = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}


def test_forwarded_headers_are_ignored_without_trusted_proxies(runtime: Runtime, county: str) -> None:
    password = new_user(runtime, "admin1", Role.admin)
    client = _behind(runtime, (), "127.0.0.1")
    response = _sign_in(client, "admin1", password, headers=FORWARDED)
    assert response.status_code == 303
    assert "strict-transport-security" not in response.headers
    assert not any("secure" in c.lower() for c in response.headers.get_list("set-cookie"))
    assert _entries(runtime, "sign_in")[-1]["_ip"] == "127.0.0.1"


def test_a_trusted_proxy_gives_the_callers_address_and_scheme(runtime: Runtime, county: str) -> None:
    password = new_user(runtime, "admin1", Role.admin)
    client = _behind(runtime, ("127.0.0.1", "10.0.0.0/8"), "10.1.2.3")
    response = _sign_in(client, "admin1", password, headers={**FORWARDED, "X-Forwarded-For": "198.51.100.7, 127.0.0.1"})
    assert response.status_code == 303
    assert response.headers["strict-transport-security"].startswith("max-age=")
    cookies = response.headers.get_list("set-cookie")
    assert cookies and all("secure" in c.lower() for c in cookies)
    assert _entries(runtime, "sign_in")[-1]["_ip"] == "198.51.100.7"


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(runtime: Runtime, county: str) -> None:
    password = new_user(runtime, "admin1", Role.admin)
    client = _behind(runtime, ("127.0.0.1",), "192.0.2.44")
    response = _sign_in(client, "admin1", password, headers=FORWARDED)
    assert response.status_code == 303 and "strict-transport-security" not in response.headers
    assert _entries(runtime, "sign_in")[-1]["_ip"] == "192.0.2.44"


def test_a_stranger_cannot_lock_out_through_a_forged_forwarded_address(runtime: Runtime, county: str) -> None:
    """Behind a trusted proxy the lock-out pairs the name with the caller's forwarded address."""
    runtime.settings = replace(runtime.settings, trusted_proxies=("127.0.0.1",))
    config = SecurityConfig(login_per_ip=Limit(100, 300), login_lockout=Backoff(free=2, base=300))
    password = new_user(runtime, "duty1", Role.duty_officer)
    proxy = _client(runtime, config, ip="127.0.0.1")
    for _ in range(4):
        _sign_in(proxy, "duty1", "stranger's guess", headers={"X-Forwarded-For": "203.0.113.9"})
    assert _sign_in(proxy, "duty1", password, headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 429
    assert _sign_in(proxy, "duty1", password, headers={"X-Forwarded-For": "10.0.0.5"}).status_code == 303


def test_trusted_proxies_are_a_checked_setting(tmp_path: object) -> None:
    assert load_settings({}).trusted_proxies == ()
    assert load_settings({"MEDIATION_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8,::1"}).trusted_proxies == \
        ("127.0.0.1", "10.0.0.0/8", "::1")
    with pytest.raises(ValueError, match="not an IP address"):
        load_settings({"MEDIATION_TRUSTED_PROXIES": "proxy.local"})


def test_sign_in_audit_details_stay_json(runtime: Runtime, county: str) -> None:
    new_user(runtime, "admin1", Role.admin)
    client = _client(runtime, SecurityConfig())
    _sign_in(client, "admin1", "wrong password here")
    with runtime.sessions() as session:
        entry = audit.page(session, action="sign_in_failed")[0]
    assert json.loads(entry.detail) == {"reason": "wrong_password", "failures": 1}
