"""Sign-in, sessions, the route × role table, CSRF, security headers and rate limits, on both backends."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from dash import Input, Output
from fastapi.testclient import TestClient

from dashboard.access.auth import RULES, Role, callback_roles, current_csrf_token, current_user, rule_for
from dashboard.access.login_page import safe_next
from dashboard.runtime import Runtime
from dashboard.access.cookies import DISPLAY_COOKIE, DISPLAY_MAX_AGE, SESSION_COOKIE
from dashboard.access.csrf import CSRF_COOKIE
from dashboard.access.rate_limits import Backoff, Limit
from dashboard.access.security import SecurityConfig
from app import create_app
from data_access import audit
from tests.dashboard.auth_support import as_role, as_screen, new_screen, new_source_token, new_user, served

GRID = "990101001001001"
PAGE, API = "page", "api"
WALL = {Role.screen, Role.leader, Role.duty_officer, Role.admin}
TABLET = {Role.leader, Role.duty_officer, Role.admin}
DUTY = {Role.duty_officer, Role.admin}
ADMIN = {Role.admin}
READERS = {Role.api_client, Role.leader, Role.duty_officer, Role.admin}
EVERYONE = {None, *Role}
PINNED = 1_800_000_030.0
"""A pinned clock for the test that moves time; the others run on the wall clock, which a moving
window makes safe: no window rolls over between two requests."""

ROUTES: list[tuple[str, str, str, set[Role | None]]] = [
    ("GET", "/", PAGE, WALL),
    ("GET", "/screen", PAGE, WALL),
    ("GET", "/anything/else", PAGE, WALL),
    ("GET", "/tablet", PAGE, TABLET),
    ("GET", "/duty", PAGE, DUTY),
    ("GET", "/admin/audit", PAGE, ADMIN),
    ("GET", "/api/audit", API, ADMIN),
    ("GET", "/_dash-layout", API, WALL),
    ("GET", "/_dash-dependencies", API, WALL),
    ("GET", "/_reload-hash", API, WALL),
    ("GET", "/api/live/state", API, WALL),
    ("GET", "/api/live/poll", API, WALL),
    ("GET", "/api/geo/grids.geojson", API, WALL | {Role.api_client}),
    ("GET", "/api/cases/1", API, READERS),
    ("GET", "/api/alerts", API, READERS),
    ("GET", "/api/figures?area=990101&from=2026-01-01&to=2026-01-31", API, READERS),
    ("POST", "/api/cases", API, {Role.api_client}),
    ("POST", "/api/cases/1/events", API, {Role.api_client}),
    ("POST", "/api/cases/1/reveal", API, {Role.duty_officer}),
    ("GET", "/api/status", API, EVERYONE),
    ("GET", "/open311/v2/services.json", API, EVERYONE),
    ("GET", "/open311/v2/requests.json", API, EVERYONE),
    ("GET", "/login", PAGE, EVERYONE),
    ("GET", "/assets/wall.css", API, EVERYONE),
]


def admitted(response: object) -> bool:
    """Let through the gate: not sent to sign in, not refused (the page itself is Dash's business,
    and Dash serves pages other than / only once the app's lifespan has run)."""
    return response.status_code not in (303, 401, 403)  # type: ignore[attr-defined]


@pytest.fixture
def app_client(runtime: Runtime, county: str) -> Iterator[TestClient]:
    with served(create_app(runtime).server) as client:
        yield client


def _client_as(runtime: Runtime, client: TestClient, county: str, role: Role | None) -> TestClient:
    if role is Role.api_client:
        client.headers["Authorization"] = f"Bearer {new_source_token(runtime)}"
    elif role is Role.screen:
        as_screen(client, new_screen(runtime, county))
    elif role is not None:
        as_role(client, runtime, role)
    return client


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "nobody")
def test_every_route_admits_exactly_its_roles(runtime: Runtime, county: str, app_client: TestClient,
                                              role: Role | None) -> None:
    client = _client_as(runtime, app_client, county, role)
    wrong: list[str] = []
    for method, path, kind, allowed in ROUTES:
        response = client.request(method, path, json={} if method == "POST" else None, follow_redirects=False)
        if role in allowed:
            ok = response.status_code not in (401, 403) and not (
                response.status_code == 303 and response.headers["location"].startswith("/login"))
        elif role is None:
            ok = (response.status_code == 303 and response.headers["location"].startswith("/login?next=")) \
                if kind == PAGE else response.status_code == 401
        elif kind == PAGE:  # a source system's token is no browser session: it is sent to sign in
            ok = response.status_code == 403 or (role is Role.api_client and response.status_code == 303)
        else:
            ok = response.status_code in (401, 403)
        if not ok:
            wrong.append(f"{method} {path}: {response.status_code}")
        if kind == API and response.status_code in (401, 403):
            assert set(response.json()["errors"][0]) == {"code", "field", "message"}
    assert wrong == []


