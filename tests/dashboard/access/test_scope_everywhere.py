"""Issue 18 item 3: a person created with ``--county`` (or ``--area``) is held to that area
everywhere: the tablet (its callbacks and URL parameters), the duty console (queue, case detail,
actions, reveals, handover notes), the live routes, ``GET /api/cases/{id}``, ``/api/alerts`` and
``/api/figures``. The same rule as a wall's binding; an unscoped person sees every county.

One database holds two counties: ``COUNTY`` (990101, the deployment's) and ``OTHER`` (990202, a
neighbour under other codes and names), each with a red case. Everything outside a person's
area is answered as not found (404), and its names never appear in an answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app import create_app
from dashboard.access.auth import Role
from dashboard.imports import onboarding
from dashboard.runtime import Runtime
from data_access import audit, duty_queries
from data_access.models import HandoverNote
from layouts import duty, tablet, wall
from tests.dashboard.access.test_privacy_county import OTHER, OTHER_NAME, other_county
from tests.dashboard.auth_support import as_role, served
from tests.factories import COUNTY, GRID_CODES, draft

OTHER_GRID = OTHER + GRID_CODES[0][len(COUNTY):]
OWN_NAME = "测试县"


@pytest.fixture
def two_counties(runtime: Runtime, county: str) -> dict[str, int]:
    """Both counties onboarded, a red case in each (40 people); the case id of each county."""
    with runtime.sessions() as session, session.begin():
        onboarding.save_county(session, other_county(), name=OTHER_NAME, now=datetime(2026, 1, 1, tzinfo=UTC),
                               outline_geojson='{"type":"Polygon","coordinates":[[[128,44],[128.8,44],[128.8,44.2],'
                                               '[128,44.2],[128,44]]]}')
    received = datetime.now(UTC) - timedelta(hours=1)
    ids = {}
    for code, grid in ((COUNTY, GRID_CODES[0]), (OTHER, OTHER_GRID)):
        own = Runtime(replace(runtime.settings, county_code=code))
        try:
            case, _ = own.cases.submit(draft(1, received, grid_code=grid, external_ref=f"{code}-1", people_involved=40),
                                       actor="窗口")
            ids[code] = case.id
        finally:
            own.close()
    return ids


@pytest.fixture
def app(runtime: Runtime, two_counties: dict[str, int]) -> Iterator[TestClient]:
    with served(create_app(runtime).server) as client:
        yield client


def person(app: TestClient, runtime: Runtime, role: Role, area: str | None, name: str) -> TestClient:
    """A new client signed in as ``name`` with ``role``, held to ``area``."""
    client = TestClient(app.app)
    as_role(client, runtime, role, county=area, name=name)
    return client


def callback(client: TestClient, outputs: list[tuple[str, str]], inputs: list[tuple[str, str, object]],
             state: list[tuple[str, str, object]] = ()) -> tuple[int, str]:  # type: ignore[assignment]
    """One Dash callback, posted as the renderer posts it: (status, body)."""
    output = outputs[0][0] + "." + outputs[0][1] if len(outputs) == 1 else \
        ".." + "...".join(f"{i}.{p}" for i, p in outputs) + ".."
    body = {"output": output,
            "outputs": [{"id": i, "property": p} for i, p in outputs] if len(outputs) > 1
            else {"id": outputs[0][0], "property": outputs[0][1]},
            "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
            "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
            "changedPropIds": [f"{inputs[0][0]}.{inputs[0][1]}"]}
    response = client.post("/_dash-update-component", json=body)
    return response.status_code, response.text


def render(client: TestClient, address: str) -> tuple[int, str]:
    return callback(client, [(wall.PAGE, "children")], [(wall.ADDRESS, "children", address)])


def owns(text: str) -> bool:
    return OWN_NAME in text and OTHER not in text and OTHER_NAME not in text


def others(text: str) -> bool:
    return OTHER_NAME in text and COUNTY not in text and OWN_NAME not in text


def test_the_case_and_alert_routes_answer_only_inside_the_area(runtime: Runtime, app: TestClient,
                                                               two_counties: dict[str, int]) -> None:
    own, foreign = two_counties[COUNTY], two_counties[OTHER]
    held = person(app, runtime, Role.leader, COUNTY, "本县领导")
    assert held.get(f"/api/cases/{own}").status_code == 200
    refused = held.get(f"/api/cases/{foreign}")
    assert refused.status_code == 404 and OTHER not in refused.text
    alerts = held.get("/api/alerts")
    assert alerts.status_code == 200 and [a["id"] for a in alerts.json()] == [own]
    assert held.get("/api/figures", params={"area": COUNTY, "from": "2026-01-01", "to": "2026-01-31"}).status_code == 200

    neighbour = person(app, runtime, Role.duty_officer, OTHER, "邻县值班")
    assert neighbour.get(f"/api/cases/{own}").status_code == 404
    alerts = neighbour.get("/api/alerts")
    assert alerts.status_code == 200 and [a["id"] for a in alerts.json()] == [foreign], \
        "both counties are served (issue 17): the officer's own county's alerts, nothing of the other's"
    for area in (COUNTY, f"{COUNTY}001"):
        figures = neighbour.get("/api/figures", params={"area": area, "from": "2026-01-01", "to": "2026-01-31"})
        assert figures.status_code == 404, area
    reveal = neighbour.post(f"/api/cases/{own}/reveal", json={})
    assert reveal.status_code == 404
    with runtime.sessions() as session:
        assert audit.page(session, action="reveal") == [], "a refused reveal reads nothing and is not a reveal"

    unscoped = person(app, runtime, Role.admin, None, "管理员")
    assert unscoped.get(f"/api/cases/{foreign}").status_code == 200, "an unscoped admin sees every county"
    city = person(app, runtime, Role.leader, "990100", "市领导")
    assert city.get(f"/api/cases/{own}").status_code == 200 and city.get(f"/api/cases/{foreign}").status_code == 404


def test_the_live_routes_are_bound_to_the_area(runtime: Runtime, app: TestClient) -> None:
    held = person(app, runtime, Role.leader, COUNTY, "本县领导")
    for path in (f"/api/live/state?county={OTHER}", f"/api/live/poll?county={OTHER}",
                 f"/api/live/stream?county={OTHER}", f"/api/live/state?county={COUNTY}&county={OTHER}",
                 f"/api/geo/grids.geojson?county={OTHER}", f"/api/live/state?area={OTHER}001"):
        response = held.get(path)
        assert response.status_code == 404 and OTHER_NAME not in response.text, (path, response.status_code)
    assert held.get(f"/api/live/state?county={COUNTY}").status_code == 200

    neighbour = person(app, runtime, Role.leader, OTHER, "邻县领导")
    state = neighbour.get("/api/live/state")
    assert state.status_code == 200 and f"{OTHER}001" in state.text and f"{COUNTY}001" not in state.text, \
        "naming no county, a person is served their own, not the deployment's"
    grids = neighbour.get("/api/geo/grids.geojson")
    assert grids.status_code == 200 and OTHER_GRID in grids.text and GRID_CODES[0] not in grids.text
    for path in (f"/api/live/state?county={COUNTY}", f"/api/live/state?area={COUNTY}001"):
        assert neighbour.get(path).status_code == 404, path

    assert neighbour.get("/reports").status_code == 403, "the reports are the deployment's county's"
    assert held.get("/reports").status_code == 200

    province = person(app, runtime, Role.leader, "980000", "外省领导")
    assert province.get("/api/live/state").status_code == 404, "an area holding no county served here sees nothing"


def test_the_tablet_shows_only_the_area(runtime: Runtime, app: TestClient) -> None:
    held = person(app, runtime, Role.leader, COUNTY, "本县领导")
    status, text = render(held, "/tablet")
    assert status == 200 and owns(text)
    for address in (f"/tablet?county={OTHER}", f"/tablet?county={COUNTY}&county={OTHER}", f"/tablet?county={OTHER}#x"):
        status, text = render(held, address)
        assert status == 404 and OTHER_NAME not in text, address
    for search in (f"?area={OTHER}001", f"?compare={COUNTY}001,{OTHER}002", f"?area={OTHER_GRID}",
                   f"?county={COUNTY}&area={OTHER}001001"):
        status, text = callback(held, [(tablet.BODY, "children")], [(tablet.TICK, "n_intervals", 1)],
                                [(wall.URL, "search", search)])
        assert status == 404 and OTHER_NAME not in text, (search, text[:200])
    status, text = callback(held, [(tablet.BODY, "children")], [(tablet.TICK, "n_intervals", 1)],
                            [(wall.URL, "search", f"?area={COUNTY}001")])
    assert status == 200 and owns(text) and "测试镇1" in text
    status, _ = callback(held, [(tablet.BODY, "children")], [(tablet.TICK, "n_intervals", 1)],
                         [(wall.URL, "search", f"?county={OTHER}")])
    assert status == 404
    status, _ = callback(held, [(wall.SCREEN, "children")], [(wall.URL, "pathname", "/tablet"),
                                                              (wall.URL, "search", f"?lang=en&county={OTHER}")])
    assert status == 404
    assert held.get(f"/tablet?county={OTHER}").status_code in (403, 404)

    neighbour = person(app, runtime, Role.leader, OTHER, "邻县领导")
    status, text = render(neighbour, "/tablet")
    assert status == 200 and others(text), "naming no county, the tablet shows the person's own"
    status, text = callback(neighbour, [(tablet.BODY, "children")], [(tablet.TICK, "n_intervals", 1)],
                            [(wall.URL, "search", "?range=7d")])
    assert status == 200 and others(text)


DUTY_OUTPUTS = [(duty.QUEUE, "children"), (duty.QUEUE, "data-signature"), (duty.SUMMARY, "children"),
                (duty.TIMELINE, "children"), (duty.NOTES, "children"), (duty.MESSAGE, "children"),
                (duty.RED, "data-ids"), (duty.HANDOVER_TEXT, "value"), (duty.SUPERVISE_NOTE, "value"),
                (duty.ACK, "disabled")]


def duty_update(client: TestClient, search: str, *, ack: int = 0, save: int = 0, note: str = "") -> tuple[int, str]:
    """The console's one callback: a tick, or the acknowledge or handover button clicked."""
    trigger = f"{duty.ACK}.n_clicks" if ack else f"{duty.HANDOVER_SAVE}.n_clicks" if save else f"{duty.TICK}.n_intervals"
    body = {"output": ".." + "...".join(f"{i}.{p}" for i, p in DUTY_OUTPUTS) + "..",
            "outputs": [{"id": i, "property": p} for i, p in DUTY_OUTPUTS],
            "inputs": [{"id": i, "property": p, "value": v} for i, p, v in (
                (duty.TICK, "n_intervals", 1), (duty.ACK, "n_clicks", ack), (duty.ASSIGN, "n_clicks", 0),
                (duty.SUPERVISE, "n_clicks", 0), (duty.HANDOVER_SAVE, "n_clicks", save))],
            "state": [{"id": i, "property": p, "value": v} for i, p, v in (
                (wall.URL, "search", search), (duty.ASSIGN_TO, "value", None), (duty.SUPERVISE_NOTE, "value", ""),
                (duty.HANDOVER_TEXT, "value", note), (duty.QUEUE, "data-signature", None))],
            "changedPropIds": [trigger]}
    response = client.post("/_dash-update-component", json=body)
    return response.status_code, response.text


