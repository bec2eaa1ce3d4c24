"""Done when: a wall screen bound to one county is never served another.

A real server whose default county (``COUNTY_CODE``) is another county than the screen's. The
screen's live state, poll, stream and geometry, its page callbacks and ``/api/status`` must all be
its own county's, whether it names a county or not; naming another county, in the address or in
a callback's body, is refused. A leader, bound to no county, still gets the default county.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from shapely.affinity import translate

from dashboard.imports import onboarding
from dashboard.access.auth import Principal, Role
from dashboard.runtime import Runtime
from dashboard.access.security import CSRF_COOKIE, bind_address, bind_query, gate_callback
from dashboard.settings import PROJECT_ROOT
from geo.generate import GeneratedArea, GeneratedCounty
from tests.conftest import REDIS_URL
from tests.dashboard.auth_support import as_role, new_screen
from tests.dashboard.access.test_privacy_wall import StreamTap, _port
from tests.factories import COUNTY, GRID_CODES, draft, small_county
from tests.serving import wait_until_serving
from tests.waiting import wait_until

OTHER = "990202"
OTHER_NAME = "邻县"


def other_county() -> GeneratedCounty:
    """The small test county moved one degree east under other codes and names."""
    def moved(area: GeneratedArea) -> GeneratedArea:
        return replace(area, code=OTHER + area.code[len(COUNTY):], name="邻县" + area.name,
                       parent_code=OTHER + area.parent_code[len(COUNTY):] if area.parent_code else None,
                       geometry=translate(area.geometry, xoff=1.0), center=translate(area.center, xoff=1.0))
    own = small_county()
    return GeneratedCounty([moved(a) for a in own.townships], [moved(a) for a in own.villages],
                           [moved(a) for a in own.grids], translate(own.seat, xoff=1.0))


@pytest.fixture
def server(runtime: Runtime, county: str, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A served app whose default county is ``OTHER``, not the screen's; red alerts in both."""
    with runtime.sessions() as session, session.begin():
        onboarding.save_county(session, other_county(), name=OTHER_NAME, now=datetime(2026, 1, 1, tzinfo=UTC),
                               outline_geojson='{"type":"Polygon","coordinates":[[[128,44],[128.8,44],[128.8,44.2],'
                                               '[128,44.2],[128,44]]]}')
    received = datetime.now(UTC) - timedelta(hours=1)
    for code, grid in ((COUNTY, GRID_CODES[0]), (OTHER, OTHER + GRID_CODES[0][len(COUNTY):])):
        own = Runtime(replace(runtime.settings, county_code=code))
        try:
            for n in range(3):
                own.cases.submit(draft(n, received, grid_code=grid, external_ref=f"{code}-{n}", people_involved=40),
                                 actor="test")
        finally:
            own.close()
    port = _port()
    env = {**os.environ, "DATABASE_URL": runtime.settings.database_url, "REDIS_URL": REDIS_URL, "PORT": str(port),
           "MEDIATION_VAR_DIR": str(tmp_path), "MEDIATION_SCHEDULER": "off", "REFRESH_SECONDS": "1",
           "COUNTY_CODE": OTHER}
    proc = subprocess.Popen([sys.executable, "-m", "dashboard", "serve"], env=env, cwd=PROJECT_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, process=proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def render(client: httpx.Client, address: str) -> httpx.Response:
    """The wall's page callback, as the browser posts it once it knows its address."""
    return client.post("/_dash-update-component", json={
        "output": "wall-page.children", "outputs": {"id": "wall-page", "property": "children"},
        "inputs": [{"id": "page-address", "property": "children", "value": address}],
        "changedPropIds": ["page-address.children"], "state": []})


def navigate(client: httpx.Client, pathname: str, search: str | None) -> httpx.Response:
    return client.post("/_dash-update-component", json={
        "output": "screen-body.children", "outputs": {"id": "screen-body", "property": "children"},
        "inputs": [{"id": "wall-url", "property": "pathname", "value": pathname},
                   {"id": "wall-url", "property": "search", "value": search}],
        "changedPropIds": ["wall-url.search"], "state": []})


def owns(text: str) -> bool:
    """Whether a response is the screen's own county's and holds nothing of the other's."""
    return COUNTY in text and OTHER not in text and OTHER_NAME not in text


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_a_screen_is_served_its_own_county_only(runtime: Runtime, county: str, server: str) -> None:
    assert county == COUNTY
    wall = httpx.Client(base_url=server, timeout=30, follow_redirects=True)
    assert wall.get(f"/screen?token={new_screen(runtime, county)}").status_code == 200
    wall.headers["X-CSRFToken"] = wall.cookies[CSRF_COOKIE]

    for path in ("/api/live/state", "/api/live/poll", "/api/live/state?lang=en&days=7", f"/api/live/state?county={COUNTY}",
                 "/api/geo/grids.geojson", "/api/geo/townships.geojson", "/api/geo/centers.geojson"):
        response = wall.get(path)
        assert response.status_code == 200 and owns(response.text), (path, response.status_code, response.text[:200])
    tap = StreamTap(wall, f"{server}/api/live/stream")
    tap.start()
    try:
        wait_until(lambda: "event: full" in "".join(tap.chunks), 15, interval=0.1,
                   message=lambda: f"the stream's first full state; read so far: {''.join(tap.chunks)[:300]!r}")
    finally:
        tap.stop.set()
    stream = "".join(tap.chunks)
    assert stream.startswith("status 200") and "event: full" in stream and owns(stream)

    for path in (f"/api/live/state?county={OTHER}", f"/api/live/poll?county={OTHER}", f"/api/live/stream?county={OTHER}",
                 f"/api/live/state?county={COUNTY}&county={OTHER}", f"/api/live/state?county={OTHER}&county={COUNTY}",
                 f"/api/geo/grids.geojson?county={OTHER}", f"/screen?county={OTHER}", f"/?lang=en&county={OTHER}"):
        response = wall.get(path)
        assert response.status_code == 403 and OTHER_NAME not in response.text, (path, response.status_code)
    foreign_area = wall.get(f"/api/live/state?area={OTHER}001")
    assert foreign_area.status_code == 404 and OTHER_NAME not in foreign_area.text

    for address in ("/screen", "/", "/screen?lang=en", f"/screen?county={COUNTY}", f"/screen?township={COUNTY}001",
                    "/screen#county=990202", None):
        response = render(wall, address)  # type: ignore[arg-type]
        assert response.status_code == 200 and owns(response.text), (address, response.text[:300])
    for address in (f"/screen?county={OTHER}", f"/?days=7&county={COUNTY}&county={OTHER}",
                    f"/screen?county={OTHER}#x"):
        assert render(wall, address).status_code == 403, address
    for address in (f"/screen?township={OTHER}001", f"/screen?area={COUNTY[:4]}00", "/screen?area=9901"):
        response = render(wall, address)  # an area outside the wall's (issue 17): not there, as for a person
        assert response.status_code == 404 and OTHER_NAME not in response.text, address
    assert navigate(wall, "/screen", "").status_code == 200 and owns(navigate(wall, "/", None).text)
    assert navigate(wall, "/screen", f"?county={OTHER}").status_code == 403

    status = wall.get("/api/status")
    assert status.status_code == 200 and "county" not in status.json() and OTHER not in status.text


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_a_leader_is_bound_to_no_county(runtime: Runtime, county: str, server: str) -> None:
    leader = httpx.Client(base_url=server, timeout=30)
    as_role(leader, runtime, Role.leader, name="县领导乙")  # type: ignore[arg-type]
    default = leader.get("/api/live/state")
    assert default.status_code == 200 and f"{OTHER}001" in default.text and f"{COUNTY}001" not in default.text
    assert owns(leader.get(f"/api/live/state?county={COUNTY}").text)
    assert OTHER_NAME in render(leader, "/screen").text and owns(render(leader, f"/screen?county={COUNTY}").text)
    assert leader.get("/api/status").json()["county"]["code"] == OTHER


def test_binding_an_address_or_a_callback_body() -> None:
    assert bind_query("", COUNTY) == f"county={COUNTY}"
    assert bind_query("days=7&county=990101", COUNTY) == "days=7&county=990101"
    assert bind_query("county=990101&county=990202", COUNTY) is None
    assert bind_query("county=", COUNTY) is None
    assert bind_address("/screen?lang=en#top?county=990202", COUNTY) == f"/screen?lang=en&county={COUNTY}"
    assert bind_address("http://wall/?county=990202", COUNTY) is None
    screen = Principal("wall", Role.screen, COUNTY)
    hidden = b'{"output": "x.children", "inputs": [{"id": "n", "property": "value", "value": ["/?county=990202"]}]}'
    assert gate_callback(hidden, screen).status_code == 403  # type: ignore[union-attr]
    pattern = (b'{"output": "x.children", "inputs": [[{"id": {"type": "a", "index": 1}, "property": "search", '
               b'"value": "?county=990202"}, {"id": {"type": "b"}, "property": "children", "value": "/"}]]}')
    assert gate_callback(pattern, screen).status_code == 403  # type: ignore[union-attr]
    bound = gate_callback(b'{"output": "x.children", "inputs": [{"id": "page-address", "property": "children", '
                          b'"value": "/screen?days=7"}]}', screen)
    assert isinstance(bound, bytes) and json.loads(bound)["inputs"][0]["value"] == f"/screen?days=7&county={COUNTY}"
    leader = Principal("leader", Role.leader)
    untouched = b'{"output": "x.children", "inputs": [{"id": "page-address", "property": "children", "value": "/"}]}'
    assert gate_callback(untouched, leader) is untouched