def test_the_route_table_ends_with_the_wall_for_unknown_pages() -> None:
    assert rule_for("GET", "/no/such/page") is RULES[-1]
    assert RULES[-1].roles == frozenset(WALL) and RULES[-1].kind == PAGE


def test_unauthenticated_page_redirects_to_sign_in_and_comes_back(runtime: Runtime, app_client: TestClient) -> None:
    response = app_client.get("/duty?lang=en", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Fduty%3Flang%3Den"
    password = new_user(runtime, "值班员甲", Role.duty_officer)
    form = app_client.get(response.headers["location"])
    assert "指挥中心登录" in form.text and 'value="/duty?lang=en"' in form.text
    signed = _submit(app_client, form.text, "值班员甲", password, next_path="/duty?lang=en")
    assert signed.status_code == 303 and signed.headers["location"] == "/duty?lang=en"
    assert admitted(app_client.get("/duty", follow_redirects=False))


def _submit(client: TestClient, page: str, name: str, password: str, next_path: str = "/") -> object:
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    lang = re.search(r'name="lang" value="([^"]+)"', page)
    assert csrf is not None and lang is not None
    return client.post("/login", data={"csrf": csrf.group(1), "name": name, "password": password, "next": next_path,
                                       "lang": lang.group(1)}, follow_redirects=False)


def test_sign_in_success_sets_a_server_side_session_and_is_audited(runtime: Runtime, app_client: TestClient) -> None:
    password = new_user(runtime, "leader1", Role.leader)
    response = _submit(app_client, app_client.get("/login").text, "leader1", password)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith(f"{SESSION_COOKIE}="))
    attributes = {part.strip().lower() for part in session_cookie.split(";")[1:]}
    assert {"httponly", "path=/", "samesite=lax"} <= attributes and "secure" not in attributes
    session_id = session_cookie.split(";")[0].split("=", 1)[1]
    assert len(session_id) >= 40
    assert not any(session_id.encode() in key for key in runtime.redis.scan_iter(match="*auth:session*"))
    assert admitted(app_client.get("/tablet", follow_redirects=False))
    assert app_client.get("/duty", follow_redirects=False).status_code == 403
    with runtime.sessions() as session:
        entry = audit.page(session, action="sign_in")[0]
    assert (entry.actor, entry.role, entry.target) == ("leader1", "leader", "user:leader1")


@pytest.mark.parametrize("name", ["leader1", "nobody-here"])
def test_sign_in_failure_is_refused_and_audited(runtime: Runtime, app_client: TestClient, name: str) -> None:
    new_user(runtime, "leader1", Role.leader)
    response = _submit(app_client, app_client.get("/login?lang=en").text, name, "wrong password 123")
    assert response.status_code == 401 and "Wrong user name or password." in response.text
    assert not any(c.startswith(SESSION_COOKIE) for c in response.headers.get_list("set-cookie"))
    assert app_client.get("/", follow_redirects=False).status_code == 303
    with runtime.sessions() as session:
        assert [e.actor for e in audit.page(session, action="sign_in_failed")] == [name]


def test_sign_in_is_rate_limited(runtime: Runtime, county: str) -> None:
    config = SecurityConfig(login_per_ip=Limit(100, 300), login_lockout=Backoff(free=3, base=300))
    password = new_user(runtime, "admin1", Role.admin)
    with served(create_app(runtime, config).server) as client:
        for _ in range(3):
            assert _submit(client, client.get("/login").text, "admin1", "not the password").status_code == 401
        limited = _submit(client, client.get("/login").text, "admin1", password)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
        assert "请" in limited.text and "秒后再试" in limited.text
        assert client.get("/admin/audit", follow_redirects=False).status_code == 303


def test_login_form_without_its_csrf_token_is_refused(runtime: Runtime, app_client: TestClient) -> None:
    password = new_user(runtime, "admin1", Role.admin)
    app_client.get("/login")
    forged = app_client.post("/login", data={"csrf": "forged-token-forged-token", "name": "admin1",
                                             "password": password}, follow_redirects=False)
    assert forged.status_code == 403
    assert not any(c.startswith(SESSION_COOKIE) for c in forged.headers.get_list("set-cookie"))


def test_session_posts_need_the_csrf_header(runtime: Runtime, county: str, app_client: TestClient) -> None:
    csrf = as_role(app_client, runtime, Role.duty_officer)
    del app_client.headers["X-CSRFToken"]
    refused = app_client.post("/api/cases/1/reveal", json={})
    assert refused.status_code == 403 and refused.json()["errors"][0]["code"] == "csrf"
    wrong = app_client.post("/api/cases/1/reveal", json={}, headers={"X-CSRFToken": csrf[::-1]})
    assert wrong.status_code == 403
    assert app_client.post("/api/cases/1/reveal", json={}, headers={"X-CSRF-Token": csrf}).status_code == 404
    callback = app_client.post("/_dash-update-component", json={})
    assert callback.status_code == 403


