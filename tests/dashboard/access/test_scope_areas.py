"""Issue 17 item 4: people, walls and source systems held to a county, a city or a province see
everything inside their area and nothing outside it, on every route family, screen and stream.

One database holds four served counties of two provinces:

============ ======== =========== ==========================================
code         name     city        relation to the deployment's county
============ ======== =========== ==========================================
``990101``   测试县    ``990100``  the deployment's county (``COUNTY_CODE``)
``990102``   同城县    ``990100``  a sibling county of the same city
``990202``   他市县    ``990200``  a county of another city, same province
``980101``   外省县    ``980100``  a county of another province
============ ======== =========== ==========================================

each with a red case. Every caller (a city leader, a leader of another county, an admin held to
the province, a wall bound to the city, a source system bound to one county, and an unscoped
admin, for whom everything is inside) asks every route
family for every target (each county, township, grid, city and province, and hostile codes). The
table says what it must get: inside its area a 200, outside a 404 (a page: the refusal page with 404; a wall
naming a county outside: 403, as always), a hostile code a 4xx (or, on a page or a screen
callback, at most its own area's page), never a 500; no answer names a county outside the caller's
area. The app runs under uvicorn in this process, so the live stream is read as a browser reads it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn
from shapely.affinity import translate
from sqlalchemy import func, select

from app import create_app
from dashboard.access.auth import DUTY, READERS, TABLET, WALL, Role
from dashboard.access.tokens import new_token, token_hash
from dashboard.domain.area_scope import contains
from dashboard.imports import onboarding
from dashboard.runtime import Runtime
from data_access import api_clients
from data_access.models import Case
from geo.generate import GeneratedArea, GeneratedCounty
from layouts import duty, duty_matters, tablet, wall
from tests.dashboard.auth_support import as_role
from tests.factories import COUNTY, GRID_CODES, draft, small_county
from tests.waiting import wait_until

SIBLING, OTHER, FAR = "990102", "990202", "980101"
CITY, OTHER_CITY, PROVINCE, FAR_CITY, FAR_PROVINCE = "990100", "990200", "990000", "980100", "980000"
COUNTIES = (COUNTY, SIBLING, OTHER, FAR)
NAMES = {COUNTY: "测试县", SIBLING: "同城县", OTHER: "他市县", FAR: "外省县"}
SHIFT = {SIBLING: 1.0, OTHER: 2.0, FAR: 3.0}
"""Degrees east each county is moved from the small test county: four counties side by side."""
REGIONS = (CITY, OTHER_CITY, PROVINCE, FAR_CITY, FAR_PROVINCE)
TOWNSHIPS = tuple(c + "001" for c in COUNTIES)
GRIDS = tuple(c + GRID_CODES[-1][6:] for c in COUNTIES)
HOSTILE = ("2202", "22020Z", "9" * 40, CITY[:4] + "1" * 36, COUNTY + "1" * 34, "990101001'--", "９９０１０１",
           CITY[:4] + "11", CITY[:4] + "11001")
"""Codes that name nothing here: too short, a letter, 40 digits (two of them starting with the
city's or the deployment's county's own prefix, so they pass the prefix check and must still be
refused), SQL, full-width digits, and a county of the city that is not served here and a township
of it (a screen falling back to its default county must not follow)."""
PERIOD = {"from": "2026-01-01", "to": "2026-12-31"}


def moved_county(code: str) -> GeneratedCounty:
    """The small test county moved east under ``code`` and its own names."""
    name = NAMES[code][:2]

    def moved(area: GeneratedArea) -> GeneratedArea:
        return replace(area, code=code + area.code[len(COUNTY):], name=name + area.name,
                       parent_code=code + area.parent_code[len(COUNTY):] if area.parent_code else None,
                       geometry=translate(area.geometry, xoff=SHIFT[code]),
                       center=translate(area.center, xoff=SHIFT[code]))
    own = small_county()
    return GeneratedCounty([moved(a) for a in own.townships], [moved(a) for a in own.villages],
                           [moved(a) for a in own.grids], translate(own.seat, xoff=SHIFT[code]))


def outline(code: str) -> str:
    west = 127 + SHIFT[code]
    return (f'{{"type":"Polygon","coordinates":[[[{west},44],[{west + 0.8},44],[{west + 0.8},44.2],'
            f'[{west},44.2],[{west},44]]]}}')


@pytest.fixture
def cases(runtime: Runtime, county: str) -> dict[str, int]:
    """The four counties onboarded and a red case (40 people) in each; the case id of each county."""
    with runtime.sessions() as session, session.begin():
        for code in (SIBLING, OTHER, FAR):
            onboarding.save_county(session, moved_county(code), name=NAMES[code], now=datetime(2026, 1, 1, tzinfo=UTC),
                                   outline_geojson=outline(code))
    runtime.settings = replace(runtime.settings, county_code=COUNTY, scheduler=False)
    received = datetime.now(UTC) - timedelta(hours=1)
    ids = {}
    for code in COUNTIES:
        own = Runtime(replace(runtime.settings, county_code=code))
        try:
            case, _ = own.cases.submit(draft(1, received, grid_code=code + GRID_CODES[0][6:], external_ref=f"{code}-1",
                                             people_involved=40), actor="窗口")
            ids[code] = case.id
        finally:
            own.close()
    return ids


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(runtime: Runtime, cases: dict[str, int]) -> Iterator[str]:
    """The app under uvicorn in a thread of this process, with its lifespan (the live hub, and Dash's
    page route) but no scheduler."""
    config = uvicorn.Config(create_app(runtime).server, host="127.0.0.1", port=_port(), log_level="warning",
                            lifespan="on")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    wait_until(lambda: running.started, 20, message="uvicorn to start")
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        running.should_exit = True
        thread.join(timeout=10)


@dataclass(frozen=True)
class Caller:
    key: str
    role: Role
    area: str | None

    def sees(self, code: str) -> bool:
        return contains(self.area, code)


CALLERS = (Caller("city-leader", Role.leader, CITY), Caller("other-county-leader", Role.leader, OTHER),
           Caller("province-admin", Role.admin, PROVINCE), Caller("city-wall", Role.screen, CITY),
           Caller("county-source", Role.api_client, SIBLING), Caller("unscoped-admin", Role.admin, None))


def client_of(rt: Runtime, url: str, caller: Caller) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    if caller.role is Role.api_client:
        token = new_token()
        with rt.sessions() as session, session.begin():
            api_clients.create(session, name=caller.key, source="hotline_12345", token_hash=token_hash(token),
                               now=datetime.now(UTC), area_code=caller.area)
        client.headers["Authorization"] = f"Bearer {token}"
    else:
        as_role(client, rt, caller.role, county=caller.area, name=caller.key)  # type: ignore[arg-type]
    return client


def callback(outputs: list[tuple[str, str]], inputs: list[tuple[str, str, object]],
             state: list[tuple[str, str, object]] = ()) -> dict[str, object]:  # type: ignore[assignment]
    """A Dash callback body, as the renderer posts it."""
    output = outputs[0][0] + "." + outputs[0][1] if len(outputs) == 1 else \
        ".." + "...".join(f"{i}.{p}" for i, p in outputs) + ".."
    return {"output": output,
            "outputs": [{"id": i, "property": p} for i, p in outputs] if len(outputs) > 1
            else {"id": outputs[0][0], "property": outputs[0][1]},
            "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
            "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
            "changedPropIds": [f"{inputs[0][0]}.{inputs[0][1]}"]}


def tablet_body(search: str) -> dict[str, object]:
    return callback([(tablet.BODY, "children")], [(tablet.TICK, "n_intervals", 1)], [(wall.URL, "search", search)])


def wall_page(address: str) -> dict[str, object]:
    return callback([(wall.PAGE, "children")], [(wall.ADDRESS, "children", address)])


def matters(search: str) -> dict[str, object]:
    outputs = [(duty_matters.MATTERS, "children"), (duty_matters.PICK, "options"), (duty_matters.MESSAGE, "children")]
    return callback(outputs, [*((b, "n_clicks", 0) for b in duty_matters.BUTTONS), (duty.TICK, "n_intervals", 1)],
                    [(wall.URL, "search", search), (duty_matters.PICK, "value", None),
                     (duty_matters.MATTERS, "children", None)])


@dataclass(frozen=True)
class Family:
    """A route family: who may use it, its targets and the request for one target.

    ``kind``: ``county`` (the target is named as a county: a wall outside is answered 403),
    ``area`` (an area code: 404 for everyone), ``page`` (a page: the refusal page, 404, outside) or
    ``callback`` (a screen's callback: 404 outside, a wall naming a county outside 403)."""

    name: str
    roles: frozenset[Role]
    targets: tuple[str, ...]
    request: Callable[[str], tuple[str, str, dict[str, object]]]
    kind: str = "area"
    names_county: bool = False
    """Whether the target is given as ``county=`` (a wall's refusal is then 403)."""
    refusals_only: bool = False
    """Checked on the refusal side only: inside the area it may still answer 404 (the reports
    serve the deployment's county only)."""


def get(path: str, **params: object) -> tuple[str, str, dict[str, object]]:
    return "GET", path, {"params": params}


FAMILIES = (
    Family("live state ?county=", WALL, COUNTIES, lambda c: get("/api/live/state", county=c), names_county=True),
    Family("live state ?area=", WALL, TOWNSHIPS + REGIONS + HOSTILE, lambda a: get("/api/live/state", area=a)),
    Family("live poll ?county=&area=", WALL, TOWNSHIPS, lambda a: get("/api/live/poll", county=a[:6], area=a),
           names_county=True),
    Family("geo layer ?county=", WALL | {Role.api_client}, COUNTIES + HOSTILE,
           lambda c: get("/api/geo/grids.geojson", county=c), names_county=True),
    Family("geo region", WALL | {Role.api_client}, REGIONS + HOSTILE,
           lambda c: get(f"/api/geo/region/{c}")),
    Family("figures ?area=", READERS, COUNTIES + TOWNSHIPS + GRIDS + REGIONS + HOSTILE,
           lambda a: get("/api/figures", area=a, **PERIOD)),
    Family("warnings ?area=", TABLET, COUNTIES + TOWNSHIPS + REGIONS + HOSTILE, lambda a: get("/api/warnings", area=a)),
    Family("tablet callback ?area=", TABLET, COUNTIES + TOWNSHIPS + GRIDS + REGIONS + HOSTILE,
           lambda a: ("POST", "/_dash-update-component", {"json": tablet_body(f"?area={a}")}), kind="callback"),
    Family("tablet callback ?county=", TABLET, COUNTIES + HOSTILE,
           lambda c: ("POST", "/_dash-update-component", {"json": tablet_body(f"?county={c}")}), kind="callback",
           names_county=True),
    Family("tablet page ?area=", TABLET, TOWNSHIPS + REGIONS + HOSTILE, lambda a: get("/tablet", area=a), kind="page"),
    Family("wall page callback ?county=", WALL, COUNTIES + HOSTILE,
           lambda c: ("POST", "/_dash-update-component", {"json": wall_page(f"/screen?county={c}")}),
           kind="callback", names_county=True),
    Family("wall page callback ?township=", WALL, TOWNSHIPS + HOSTILE,
           lambda t: ("POST", "/_dash-update-component", {"json": wall_page(f"/screen?township={t}")}),
           kind="callback"),
    Family("wall page callback ?area=", WALL, COUNTIES + TOWNSHIPS + REGIONS + HOSTILE,
           lambda a: ("POST", "/_dash-update-component", {"json": wall_page(f"/screen?area={a}")}), kind="callback"),
    Family("live poll ?area=", WALL, REGIONS + HOSTILE, lambda a: get("/api/live/poll", area=a)),
    Family("wall page ?county=", WALL, COUNTIES, lambda c: get("/screen", county=c), kind="page", names_county=True),
    Family("duty page ?county=", DUTY, COUNTIES, lambda c: get("/duty", county=c), kind="page", names_county=True),
    Family("matters callback ?county=", DUTY, COUNTIES,
           lambda c: ("POST", "/_dash-update-component", {"json": matters(f"?county={c}")}), kind="callback",
           names_county=True),
    Family("report made ?area=", frozenset({Role.leader, Role.admin}), (FAR + "001", FAR_PROVINCE, "2202", "22020Z"),
           lambda a: ("POST", "/reports/make", {"params": {"kind": "daily", "period": "2026-01-05", "area": a}}),
           kind="page", refusals_only=True),
)


def outside_names(caller: Caller) -> list[str]:
    """The names of the counties outside the caller's area, and the prefix of their places' names
    (the deployment's county's places are named like every county's, so only its own name counts)."""
    return [name for c in COUNTIES if not caller.sees(c) for name in {NAMES[c], NAMES[c] if c == COUNTY else NAMES[c][:2]}]


def township_name(county: str) -> str:
    return "测试镇1" if county == COUNTY else NAMES[county][:2] + "测试镇1"


def judge(caller: Caller, family: Family, target: str, response: httpx.Response) -> str | None:
    """What is wrong with ``response`` to ``caller`` asking ``family`` for ``target``; ``None``: right."""
    status, text = response.status_code, response.text
    leaked = [name for name in outside_names(caller) if name in text]
    if status >= 500:
        return f"{status} (a server error)"
    if leaked:
        return f"{status} naming {leaked} outside the area"
    hostile = target in HOSTILE
    if hostile:
        tolerated = family.kind in ("page", "callback") and status == 200  # its own area's page, nothing else
        return None if 400 <= status < 500 or tolerated else f"{status} for a hostile code"
    inside = caller.sees(target)
    if inside:
        return None if status == 200 or (family.refusals_only and status == 404) else f"{status} inside the area"
    if caller.role is Role.screen and family.names_county:
        wanted = 403
    else:
        wanted = 404
    return None if status == wanted else f"{status} outside the area (wanted {wanted})"


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c.key)
def test_every_route_family_answers_inside_the_area_and_refuses_outside(
        runtime: Runtime, server: str, cases: dict[str, int], caller: Caller) -> None:
    client = client_of(runtime, server, caller)
    wrong: list[str] = []
    asked = 0
    for family in FAMILIES:
        if caller.role not in family.roles:
            continue
        for target in family.targets:
            method, path, options = family.request(target)
            response = client.request(method, path, **options)  # type: ignore[arg-type]
            asked += 1
            verdict = judge(caller, family, target, response)
            if verdict is not None:
                wrong.append(f"{family.name} {target!r}: {verdict}: {response.text[:160]}")
    for county, case_id in cases.items():
        response = client.get(f"/api/cases/{case_id}")
        asked += 1
        if caller.role in READERS and response.status_code != (200 if caller.sees(county) else 404):
            wrong.append(f"case of {county}: {response.status_code}")
    assert asked >= 20, "the table asked too little to mean anything"
    assert not wrong, f"{caller.key} ({caller.area}), {len(wrong)} of {asked} wrong:\n" + "\n".join(wrong)


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_alerts_and_status_hold_each_caller_to_its_area(runtime: Runtime, server: str, cases: dict[str, int]) -> None:
    for caller in CALLERS:
        client = client_of(runtime, server, caller)
        if caller.role in READERS:
            alerts = client.get("/api/alerts")
            assert alerts.status_code == 200, (caller.key, alerts.text[:200])
            assert sorted(a["id"] for a in alerts.json()) == sorted(i for c, i in cases.items() if caller.sees(c)), \
                caller.key
        if caller.role is not Role.api_client:
            status = client.get("/api/status").json()
            assert ("county" in status) is caller.sees(COUNTY), (caller.key, status)


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_a_city_leader_sees_every_county_of_the_city_and_nothing_else(runtime: Runtime, server: str,
                                                                     cases: dict[str, int]) -> None:
    leader = client_of(runtime, server, CALLERS[0])
    for county in (COUNTY, SIBLING):
        state = leader.get("/api/live/state", params={"county": county})
        assert state.status_code == 200 and f"{county}001" in state.text, county
        body = leader.post("/_dash-update-component", json=tablet_body(f"?area={county}001"))
        assert body.status_code == 200 and township_name(county) in body.text, county
    sibling_township = leader.post("/_dash-update-component", json=wall_page(f"/screen?township={SIBLING}001"))
    assert sibling_township.status_code == 200 and SIBLING in sibling_township.text, \
        "a township of another county of the city is shown in its own county"
    figures = leader.get("/api/figures", params={"area": CITY, **PERIOD})
    assert figures.status_code != 404, figures.text[:200]
    geometry = leader.get(f"/api/geo/region/{CITY}")
    assert geometry.status_code == 200 and {f["properties"]["code"] for f in geometry.json()["features"]} == \
        {COUNTY, SIBLING}
    for region in (OTHER_CITY, PROVINCE, FAR_PROVINCE):
        for path, params in (("/api/figures", {"area": region, **PERIOD}), (f"/api/geo/region/{region}", {}),
                             ("/api/live/state", {"area": region}), ("/api/warnings", {"area": region})):
            response = leader.get(path, params=params)
            assert response.status_code == 404 and NAMES[OTHER] not in response.text, (path, region)


