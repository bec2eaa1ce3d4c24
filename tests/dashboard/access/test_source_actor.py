"""Issue 18 item 5, last bullet: a source system's ``actor`` is kept in the case's event as it was
given, but the audit entry names the authenticated client (its token's name), never the given actor:
a source can write any name into ``actor``, and the audit log must still say who really acted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app import create_app
from dashboard.runtime import Runtime
from data_access import audit, duty_queries
from tests.dashboard.auth_support import new_source_token, served
from tests.factories import GRID_CODES

CLAIMED = "县委书记"


@pytest.fixture
def app_client(runtime: Runtime, county: str) -> Iterator[TestClient]:
    with served(create_app(runtime).server) as client:
        yield client


def test_the_event_keeps_the_given_actor_and_the_audit_names_the_client(runtime: Runtime,
                                                                         app_client: TestClient) -> None:
    bearer = {"Authorization": f"Bearer {new_source_token(runtime, '12345热线平台', 'hotline_12345')}"}
    body = {"external_ref": "H-1", "category": "labour_wages", "location": {"grid_code": GRID_CODES[0]},
            "received_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}
    case_id = app_client.post("/api/cases", json=body, headers=bearer).json()["id"]
    for action in ("acknowledge", "assess", "supervise"):
        response = app_client.post(f"/api/cases/{case_id}/events", headers=bearer,
                                   json={"action": action, "actor": CLAIMED, "note": "请加快办理"})
        assert response.status_code == 201, response.text
    with runtime.sessions() as session:
        events = [(e.action, e.actor) for e in duty_queries.timeline(session, case_id)]
        entries = [(e.actor, e.role, e.action, e.target, audit.detail_of(e)) for e in reversed(audit.page(session))]
    assert events[1:] == [("acknowledge", CLAIMED), ("assess", CLAIMED), ("supervise", CLAIMED)], \
        "the event log keeps the actor as the source gave it"
    assert [e[:4] for e in entries] == [("12345热线平台", "api_client", a, f"case:{case_id}")
                                        for a in ("acknowledge", "assess", "supervise")], \
        "every move a source makes is audited, not only the console's actions"
    assert all(e[4]["by"] == CLAIMED for e in entries), "the given actor is kept in the entry's detail"
    assert all(e[0] != CLAIMED for e in entries), "the audit entry never names the given actor as who acted"