def test_sign_out_ends_the_session(runtime: Runtime, app_client: TestClient) -> None:
    csrf = as_role(app_client, runtime, Role.admin, name="admin1")
    assert app_client.get("/admin/audit").status_code == 200
    assert app_client.post("/logout", data={"csrf": "wrong"}, follow_redirects=False).status_code == 403
    out = app_client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"].startswith("/login")
    cleared = _cookies(out)
    assert set(cleared) == {SESSION_COOKIE, CSRF_COOKIE, DISPLAY_COOKIE}
    for value, attributes in cleared.values():
        assert value in ("", '""') and {"max-age=0", "httponly", "path=/", "samesite=lax"} <= attributes
    assert app_client.get("/admin/audit", follow_redirects=False).status_code == 303
    with runtime.sessions() as session:
        assert audit.page(session, action="sign_out")[0].actor == "admin1"


def _cookies(response: httpx.Response) -> dict[str, tuple[str, set[str]]]:
    """Each ``Set-Cookie`` of a response: name → (value, attributes in lower case)."""
    cookies = {}
    for header in response.headers.get_list("set-cookie"):
        pair, *attributes = header.split(";")
        name, _, value = pair.partition("=")
        cookies[name] = (value, {a.strip().lower() for a in attributes})
    return cookies


def test_cookies_are_secure_over_https_and_a_walls_outlive_the_browser(runtime: Runtime, county: str) -> None:
    server = create_app(runtime).server
    secure = TestClient(server, base_url="https://cc.example")
    password = new_user(runtime, "leader1", Role.leader)
    signed = _cookies(_submit(secure, secure.get("/login").text, "leader1", password))
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= signed[SESSION_COOKIE][1]
    assert "secure" in signed[CSRF_COOKIE][1] and "httponly" not in signed[CSRF_COOKIE][1]
    assert not any(a.startswith("max-age") for a in signed[SESSION_COOKIE][1])  # a person's: the browser's session
    wall = _cookies(TestClient(server).get(f"/screen?token={new_screen(runtime, county)}", follow_redirects=False))
    lasting = f"max-age={DISPLAY_MAX_AGE}"
    assert all(lasting in wall[name][1] for name in (SESSION_COOKIE, CSRF_COOKIE, DISPLAY_COOKIE))
    assert "secure" not in wall[DISPLAY_COOKIE][1] and "httponly" in wall[DISPLAY_COOKIE][1]


