"""Ingest API on both backends: happy paths, refusals that leave no trace, idempotency."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from dashboard.domain.periods import Period, local_date
from dashboard.runtime import Runtime
from app import create_app
from data_access import cases, figure_queries
from tests.dashboard.auth_support import new_source_token

GRID = "990101001001001"


@pytest.fixture
def api(runtime: Runtime, county: str) -> TestClient:
    client = TestClient(create_app(runtime).server)
    client.headers["Authorization"] = f"Bearer {new_source_token(runtime, '12345热线')}"
    return client


def _case(ref: str = "H-1", **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "external_ref": ref, "category": "labour_wages",
        "received_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "location": {"grid_code": GRID}, "people_involved": 3, "description": "讨要工资",
    }
    body.update(extra)
    return body


def _count(runtime: Runtime, county: str) -> int:
    with runtime.sessions() as session:
        return cases.count(session, county)


def test_post_case_then_repeat_is_idempotent(api: TestClient, runtime: Runtime, county: str) -> None:
    first = api.post("/api/cases", json=_case())
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["source"] == "hotline_12345" and body["status"] == "received" and body["alert"]["level"] == "blue"
    again = api.post("/api/cases", json=_case())
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert _count(runtime, county) == 1


def test_point_is_assigned_to_its_grid_and_outside_is_refused(api: TestClient, runtime: Runtime, county: str) -> None:
    inside = api.post("/api/cases", json=_case("P-1", location={"lon": 127.05, "lat": 44.05}))
    assert inside.status_code == 201 and inside.json()["grid_code"] == GRID
    outside = api.post("/api/cases", json=_case("P-2", location={"lon": 116.4, "lat": 39.9}))
    assert outside.status_code == 422
    assert outside.json()["errors"][0] == {"code": "outside_county", "field": "location",
                                           "message": "the point lies outside every grid of the county"}
    assert _count(runtime, county) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "alien_abduction"}, "category"),
        ({"received_at": "2026-11-22T09:00:00"}, "received_at"),
        ({"people_involved": 0}, "people_involved"),
        ({"location": {"lon": 127.05}}, "location"),
        ({"location": {"grid_code": "000"}}, "grid_code"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_case_is_refused_with_a_clear_error(api: TestClient, runtime: Runtime, county: str,
                                                  change: dict, field: str) -> None:
    response = api.post("/api/cases", json=_case(**change))
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert any(field in (e["field"] or "") for e in errors), errors
    assert _count(runtime, county) == 0


def test_token_is_required(api: TestClient) -> None:
    anonymous = api.post("/api/cases", json=_case(), headers={"Authorization": ""})
    assert anonymous.status_code == 401 and anonymous.json()["errors"][0]["code"] == "unauthenticated"
    forged = api.post("/api/cases", json=_case(), headers={"Authorization": "Bearer mct_forged"})
    assert forged.status_code == 401


def test_case_moves_through_the_loop_and_refuses_a_skip(api: TestClient, runtime: Runtime, county: str) -> None:
    case_id = api.post("/api/cases", json=_case()).json()["id"]
    skipped = api.post(f"/api/cases/{case_id}/events", json={"action": "resolve", "actor": "调解员"})
    assert skipped.status_code == 409 and skipped.json()["errors"][0]["code"] == "invalid_transition"
    for action in ("assess", "dispatch", "mediate", "supervise"):
        assert api.post(f"/api/cases/{case_id}/events", json={"action": action, "actor": "值班员"}).status_code == 201
    done = api.post(f"/api/cases/{case_id}/events", json={"action": "resolve", "actor": "调解员", "outcome": "已支付"})
    assert done.status_code == 201 and done.json()["events"][-1]["action"] == "resolve"
    body = api.get(f"/api/cases/{case_id}").json()
    assert body["status"] == "resolved" and body["supervised"] and body["alert"] is None
    assert [e["action"] for e in body["events"]] == ["receive", "assess", "dispatch", "mediate", "supervise", "resolve"]
    assert api.get("/api/cases/999999").status_code == 404
    missing = api.post("/api/cases/999999/events", json={"action": "assess", "actor": "值班员"})
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "case_id"


def test_alerts_are_ordered_by_level_with_reasons(api: TestClient) -> None:
    api.post("/api/cases", json=_case("A-1"))
    api.post("/api/cases", json=_case("A-2", people_involved=40))
    api.post("/api/cases", json=_case("A-3", repeat_petition=True))
    alerts = api.get("/api/alerts").json()
    assert [a["alert"]["level"] for a in alerts] == ["red", "orange"]
    assert alerts[0]["alert"]["reasons"][0] == {"code": "people_red", "text": "涉及30人以上"}


def test_figures_endpoint_equals_sql(api: TestClient, runtime: Runtime, county: str) -> None:
    for n in range(6):
        case_id = api.post("/api/cases", json=_case(f"F-{n}")).json()["id"]
        if n % 2:
            for action in ("assess", "dispatch", "mediate", "resolve"):
                api.post(f"/api/cases/{case_id}/events", json={"action": action, "actor": "调解员"})
    today = local_date(datetime.now(UTC))
    period = Period(today - timedelta(days=6), today)
    body = api.get("/api/figures", params={"area": county, "from": period.first.isoformat(),
                                           "to": period.last.isoformat()}).json()
    with runtime.sessions() as session:
        sql = figure_queries.period_counts(session, county_code=county, start=period.start, end=period.end)
        now = figure_queries.instant_counts(session, county_code=county, now=datetime.now(UTC))
    assert (body["period"]["received"], body["period"]["closed"]) == (sql.received, sql.closed) == (6, 3)
    assert body["period"]["closure_rate"] == 50.0
    assert body["now"]["open"] == now.open == 3
    assert body["previous_period"]["to"] == (period.first - timedelta(days=1)).isoformat()
    missing = api.get("/api/figures", params={"area": "123", "from": "2026-01-01", "to": "2026-01-02"})
    assert missing.status_code == 404
    backwards = api.get("/api/figures", params={"area": county, "from": date(2026, 2, 1).isoformat(), "to": "2026-01-01"})
    assert backwards.status_code == 422


def test_one_post_uses_one_database_session_and_computes_the_alert_once(
    runtime: Runtime, county: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The route, its token look-up, the grid look-up, the write and the answer share the request's
    session; the alert the write stored is the one answered. (Mounted without the access gate, so
    the route looks the token up itself; ``test_request_session`` counts the same post through the
    whole app, gate included.)"""
    from fastapi import FastAPI

    from dashboard.api import errors, ingest
    from dashboard.cases import casework

    server = FastAPI()
    errors.install_error_handlers(server)
    server.include_router(ingest.build_ingest_api(runtime))
    client = TestClient(server)
    client.headers["Authorization"] = f"Bearer {new_source_token(runtime, '12345热线')}"
    service, real, opened, alerts = runtime.cases, runtime.sessions, [], []

    def counting() -> object:
        opened.append(1)
        return real()

    for module in (ingest, casework):
        monkeypatch.setattr(module, "case_alert",
                            lambda *a, _f=module.case_alert, **k: alerts.append(1) or _f(*a, **k))
    monkeypatch.setitem(runtime.__dict__, "sessions", counting)
    monkeypatch.setattr(service, "sessions", counting)
    response = client.post("/api/cases", json=_case("S-1", location={"lon": 127.05, "lat": 44.05}, people_involved=40))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["alert"]["level"] == "red" and [e["action"] for e in body["events"]] == ["receive"]
    assert (len(opened), len(alerts)) == (1, 1)
    assert _count(runtime, county) == 1


