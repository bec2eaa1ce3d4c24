"""Done when: nothing a wall screen receives carries personal data.

A real server process; a wall signs in with its display token and follows the live stream while
cases with planted names, phones, ID numbers and addresses flow in through the API and Open311.
Everything sent to the wall (page HTML, Dash layout, dependencies and callback responses, live
state, stream and poll payloads, geometry) is captured and searched for the planted strings.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from dashboard.runtime import Runtime
from dashboard.security import CSRF_COOKIE
from dashboard.settings import PROJECT_ROOT
from data_access import cases
from tests.conftest import REDIS_URL
from tests.dashboard.auth_support import new_screen, new_source_token
from tests.dashboard.test_privacy import OPEN311_PLANTED, PLANTED, planted_strings
from tests.factories import GRID_CODES
from tests.serving import wait_until_serving

PEOPLE = [
    {"party_name": "欧阳测试甲", "party_phone": "13912345678", "party_id_number": "220283199001011234",
     "address": "测试镇隐私村幸福路88号"},
    {"party_name": "诸葛测丁", "party_phone": "0431-87654321", "party_id_number": "22028319851231567X",
     "address": "测试乡机密屯五组3号"},
]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(runtime: Runtime, county: str, tmp_path) -> Iterator[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """A served app, a source system's token and a wall's display token."""
    token = new_source_token(runtime)
    display = new_screen(runtime, county)
    port = _port()
    env = {**os.environ, "DATABASE_URL": runtime.settings.database_url, "REDIS_URL": REDIS_URL, "PORT": str(port),
           "MEDIATION_VAR_DIR": str(tmp_path), "MEDIATION_SCHEDULER": "off", "REFRESH_SECONDS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "dashboard", "serve"], env=env, cwd=PROJECT_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, process=proc)
        yield url, token, display
    finally:
        proc.terminate()
        proc.wait(timeout=20)


class StreamTap(threading.Thread):
    """Reads the wall's event stream into ``chunks`` until stopped."""

    def __init__(self, client: httpx.Client, url: str) -> None:
        super().__init__(daemon=True)
        self.client, self.url = client, url
        self.chunks: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with self.client.stream("GET", self.url) as response:
            self.chunks.append(f"status {response.status_code}\n")
            for text in response.iter_text():
                self.chunks.append(text)
                if self.stop.is_set():
                    return


def _callback_bodies(dependencies: list[dict], base: str) -> Iterator[dict]:
    """A request for every server-side callback, with URL-like inputs filled as a wall's page fills them."""
    guesses = {"pathname": "/screen", "search": "", "href": f"{base}/screen", "hash": "", "n_intervals": 1}
    for dep in dependencies:
        if dep.get("clientside_function") or dep["output"].startswith("{") or any(
                str(i["id"]).startswith("{") for i in dep["inputs"] + dep.get("state", [])):
            continue
        outputs = [o for o in dep["output"].strip(".").split("...")] if dep["output"].startswith("..") else [dep["output"]]
        parsed = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in outputs]
        inputs = [{"id": i["id"], "property": i["property"], "value": guesses.get(i["property"])} for i in dep["inputs"]]
        yield {"output": dep["output"], "outputs": parsed if len(parsed) > 1 else parsed[0], "inputs": inputs,
               "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"] if inputs else [],
               "state": [{"id": s["id"], "property": s["property"], "value": None} for s in dep.get("state", [])]}


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_nothing_sent_to_a_wall_contains_personal_data(runtime: Runtime, county: str,
                                                       server: tuple[str, str, str]) -> None:
    url, token, display = server
    captured: list[str] = []
    wall = httpx.Client(base_url=url, timeout=30, follow_redirects=True)
    first = wall.get(f"/screen?token={display}")
    assert first.status_code == 200 and "_dash-config" in first.text
    captured.append(first.text)
    state = wall.get("/api/live/state")
    assert state.status_code == 200
    before = state.json()["id"]
    tap = StreamTap(wall, f"{url}/api/live/stream")
    tap.start()

    source = httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"})
    received = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    ids = []
    for n, person in enumerate([PLANTED, *PEOPLE]):
        for grid in GRID_CODES[:2]:
            posted = source.post("/api/cases", json={
                "external_ref": f"PII-{n}-{grid}", "category": "land", "received_at": received,
                "location": {"grid_code": grid}, "people_involved": 40 if n == 0 else 3, "risk_extreme": n == 1,
                "description": "土地承包纠纷", **person})
            assert posted.status_code == 201, posted.text
            ids.append(posted.json()["id"])
    assert source.post("/open311/v2/requests.json", data={
        "api_key": token, "service_code": "debt", "attribute[grid_code]": GRID_CODES[3], **OPEN311_PLANTED,
    }).status_code == 201
    assert source.post(f"/api/cases/{ids[0]}/events", json={"action": "assess", "actor": "研判员"}).status_code == 201
    with runtime.sessions() as session:
        stored = cases.get(session, ids[0])
        assert stored is not None and stored.party_phone == PLANTED["party_phone"]

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and "event: delta" not in "".join(tap.chunks):
        time.sleep(0.2)
    time.sleep(1.5)
    tap.stop.set()
    stream = "".join(tap.chunks)
    assert stream.startswith("status 200") and "event: full" in stream and "event: delta" in stream
    captured.append(stream)

    wall.headers["X-CSRFToken"] = wall.cookies[CSRF_COOKIE]
    for path in ("/", "/screen?lang=en", "/_dash-layout", "/_dash-dependencies", "/api/live/state",
                 "/api/live/poll", f"/api/live/poll?since={before}", "/api/geo/grids.geojson",
                 "/api/geo/townships.geojson", "/api/geo/centers.geojson"):
        response = wall.get(path)
        assert response.status_code == 200, (path, response.status_code)
        captured.append(response.text)
    dependencies = wall.get("/_dash-dependencies").json()
    answered = 0
    for body in _callback_bodies(dependencies, url):
        response = wall.post("/_dash-update-component", json=body)
        answered += response.status_code == 200
        captured.append(response.text)
    assert answered >= 1, "no wall callback answered"

    everything = "\n".join([*captured, *(_decoded(text) for text in captured)])
    assert GRID_CODES[0] in everything and "received_today" in everything, "the capture missed the wall's data"
    leaks = [s for s in planted_strings() + [p[k] for p in PEOPLE for k in p] if s in everything]
    assert leaks == [], f"personal data reached the wall: {leaks}"


def _decoded(text: str) -> str:
    """JSON payloads (whole, or an event stream's data lines) with escapes undone: \\u6b27 is 欧 too."""
    pieces = [text] if not text.startswith("status") else [line[6:] for line in text.splitlines() if line.startswith("data: ")]
    out = []
    for piece in pieces:
        try:
            out.append(json.dumps(json.loads(piece), ensure_ascii=False))
        except ValueError:
            continue
    return "\n".join(out)