def test_screen_token_signs_a_wall_in_without_a_prompt(runtime: Runtime, county: str, app_client: TestClient) -> None:
    token = new_screen(runtime, county)
    response = app_client.get(f"/screen?lang=en&token={token}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/screen?lang=en"
    cookies = response.headers.get_list("set-cookie")
    assert any(c.startswith(f"{DISPLAY_COOKIE}=") and "HttpOnly" in c for c in cookies)
    assert admitted(app_client.get("/screen?lang=en", follow_redirects=False))
    assert app_client.get("/api/live/state").status_code == 200
    assert app_client.get("/tablet", follow_redirects=False).status_code == 403
    other = app_client.get("/api/live/state?county=110101")
    assert other.status_code == 403 and other.json()["errors"][0]["field"] == "county"
    assert TestClient(app_client.app).get("/?token=mcs_" + "x" * 43, follow_redirects=False).status_code == 403


def test_a_wall_whose_session_vanished_signs_in_again_by_itself(runtime: Runtime, county: str,
                                                                app_client: TestClient) -> None:
    app_client.get(f"/?token={new_screen(runtime, county)}", follow_redirects=False)
    for key in runtime.redis.scan_iter(match="*auth:session*"):
        runtime.redis.delete(key)
    again = app_client.get("/api/live/state")
    assert again.status_code == 200
    assert any(c.startswith(f"{SESSION_COOKIE}=") for c in again.headers.get_list("set-cookie"))


def test_security_headers_on_every_kind_of_response(app_client: TestClient) -> None:
    for path in ("/", "/login", "/api/status", "/api/live/state", "/open311/v2/services.json", "/assets/wall.css"):
        headers = app_client.get(path, follow_redirects=False).headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self' 'sha256-" in csp and "unsafe-eval" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"


def test_api_requests_are_rate_limited(runtime: Runtime, county: str) -> None:
    with served(create_app(runtime, SecurityConfig(api=Limit(3, 60))).server) as client:
        as_role(client, runtime, Role.leader)
        codes = [client.get("/api/live/state").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = client.get("/api/alerts")
        assert limited.json()["errors"][0]["code"] == "rate_limited" and "retry-after" in limited.headers
        open311 = TestClient(client.app).get
        for _ in range(3):
            open311("/open311/v2/services.json")
        assert open311("/open311/v2/services.json").json()[0]["code"] == 429


def test_a_rate_limit_lifts_as_its_oldest_request_leaves_the_window(runtime: Runtime, county: str) -> None:
    now = [PINNED]
    with served(create_app(runtime, SecurityConfig(api=Limit(2, 60), clock=lambda: now[0])).server) as client:
        as_role(client, runtime, Role.leader)
        assert client.get("/api/live/state").status_code == 200
        now[0] += 20
        assert [client.get("/api/live/state").status_code for _ in range(2)] == [200, 429]
        now[0] += 39  # 59 s after the first request: it still counts
        limited = client.get("/api/live/state")
        assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
        now[0] += 2  # the first has left the window, the second (20 s later) has not
        assert [client.get("/api/live/state").status_code for _ in range(2)] == [200, 429]
        now[0] += 20  # 61 s after the second
        assert client.get("/api/live/state").status_code == 200


def test_callbacks_know_who_is_asking(runtime: Runtime, county: str) -> None:
    app = create_app(runtime)

    @app.callback(Output("whoami-out", "children"), Input("whoami-in", "value"))
    def whoami(_value: object) -> str:
        user = current_user()
        return f"{user.name}/{user.role.value}/{current_csrf_token()}" if user else "nobody"

    with served(app.server) as client:
        csrf = as_role(client, runtime, Role.duty_officer, name="值班员乙")
        response = client.post("/_dash-update-component", json={
            "output": "whoami-out.children", "outputs": {"id": "whoami-out", "property": "children"},
            "inputs": [{"id": "whoami-in", "property": "value", "value": 1}], "changedPropIds": ["whoami-in.value"],
            "state": []})
    assert response.status_code == 200, response.text
    assert response.json()["response"]["whoami-out"]["children"] == f"值班员乙/duty_officer/{csrf}"
    assert current_user() is None and current_csrf_token() is None


def test_websocket_needs_a_session_and_the_same_origin(runtime: Runtime, county: str, app_client: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect):
        with app_client.websocket_connect("/_dash-ws-callback", headers={"origin": "http://testserver"}):
            pass
    as_role(app_client, runtime, Role.leader)
    with pytest.raises(WebSocketDisconnect):
        with app_client.websocket_connect("/_dash-ws-callback", headers={"origin": "https://evil.example"}):
            pass


@pytest.mark.parametrize(("output", "allowed"), [
    ("wall-page.children", None),
    ("duty-queue.children", frozenset(DUTY)),
    ("..wall-kpis.children...tablet-brief.children..", frozenset(TABLET)),
    ("..duty-queue.children...tablet-brief.children..", frozenset(DUTY)),
    ('{"index":["ALL"],"type":"admin-row"}.children', frozenset(ADMIN)),
    ("duty-revealed.children", frozenset({Role.duty_officer})),
])
def test_callback_outputs_name_the_roles_that_may_run_them(output: str, allowed: frozenset[Role] | None) -> None:
    assert callback_roles(output) == allowed


@pytest.mark.parametrize("role", [Role.screen, Role.leader, Role.duty_officer])
def test_a_duty_callback_runs_only_for_duty_roles(runtime: Runtime, county: str, role: Role) -> None:
    app = create_app(runtime)

    @app.callback(Output("duty-test-out", "children"), Input("duty-test-in", "value"))
    def duty_only(_value: object) -> str:
        return "acted"

    with served(app.server) as client:
        as_role(client, runtime, role, county=county)
        response = client.post("/_dash-update-component", json={
            "output": "duty-test-out.children", "outputs": {"id": "duty-test-out", "property": "children"},
            "inputs": [{"id": "duty-test-in", "property": "value", "value": 1}],
            "changedPropIds": ["duty-test-in.value"], "state": []})
    if role in DUTY:
        assert response.status_code == 200 and "acted" in response.text
    else:
        assert response.status_code == 403 and response.json()["errors"][0]["field"] == "output"


@pytest.mark.parametrize(("given", "kept"), [
    ("/duty?lang=en", "/duty?lang=en"), ("https://evil.example/", "/"), ("//evil.example", "/"),
    ("/\t/evil.example", "/"), ("/\\evil.example", "/"), ("", "/"), (None, "/"), ("/login?next=/x", "/"),
])
def test_sign_in_only_returns_to_pages_of_this_site(given: str | None, kept: str) -> None:
    assert safe_next(given) == kept
