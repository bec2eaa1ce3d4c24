"""One database session per request through the whole app: the access gate and the route share it.

The gate checks a Bearer token (or a session cookie) in the request's session and the route's
``session_dependency`` reuses that session; a route that never touches the database opens none.
Counted on both backends by wrapping ``Runtime.sessions``, the one factory every session comes from.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import create_app
from dashboard.access.auth import Role
from dashboard.runtime import Runtime
from data_access import cases
from tests.dashboard.auth_support import as_role, new_source_token, served

GRID = "990101001001001"


class Opened(list[Session]):
    """The sessions opened, in order, and which of them were closed."""

    def __init__(self) -> None:
        super().__init__()
        self.closed: list[Session] = []

    def all_closed(self) -> bool:
        return all(any(s is c for c in self.closed) for s in self)


@pytest.fixture
def opened(runtime: Runtime, county: str, monkeypatch: pytest.MonkeyPatch) -> Opened:
    """Every session opened from here on; the case service is built first (it reads the county once
    per process, not per request)."""
    real, counted, service = runtime.sessions, Opened(), runtime.cases

    def counting() -> Session:
        session = real()
        close = session.close

        def closing() -> None:
            counted.closed.append(session)
            close()

        session.close = closing  # type: ignore[method-assign]
        counted.append(session)
        return session

    monkeypatch.setitem(runtime.__dict__, "sessions", counting)
    monkeypatch.setattr(service, "sessions", counting)
    return counted


@pytest.fixture
def client(runtime: Runtime, county: str) -> Iterator[TestClient]:
    with served(create_app(runtime).server) as client:
        yield client


def test_a_case_posted_with_a_bearer_token_uses_one_session(
    client: TestClient, runtime: Runtime, county: str, opened: Opened
) -> None:
    """The gate's token check, the route, its grid look-up, the write and the answer: one session."""
    token = new_source_token(runtime, "12345热线")
    opened.clear()
    body = {"external_ref": "ONE-1", "category": "labour_wages",
            "received_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            "location": {"lon": 127.05, "lat": 44.05}, "people_involved": 3, "description": "讨要工资"}
    response = client.post("/api/cases", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.text
    assert len(opened) == 1 and opened.all_closed()
    with runtime.sessions() as session:
        assert cases.count(session, county) == 1


def test_an_open311_post_uses_one_session(client: TestClient, runtime: Runtime, county: str,
                                          opened: Opened) -> None:
    token = new_source_token(runtime, "市民APP", "online")
    opened.clear()
    form = {"api_key": token, "service_code": "labour_wages", "lat": "44.05", "long": "127.05",
            "description": "工地拖欠三个月工资"}
    response = client.post("/open311/v2/requests.json", data=form)
    assert response.status_code == 201, response.text
    assert len(opened) == 1 and opened.all_closed()


def test_a_refused_token_and_a_route_without_the_database(client: TestClient, opened: Opened) -> None:
    """A refused token costs the gate's one session; a route that never reads the database opens none."""
    refused = client.post("/api/cases", json={}, headers={"Authorization": "Bearer mct_forged"})
    assert refused.status_code == 401 and len(opened) == 1 and opened.all_closed()
    opened.clear()
    assert client.get("/open311/v2/discovery.json").status_code == 200
    assert opened == []


def test_a_signed_in_read_shares_the_session_the_gate_checked_it_in(
    client: TestClient, runtime: Runtime, county: str, opened: Opened
) -> None:
    """A leader's session cookie is checked against the database (still active?) in the session the
    route then reads the alerts in."""
    as_role(client, runtime, Role.leader)
    opened.clear()
    response = client.get("/api/alerts")
    assert response.status_code == 200, response.text
    assert len(opened) == 1 and opened.all_closed()


@pytest.mark.parametrize(("role", "path"), [
    (Role.leader, "/api/status"),
    (Role.screen, "/api/geo/grids.geojson"),
    (Role.admin, "/api/audit"),
    (Role.admin, "/admin/audit"),
])
def test_status_geometry_and_audit_reads_share_the_gates_session(
    client: TestClient, runtime: Runtime, county: str, opened: Opened, role: Role, path: str
) -> None:
    as_role(client, runtime, role, county=county)
    opened.clear()
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert len(opened) == 1 and opened.all_closed()