def test_an_event_dated_in_the_future_is_refused_and_leaves_the_case_movable(
    api: TestClient, runtime: Runtime, county: str
) -> None:
    """A source's clock may run a little ahead; a date like 9999-01-01 would freeze the case, since
    no later action may predate it."""
    case_id = api.post("/api/cases", json=_case("T-1")).json()["id"]
    far = api.post(f"/api/cases/{case_id}/events", json={"action": "assess", "actor": "研判员", "at": "9999-01-01T00:00:00+08:00"})
    assert far.status_code == 422 and far.json()["errors"][0]["field"] == "at", far.text
    ahead = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert api.post(f"/api/cases/{case_id}/events", json={"action": "assess", "actor": "研判员", "at": ahead}).status_code == 422
    skewed = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    assert api.post(f"/api/cases/{case_id}/events", json={"action": "assess", "actor": "研判员", "at": skewed}).status_code == 201
    before = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    refused = api.post(f"/api/cases/{case_id}/events", json={"action": "dispatch", "actor": "调度", "at": before})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "at", refused.text
    with runtime.sessions() as session:
        assert [e.action for e in cases.get(session, case_id).events] == ["receive", "assess"]  # type: ignore[union-attr]


@pytest.mark.parametrize(("start", "end"), [("0001-01-01", "0001-12-31"), ("9999-01-01", "9999-12-31"),
                                            ("1999-12-31", "2000-01-30")])
def test_figures_for_dates_outside_the_supported_range_are_refused(api: TestClient, county: str, start: str,
                                                                  end: str) -> None:
    response = api.get("/api/figures", params={"area": county, "from": start, "to": end})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] in ("from", "to")


@pytest.mark.parametrize("any_case", [False, True])
def test_a_source_moves_only_the_cases_it_reported_unless_configured(
    runtime: Runtime, county: str, monkeypatch: pytest.MonkeyPatch, any_case: bool
) -> None:
    monkeypatch.setattr(runtime, "settings", replace(runtime.settings, sources_act_on_any_case=any_case))
    hotline, app_ = (TestClient(create_app(runtime).server) for _ in range(2))
    hotline.headers["Authorization"] = f"Bearer {new_source_token(runtime, '12345热线')}"
    app_.headers["Authorization"] = f"Bearer {new_source_token(runtime, '市民APP', 'online')}"
    case_id = hotline.post("/api/cases", json=_case("S-1")).json()["id"]
    moved = app_.post(f"/api/cases/{case_id}/events", json={"action": "assess", "actor": "别人"})
    assert moved.status_code == (201 if any_case else 403), moved.text
    with runtime.sessions() as session:
        events = [e.action for e in cases.get(session, case_id).events]  # type: ignore[union-attr]
    assert events == (["receive", "assess"] if any_case else ["receive"])
    assert hotline.post(f"/api/cases/{case_id}/events", json={"action": "dispatch" if any_case else "assess",
                                                             "actor": "自己"}).status_code == 201
