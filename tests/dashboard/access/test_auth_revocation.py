"""Revocation takes effect at the next request: a revoked wall, a disabled user, a revoked source system;
each by a CLI command that writes the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from dashboard.cli import app as cli

from dashboard.api import live as live_api
from dashboard.access.auth import Role
from dashboard.runtime import Runtime
from dashboard.access.security import DISPLAY_COOKIE, SESSION_COOKIE
from app import create_app
from data_access import audit, users
from tests.dashboard.auth_support import as_role, new_screen, new_source_token, new_user, served
from tests.dashboard.access.test_auth import _submit

GRID = "990101001001001"


@pytest.fixture
def app_client(runtime: Runtime, county: str) -> Iterator[TestClient]:
    with served(create_app(runtime).server) as client:
        yield client


def _cli(runtime: Runtime, *argv: str) -> int:
    return cli.run(argv, runtime)


def _audited(runtime: Runtime, action: str) -> list[tuple[str, str]]:
    with runtime.sessions() as session:
        return [(e.target, e.role) for e in audit.page(session, action=action)]


def test_a_revoked_wall_is_signed_out_at_its_next_request(runtime: Runtime, county: str,
                                                           app_client: TestClient) -> None:
    token = new_screen(runtime, county, name="大厅主屏")
    app_client.get(f"/screen?token={token}", follow_redirects=False)
    assert app_client.get("/api/live/state").status_code == 200
    assert _cli(runtime, "screens", "revoke", "大厅主屏") == 0
    refused = app_client.get("/api/live/state")
    assert refused.status_code == 401
    cleared = refused.headers.get_list("set-cookie")
    assert any(c.startswith(f"{SESSION_COOKIE}=") and "Max-Age=0" in c for c in cleared)
    assert any(c.startswith(f"{DISPLAY_COOKIE}=") and "Max-Age=0" in c for c in cleared)
    fresh = TestClient(app_client.app)
    assert fresh.get(f"/screen?token={token}", follow_redirects=False).status_code == 403
    assert _audited(runtime, "screen_revoke") == [("screen:大厅主屏", "cli")]


def test_a_disabled_user_is_signed_out_and_cannot_sign_in_again(runtime: Runtime, app_client: TestClient) -> None:
    password = new_user(runtime, "值班员甲", Role.duty_officer)
    assert _submit(app_client, app_client.get("/login").text, "值班员甲", password).status_code == 303
    assert app_client.get("/duty", follow_redirects=False).status_code not in (303, 401, 403)
    assert _cli(runtime, "users", "disable", "值班员甲") == 0
    sent_away = app_client.get("/duty", follow_redirects=False)
    assert sent_away.status_code == 303 and sent_away.headers["location"].startswith("/login")
    assert app_client.post("/api/cases/1/reveal", json={}).status_code == 401
    assert _submit(app_client, app_client.get("/login").text, "值班员甲", password).status_code == 401
    assert _audited(runtime, "user_disable") == [("user:值班员甲", "cli")]


def test_a_session_whose_role_changed_is_refused(runtime: Runtime, app_client: TestClient) -> None:
    as_role(app_client, runtime, Role.admin, name="管理员甲")
    assert app_client.get("/api/audit").status_code == 200
    with runtime.sessions() as session, session.begin():
        user = users.get_user(session, "管理员甲")
        assert user is not None
        user.role = Role.leader.value
    assert app_client.get("/api/audit").status_code == 401


def test_a_revoked_source_system_is_refused_at_its_next_request(runtime: Runtime, county: str,
                                                                app_client: TestClient) -> None:
    token = new_source_token(runtime, "12345热线")
    bearer = {"Authorization": f"Bearer {token}"}

    def post(ref: str) -> int:
        body = {"external_ref": ref, "category": "debt", "location": {"grid_code": GRID},
                "received_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()}
        return app_client.post("/api/cases", json=body, headers=bearer).status_code

    assert post("R-1") == 201
    assert _cli(runtime, "clients", "revoke", "12345热线") == 0
    assert post("R-2") == 401
    assert app_client.get("/api/alerts", headers=bearer).status_code == 401
    open311 = app_client.post("/open311/v2/requests.json", data={"api_key": token, "service_code": "debt",
                                                                  "attribute[grid_code]": GRID})
    assert open311.status_code == 403 and "revoked" in open311.json()[0]["description"]
    assert _audited(runtime, "client_revoke") == [("client:12345热线", "cli")]


@pytest.mark.parametrize("argv", [("screens", "revoke"), ("users", "disable"), ("clients", "revoke")],
                         ids=lambda a: " ".join(a))
def test_revoking_twice_or_an_unknown_name(runtime: Runtime, county: str, argv: tuple[str, str]) -> None:
    new_screen(runtime, county, name="x-wall")
    new_user(runtime, "x-user", Role.leader)
    new_source_token(runtime, "x-client")
    name = {"screens": "x-wall", "users": "x-user", "clients": "x-client"}[argv[0]]
    assert _cli(runtime, *argv, "nobody") == 2
    assert _cli(runtime, *argv, name) == 0
    assert _cli(runtime, *argv, name) == 0
    with runtime.sessions() as session:
        assert audit.count(session) == 1, "only the change is logged"


def test_while_the_database_is_away_an_open_session_stands(runtime: Runtime, county: str, app_client: TestClient,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Open walls keep their figures through a database outage; the check resumes when it returns."""
    app_client.get(f"/?token={new_screen(runtime, county)}", follow_redirects=False)

    def away(*_args: object) -> bool:
        raise OperationalError("SELECT", {}, ConnectionRefusedError("database stopped"))

    monkeypatch.setattr(users, "screen_is_active", away)
    assert app_client.get("/api/live/state").status_code == 200


def test_a_revoked_walls_open_stream_ends_at_its_next_check(runtime: Runtime, county: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A wall's event stream stays open for days; revoking the wall must end it, not wait for a reconnect."""
    monkeypatch.setattr(live_api, "HEARTBEAT_SECONDS", 0.05)
    monkeypatch.setattr(live_api, "RECHECK_SECONDS", 0.1)
    token = new_screen(runtime, county, name="大厅主屏")
    with TestClient(create_app(runtime).server) as client:
        client.get(f"/screen?token={token}", follow_redirects=False)
        with client.stream("GET", "/api/live/stream") as stream:
            events = []
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    events.append(line[7:])
                if events.count("ping") == 2:
                    assert _cli(runtime, "screens", "revoke", "大厅主屏") == 0
                if len(events) > 200:
                    pytest.fail("the stream outlived the wall's revocation")
        assert events[0] == "full" and events.count("ping") >= 2
        assert client.get("/api/live/state").status_code == 401