def test_the_duty_console_serves_only_an_officer_whose_area_holds_its_county(
        runtime: Runtime, app: TestClient, two_counties: dict[str, int]) -> None:
    own = two_counties[COUNTY]
    home = person(app, runtime, Role.duty_officer, COUNTY, "本县值班")
    status, text = duty_update(home, f"?case={own}")
    assert status == 200 and json.loads(text)["response"][duty.RED]["data-ids"] == str(own)
    with runtime.sessions() as session, session.begin():
        session.add(HandoverNote(county_code=COUNTY, author="本县值班", at=datetime.now(UTC), text="夜班交接：东风村红色预警"))

    neighbour = person(app, runtime, Role.duty_officer, OTHER, "邻县值班")
    refused = [duty_update(neighbour, f"?case={own}"), duty_update(neighbour, f"?case={own}", ack=1),
               duty_update(neighbour, "", save=1, note="越界的交接"),
               callback(neighbour, [(duty.REVEALED, "children")], [(duty.REVEAL, "n_clicks", 1)],
                        [(wall.URL, "search", f"?case={own}")]),
               render(neighbour, f"/duty?case={own}"), render(neighbour, "/duty/"),
               callback(neighbour, [(wall.SCREEN, "children")], [(wall.URL, "pathname", "/duty"),
                                                                  (wall.URL, "search", f"?case={own}")])]
    for status, text in refused:
        assert status == 404 and "夜班交接" not in text and "测试村" not in text, (status, text[:200])
    assert neighbour.get(f"/duty?case={own}").status_code == 403
    assert neighbour.get("/duty/").status_code == 403
    assert render(neighbour, "/tablet")[0] == 200, "the officer's own county is still served on the tablet"
    with runtime.sessions() as session:
        assert [e.action for e in duty_queries.timeline(session, own)] == ["receive"], "nothing was acted on"
        assert [n.text for n in duty_queries.handover_notes(session, COUNTY)] == ["夜班交接：东风村红色预警"]
        assert audit.page(session, action="reveal") == [] and audit.page(session, action="acknowledge") == []

    city = person(app, runtime, Role.duty_officer, COUNTY[:4] + "00", "市值班")
    status, text = duty_update(city, f"?case={own}", ack=1)
    assert status == 200 and "找不到该案件" not in text, "a city's officer works its counties' console"
    with runtime.sessions() as session:
        assert [e.action for e in duty_queries.timeline(session, own)] == ["receive", "acknowledge"]
