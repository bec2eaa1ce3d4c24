"""A city's live screen: its state is its counties' combined, a case in one county changes only
that county's cells in the city's delta, and the counties that did not change are not re-read."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from fastapi.testclient import TestClient

from app import create_app
from dashboard.access.auth import Role
from dashboard.domain.figure_text import count_text, rate_text
from dashboard.domain.periods import local_date, named_period
from dashboard.live.live_hub import LiveHub, ScreenKey
from dashboard.live.live_state import state_delta
from dashboard.runtime import Runtime
from dashboard.screens.wall_service import SnapshotCache
from tests.dashboard.auth_support import as_role
from tests.dashboard.screens.region_support import CITY, ELSEWHERE, NOW, PROVINCE, history, import_city, sql_instant, sql_period
from tests.factories import draft

KEY: ScreenKey = (CITY, CITY, "30d", "zh")


def _league(state: dict[str, object]) -> dict[str, int]:
    """County name → its row index in the league cells."""
    cells = state["cells"]
    assert isinstance(cells, dict)
    return {cells[f"league-{i}-name"]["children"]: i for i in range(10) if f"league-{i}-name" in cells}


def test_a_case_in_one_county_changes_only_its_cells_in_the_city_state(runtime: Runtime, county: str) -> None:
    counties = import_city(runtime)
    for seed, code in enumerate([*counties, ELSEWHERE]):
        history(runtime, code, cases=12 + 4 * seed, seed=seed)
    hub = LiveHub(runtime, SnapshotCache(runtime), build="b1", clock=lambda: NOW)
    before = hub._compute_now(KEY)
    period = named_period("30d", local_date(NOW))
    with runtime.sessions() as session:
        now = sql_instant(session, counties, NOW)
        month = sql_period(session, counties, period.start, period.end)
        rates = {c: sql_period(session, [c], period.start, period.end).closure_rate for c in counties}
    assert before["kpis"]["open"] == count_text(now.open) and before["kpis"]["overdue"] == count_text(now.overdue)
    assert before["kpis"]["closure_rate_30d"] == rate_text(month.closure_rate)
    assert before["cells"]["kpi-received_period"] == {"children": count_text(month.received)}
    assert set(before["values"]) == set(counties), "the city's map colours its counties"
    names = {c: f"县{c}" for c in counties[1:]}
    league = _league(before)
    assert set(league) >= set(names.values()) and len(league) == len(counties)
    assert before["cells"]["_tour"]["order"], "the tour moves among the counties"
    assert set(before["cells"]["_tour"]["order"]) <= set(counties)

    again = hub._compute_now(KEY)
    assert again is before, "nothing changed: the state is not recomputed"

    # The county last in the league (the lowest closure rate) gets one more open case: it stays last.
    last = max(league, key=lambda name: league[name])
    worst = next(c for c in counties if last in (f"县{c}", "测试县") and (c == county) == (last == "测试县"))
    assert rates[worst] is not None
    kept = {c: part for (c, _), (_, part) in hub.regions._parts.items()}
    base = draft(500, NOW - timedelta(hours=1))
    hub.rt.case_service(worst).submit(replace(base, grid_code=worst + base.grid_code[6:], external_ref="live-1"),
                                      actor="窗口", now=NOW)
    after = hub._compute_now(KEY)
    delta = state_delta(before, after)
    assert set(delta["values"]) == {worst}, "only the changed county's map value travels"
    assert delta["values"][worst][1] == before["values"][worst][1] + 1
    row = _league(after)[last]
    assert _league(after) == league, "the order of the league held"
    league_cells = {cell for cell in delta["cells"] if cell.startswith("league-")}
    assert league_cells and all(cell.startswith(f"league-{row}") for cell in league_cells), league_cells
    assert delta["kpis"]["open"] == count_text(now.open + 1)
    rereads = {c for (c, _), (_, part) in hub.regions._parts.items() if part is not kept[c]}
    assert rereads == {worst}, "the other counties' panels were not read again"


def test_province_state_and_the_live_api_for_a_region(runtime: Runtime, county: str) -> None:
    counties = import_city(runtime)
    for seed, code in enumerate([*counties, ELSEWHERE]):
        history(runtime, code, cases=8, seed=seed)
    runtime.clock = lambda: NOW
    hub = LiveHub(runtime, SnapshotCache(runtime), build="b1", clock=lambda: NOW)
    province = hub._compute_now((PROVINCE, PROVINCE, "30d", "zh"))
    assert set(province["values"]) == {CITY, "990200"}
    with runtime.sessions() as session:
        assert province["kpis"]["open"] == count_text(sql_instant(session, [*counties, ELSEWHERE], NOW).open)

    client = TestClient(create_app(runtime).server)
    as_role(client, runtime, Role.leader, county=CITY, name="city-leader")
    body = client.get("/api/live/state", params={"area": CITY})
    assert body.status_code == 200, body.text
    assert set(body.json()["values"]) == set(counties)
    named = client.get("/api/live/state", params={"county": counties[1], "area": CITY})
    assert named.status_code == 200 and named.json()["id"] == body.json()["id"], "as the wall asks: a county and the area"
    for refused in ({"area": PROVINCE}, {"county": "990200"}, {"county": CITY, "area": counties[0] + "001"},
                    {"county": "990300"}):
        assert client.get("/api/live/state", params=refused).status_code == 404, refused
    county_leader = TestClient(create_app(runtime).server)
    as_role(county_leader, runtime, Role.leader, county=counties[0], name="county-leader")
    assert county_leader.get("/api/live/state", params={"area": CITY}).status_code == 404
