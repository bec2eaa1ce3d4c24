"""Property: any sequence of API calls leaves SQL, the Redis aggregates and /api/figures equal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from dashboard.cases import cache_ops
from dashboard.domain.periods import Period, local_date
from dashboard.runtime import Runtime
from app import create_app
from dashboard.access.tokens import new_token, token_hash
from data_access import api_clients, figure_queries
from data_access.models import Case, CaseEvent
from tests.conftest import clear_namespace
from tests.factories import GRID_CODES

LOOP = ["assess", "dispatch", "mediate", "resolve", "follow_up"]
SIDE_MOVES = ["escalate", "supervise", "reopen", "resolve"]

post = st.tuples(st.just("post"), st.integers(0, 5), st.sampled_from(GRID_CODES), st.sampled_from([1, 3, 12, 40]),
                 st.integers(0, 72))
advance = st.tuples(st.just("advance"), st.integers(0, 5), st.integers(1, 5), st.just(0), st.just(0))
side = st.tuples(st.just("side"), st.integers(0, 5), st.sampled_from(SIDE_MOVES), st.just(0), st.just(0))
calls = st.lists(st.one_of(post, post, advance, side), min_size=1, max_size=25)


def _reset(rt: Runtime) -> None:
    with rt.sessions() as session, session.begin():
        session.execute(delete(CaseEvent))
        session.execute(delete(Case))
    clear_namespace(rt.redis)


def _next_moves(client: TestClient, case_id: int, steps: int) -> list[str]:
    """The next ``steps`` moves along the loop from the case's current state."""
    status = client.get(f"/api/cases/{case_id}").json()["status"]
    start = {"received": 0, "assessed": 1, "dispatched": 2, "mediating": 3, "resolved": 4}.get(status, 5)
    return LOOP[start : start + steps]


@settings(max_examples=25, deadline=None, derandomize=True, print_blob=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=calls)
def test_any_call_sequence_keeps_every_figure_equal(runtime: Runtime, county: str, sequence: list) -> None:
    _reset(runtime)
    with runtime.sessions() as session, session.begin():
        if api_clients.get_by_name(session, "prop") is None:
            token = new_token()
            api_clients.create(session, name="prop", source="grid_report", token_hash=token_hash(token), now=datetime.now(UTC))
            runtime.__dict__["prop_token"] = token
    client = TestClient(create_app(runtime).server)
    client.headers["Authorization"] = f"Bearer {runtime.__dict__['prop_token']}"
    now = datetime.now(UTC)
    ids: dict[int, int] = {}
    for kind, ref, what, people, hours_ago in sequence:
        if kind == "post":
            body = {"external_ref": f"p-{ref}", "category": "neighbour", "location": {"grid_code": what},
                    "received_at": (now - timedelta(hours=hours_ago)).isoformat(), "people_involved": people}
            response = client.post("/api/cases", json=body)
            assert response.status_code in (200, 201), response.text
            ids[ref] = response.json()["id"]
        elif ref in ids:
            moves = [m for m in SIDE_MOVES if m == what] if kind == "side" else _next_moves(client, ids[ref], what)
            for move in moves:
                extra = {"satisfaction": "satisfied" if people % 2 else "dissatisfied"} if move == "follow_up" else {}
                response = client.post(f"/api/cases/{ids[ref]}/events", json={"action": move, "actor": "t", **extra})
                assert response.status_code in (201, 409), response.text

    today = local_date(datetime.now(UTC))
    period = Period(today - timedelta(days=3), today)
    township = GRID_CODES[0][:9]
    for area, level in ((county, None), (township, "township"), (GRID_CODES[0], "grid")):
        api = client.get("/api/figures", params={"area": area, "from": period.first.isoformat(),
                                                 "to": period.last.isoformat()}).json()
        with runtime.sessions() as session:
            where = (level, area) if level else None
            sql = figure_queries.period_counts(session, county_code=county, start=period.start, end=period.end, area=where)
            instant = figure_queries.instant_counts(session, county_code=county, now=datetime.now(UTC), area=where)
        assert {k: api["period"][k] for k in ("received", "closed", "closed_on_time", "followed_up", "satisfied")} == {
            "received": sql.received, "closed": sql.closed, "closed_on_time": sql.closed_on_time,
            "followed_up": sql.followed_up, "satisfied": sql.satisfied}
        assert api["period"]["closure_rate"] == sql.closure_rate
        assert (api["now"]["open"], api["now"]["red"]) == (instant.open, instant.red)
    with runtime.sessions() as session:
        assert cache_ops.reconcile(session, runtime.redis, county, runtime.rules) == []