def first_event(client: httpx.Client, path: str, params: dict[str, str]) -> tuple[int, str]:
    """The status of a live stream and its text up to its first event (``event: full``), or the body of a refusal."""
    with client.stream("GET", path, params=params) as response:
        if response.status_code != 200:
            return response.status_code, response.read().decode()
        text = ""
        for chunk in response.iter_text():
            text += chunk
            if "event: full" in text and text.endswith("\n\n"):
                break
        return 200, text


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_the_live_stream_is_held_to_the_area(runtime: Runtime, server: str, cases: dict[str, int]) -> None:
    for caller in (c for c in CALLERS if c.role in WALL):
        client = client_of(runtime, server, caller)
        for area in TOWNSHIPS + REGIONS:
            status, text = first_event(client, "/api/live/stream", {"area": area})
            if caller.sees(area):
                shown = [area] if area in TOWNSHIPS else [c for c in COUNTIES + REGIONS if c != area and contains(area, c)]
                assert status == 200 and "event: full" in text and any(c in text for c in shown), (caller.key, area)
            else:
                assert status == 404, (caller.key, area, status)
            assert not [n for n in outside_names(caller) if n in text], (caller.key, area)
        for county in COUNTIES:
            status, _ = first_event(client, "/api/live/stream", {"county": county})
            wanted = 200 if caller.sees(county) else 403 if caller.role is Role.screen else 404
            assert status == wanted, (caller.key, county, status)
        for hostile in HOSTILE:
            status, _ = first_event(client, "/api/live/stream", {"area": hostile})
            assert 400 <= status < 500, (caller.key, hostile, status)


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_the_audit_log_is_only_for_an_area_holding_every_served_county(runtime: Runtime, server: str,
                                                                     cases: dict[str, int]) -> None:
    province = client_of(runtime, server, CALLERS[2])
    assert province.get("/api/audit").status_code == 404, "the province does not hold 980101, which is served here"
    assert province.get("/admin/audit").status_code == 403
    unscoped = httpx.Client(base_url=server, timeout=60)
    as_role(unscoped, runtime, Role.admin, name="全域管理")  # type: ignore[arg-type]
    assert unscoped.get("/api/audit").status_code == 200 and unscoped.get("/admin/audit").status_code == 200


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_a_city_wall_shows_the_city_and_any_area_in_it_and_nothing_else(runtime: Runtime, server: str,
                                                                        cases: dict[str, int]) -> None:
    wall_client = client_of(runtime, server, CALLERS[3])
    home = wall_client.post("/_dash-update-component", json=wall_page("/screen"))
    assert home.status_code == 200 and NAMES[COUNTY] in home.text, "naming nothing, the wall shows its home county"
    city = wall_client.post("/_dash-update-component", json=wall_page(f"/screen?area={CITY}"))
    assert city.status_code == 200 and CITY in city.text and not [n for n in outside_names(CALLERS[3]) if n in city.text]
    sibling = wall_client.post("/_dash-update-component", json=wall_page(f"/screen?area={SIBLING}001"))
    assert sibling.status_code == 200 and township_name(SIBLING) in sibling.text
    assert wall_client.post("/_dash-update-component", json=wall_page(f"/screen?county={OTHER}")).status_code == 403
    for address in (f"/screen?area={OTHER_CITY}", f"/screen?area={PROVINCE}", f"/screen?township={OTHER}001",
                    f"/screen?county={SIBLING}&area={OTHER}001"):
        refused = wall_client.post("/_dash-update-component", json=wall_page(address))
        assert refused.status_code == 404 and NAMES[OTHER] not in refused.text, address
    grids = wall_client.get("/api/geo/grids.geojson", params={"county": SIBLING})
    assert grids.status_code == 200 and SIBLING + GRID_CODES[0][6:] in grids.text
    assert wall_client.get("/api/geo/grids.geojson", params={"county": OTHER}).status_code == 403


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_a_source_held_to_a_county_writes_and_reads_only_there(runtime: Runtime, server: str,
                                                               cases: dict[str, int]) -> None:
    source = client_of(runtime, server, CALLERS[4])

    def post(county: str, ref: str) -> httpx.Response:
        return source.post("/api/cases", json={
            "external_ref": ref, "category": "neighbour", "location": {"grid_code": county + GRID_CODES[0][6:]},
            "received_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()})

    inside = post(SIBLING, "S-in")
    assert inside.status_code == 201 and inside.json()["county_code"] == SIBLING, inside.text[:300]
    for county in (COUNTY, OTHER, FAR):
        refused = post(county, f"S-{county}")
        assert 400 <= refused.status_code < 500 and NAMES[county] not in refused.text, (county, refused.text[:200])
    for county, case_id in cases.items():
        event = source.post(f"/api/cases/{case_id}/events", json={"action": "assess", "actor": "坐席"})
        if county != SIBLING:
            assert event.status_code == 404, (county, event.status_code)
    with runtime.sessions() as session:
        written = dict(session.execute(select(Case.county_code, func.count()).group_by(Case.county_code)).all())
    assert written == {COUNTY: 1, SIBLING: 2, OTHER: 1, FAR: 1}, "nothing was written outside the source's county"
