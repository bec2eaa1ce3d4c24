"""Done when: nothing a wall screen or a leader's tablet receives carries personal data.

A real server process; a wall signs in with its display token and follows the live stream while
cases flow in through the API and Open311 with names, phones, ID numbers and addresses planted in
the party fields, in the descriptions and in event notes (assess, supervise, the console's
supervision, a handover note). Everything sent to the wall (page HTML, Dash layout, dependencies
and every server callback's responses, live state, stream and poll payloads, geometry, status)
is captured and searched for the planted strings and their masked forms. A leader's tablet is
captured the same way, drilled down to grid level where the case list shows the planted cases.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from dashboard.cases import duty_service
from dashboard.access.auth import Role
from dashboard.domain.masking import mask_address, mask_id_number, mask_name, mask_phone
from dashboard.cases.personal_data import Actor
from dashboard.runtime import Runtime
from dashboard.access.security import CSRF_COOKIE
from dashboard.settings import PROJECT_ROOT
from data_access import aggregates, cases
from tests.conftest import REDIS_URL
from tests.dashboard.auth_support import as_role, new_screen, new_source_token
from tests.dashboard.access.test_privacy import IN_DESCRIPTION, OPEN311_DESCRIPTION, OPEN311_PLANTED, PLANTED, planted_strings
from tests.factories import GRID_CODES, small_county
from tests.serving import wait_until_serving
from tests.waiting import wait_until

PEOPLE = [
    {"party_name": "欧阳测试甲", "party_phone": "13912345678", "party_id_number": "220283199001011234",
     "address": "测试镇隐私村幸福路88号"},
    {"party_name": "诸葛测丁", "party_phone": "0431-87654321", "party_id_number": "22028319851231567X",
     "address": "测试乡机密屯五组3号"},
]
IN_TEXT = {"party_name": "上官测戊", "party_phone": "15166667777", "party_id_number": "220283197502025555",
           "address": "测试镇保密村光明街12号"}
"""A third party who appears only in free text: descriptions and notes, never a party field."""
COUNTY = small_county()
TOWNSHIPS = [t.code for t in COUNTY.townships]
VILLAGE = COUNTY.villages[0].code
GRID = GRID_CODES[0]


def description(person: dict[str, str]) -> str:
    """What a reporter types: both parties' name, mobile, ID number and address."""
    return (f"{person['party_name']}与{IN_TEXT['party_name']}因土地承包纠纷，电话{person['party_phone']}，"
            f"身份证{person['party_id_number']}，住{person['address']}；对方电话{IN_TEXT['party_phone']}，"
            f"身份证{IN_TEXT['party_id_number']}，住{IN_TEXT['address']}")


def note(person: dict[str, str]) -> str:
    return (f"已电话联系{person['party_name']}（{person['party_phone']}），核对身份证{person['party_id_number']}，"
            f"上门至{person['address']}；{IN_TEXT['party_name']}电话{IN_TEXT['party_phone']}")


def every_planted() -> list[str]:
    """Every planted value, raw and masked: a wall or tablet must receive neither."""
    people = [*PEOPLE, IN_TEXT]
    raw = [value for person in people for value in person.values()]
    masked = [f(p[k]) for p in people for k, f in (("party_name", mask_name), ("party_phone", mask_phone),
                                                    ("party_id_number", mask_id_number), ("address", mask_address))]
    return sorted({s for s in [*planted_strings(), *IN_DESCRIPTION, *raw, *masked] if s})


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
    """Reads the wall's event stream into ``chunks`` until stopped; a broken stream is recorded there too."""

    def __init__(self, client: httpx.Client, url: str) -> None:
        super().__init__(daemon=True)
        self.client, self.url = client, url
        self.chunks: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            with self.client.stream("GET", self.url) as response:
                self.chunks.append(f"status {response.status_code}\n")
                for text in response.iter_text():
                    self.chunks.append(text)
                    if self.stop.is_set():
                        return
        except httpx.TransportError as error:
            if not self.stop.is_set():  # the server going away after the test is done is expected
                self.chunks.append(f"transport error {error!r}\n")


def streamed_version(stream: str) -> int:
    """The newest aggregate version a stream has brought its screen to: a state id starts with it
    (``dashboard.live.live_state.state_id``); 0 before any state."""
    reached = 0
    for event in stream.split("\n\n")[:-1]:  # the text after the last blank line may be cut off
        lines = event.split("\n")
        if "event: full" in lines or "event: delta" in lines:
            body = json.loads(next(line for line in lines if line.startswith("data: ")).removeprefix("data: "))
            reached = max(reached, int(str(body.get("to") or body["id"]).split("-")[0]))
    return reached


def plant_cases(url: str, token: str, runtime: Runtime) -> list[int]:
    """Cases with personal data everywhere a writer can put it; returns their ids."""
    source = httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"})
    received = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    ids = []
    for n, person in enumerate([PLANTED, *PEOPLE]):
        for grid in GRID_CODES[:2]:
            posted = source.post("/api/cases", json={
                "external_ref": f"PII-{n}-{grid}", "category": "land", "received_at": received,
                "location": {"grid_code": grid}, "people_involved": 40 if n == 0 else 3, "risk_extreme": n == 1,
                "description": description(person), **person})
            assert posted.status_code == 201, posted.text
            ids.append(posted.json()["id"])
    assert source.post("/open311/v2/requests.json", data={
        "api_key": token, "service_code": "debt", "attribute[grid_code]": GRID_CODES[3],
        "description": OPEN311_DESCRIPTION, **OPEN311_PLANTED,
    }).status_code == 201
    for case_id, person in zip(ids, [p for p in (PLANTED, *PEOPLE) for _ in GRID_CODES[:2]], strict=True):
        for action in ("assess", "supervise"):
            moved = source.post(f"/api/cases/{case_id}/events", json={"action": action, "actor": "研判员",
                                                                      "note": note(person)})
            assert moved.status_code == 201, moved.text
    officer = Actor("值班员甲", Role.duty_officer.value)
    duty_service.acknowledge(runtime, ids[2], who=officer)
    duty_service.supervise(runtime, ids[3], who=officer, note=note(PEOPLE[1]))
    duty_service.add_handover_note(runtime, who=officer, text=note(PEOPLE[0]))
    with runtime.sessions() as session:
        stored = cases.get(session, ids[0])
        assert stored is not None and stored.party_phone == PLANTED["party_phone"]
        assert stored.description == description(PLANTED) and stored.events[-1].note == note(PLANTED)
    return ids


@dataclass
class Exercised:
    """Every callback the page registers and what the server answered for each request."""

    statuses: dict[str, list[int]] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    clientside: list[str] = field(default_factory=list)


def exercise_callbacks(client: httpx.Client, variants: list[dict[str, object]]) -> Exercised:
    """Post every server-side callback once per variant of its input and state values.

    A clientside callback runs in the browser and neither sends nor receives anything from the
    server (the only one writes ``window.location`` into the address element), so it is listed,
    not posted. A pattern-matching input or state (``ALL``) is posted as the renderer posts it
    when no component matches: an empty list. A pattern-matching output would need concrete ids:
    the test stops so whoever adds one extends it."""
    dependencies = client.get("/_dash-dependencies").json()
    done = Exercised()
    for dep in dependencies:
        output = dep["output"]
        if dep.get("clientside_function"):
            done.clientside.append(output)
            continue
        assert not output.startswith("{") and '.{"' not in output, \
            f"a callback with a pattern-matching output ({output}) is not exercised: extend exercise_callbacks"
        specs = output[2:-2].split("...") if output.startswith("..") else [output]
        outputs = [{"id": s.rsplit(".", 1)[0], "property": s.rsplit(".", 1)[1]} for s in specs]
        seen: set[str] = set()
        for variant in variants:
            def value(item: dict[str, str]) -> object:
                return variant.get(f"{item['id']}.{item['property']}", variant.get(item["property"]))

            def entry(item: dict[str, str]) -> object:
                if isinstance(item["id"], dict) or str(item["id"]).startswith("{"):
                    return []  # a wildcard that matches no component on the page
                return {"id": item["id"], "property": item["property"], "value": value(item)}
            inputs = [entry(i) for i in dep["inputs"]]
            state = [entry(s) for s in dep.get("state", [])]
            key = json.dumps([inputs, state])
            if key in seen:
                continue
            seen.add(key)
            response = client.post("/_dash-update-component", json={
                "output": output, "outputs": outputs if len(outputs) > 1 else outputs[0], "inputs": inputs,
                "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs if isinstance(i, dict)][:1],
                "state": state})
            assert response.status_code < 500, (output, response.status_code, response.text[:300])
            done.statuses.setdefault(output, []).append(response.status_code)
            done.texts.append(response.text)
    assert done.statuses, "no server callback was found"
    return done


def find_leaks(captured: list[str]) -> list[str]:
    everything = "\n".join([*captured, *(_decoded(text) for text in captured)])
    return [s for s in every_planted() if s in everything]


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

    ids = plant_cases(url, token, runtime)
    planted_version = aggregates.read_built_version(runtime.redis, county)[1]

    try:
        wait_until(lambda: "event: delta" in "".join(tap.chunks)
                   and streamed_version("".join(tap.chunks)) >= planted_version, 15, interval=0.2,
                   message=lambda: f"the stream to reach aggregate version {planted_version}, the last planted "
                                   f"write's (it is at {streamed_version(''.join(tap.chunks))})")
    finally:
        tap.stop.set()
    stream = "".join(tap.chunks)
    assert stream.startswith("status 200") and "event: full" in stream and "event: delta" in stream
    captured.append(stream)

    wall.headers["X-CSRFToken"] = wall.cookies[CSRF_COOKIE]
    for path in ("/", "/screen?lang=en", "/_dash-layout", "/_dash-dependencies", "/api/live/state",
                 f"/api/live/state?area={TOWNSHIPS[0]}", "/api/live/state?lang=en&days=365", "/api/live/poll",
                 f"/api/live/poll?since={before}", "/api/geo/grids.geojson", "/api/geo/townships.geojson",
                 "/api/geo/centers.geojson", "/api/status"):
        response = wall.get(path)
        assert response.status_code == 200, (path, response.status_code)
        captured.append(response.text)
    addresses = ["/screen", "/", "/screen?lang=en", "/screen?days=365", f"/screen?township={TOWNSHIPS[0]}",
                 "/tablet", "/duty", f"/duty?case={ids[0]}"]
    variants: list[dict[str, object]] = [
        {"page-address.children": a, "pathname": a.partition("?")[0], "search": "".join(a.partition("?")[1:]),
         "n_intervals": 1, "n_clicks": 1} for a in addresses]
    done = exercise_callbacks(wall, variants)
    captured.extend(done.texts)
    assert done.statuses["wall-page.children"] == [200] * len(addresses)
    assert set(done.statuses["screen-body.children"]) == {200}
    refused = {o for o, s in done.statuses.items() if set(s) == {403}}
    assert {o for o in refused if not o.startswith(("tablet-", "..tablet-", "..duty-", "duty-"))} == set(), \
        "only the tablet's and the console's callbacks are refused to a wall"
    assert done.clientside == ["page-address.children"]
    walls = [t for t in done.texts if "wall-live" in t]
    assert len(walls) >= 5 and any(TOWNSHIPS[0] in t for t in walls), "the wall's own page was not rendered"

    everything = "\n".join(captured)
    assert GRID in everything and "received_today" in everything, "the capture missed the wall's data"
    assert find_leaks(captured) == [], "personal data reached the wall"


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_nothing_sent_to_a_leaders_tablet_contains_personal_data(runtime: Runtime, county: str,
                                                                 server: tuple[str, str, str]) -> None:
    url, token, _ = server
    ids = plant_cases(url, token, runtime)
    tablet = httpx.Client(base_url=url, timeout=30)
    as_role(tablet, runtime, Role.leader, name="县领导甲")  # type: ignore[arg-type]
    captured: list[str] = []
    for path in ("/tablet", "/tablet?lang=en", "/_dash-layout", "/_dash-dependencies", "/api/status"):
        response = tablet.get(path)
        assert response.status_code == 200, (path, response.status_code)
        captured.append(response.text)
    searches = ["", f"?area={TOWNSHIPS[0]}", f"?area={VILLAGE}", f"?area={GRID}", f"?area={GRID}&range=today",
                f"?area={GRID}&range=custom&from=2020-01-01&to=2030-12-31", f"?area={GRID}&lang=en",
                f"?compare={TOWNSHIPS[0]},{TOWNSHIPS[1]}"]
    today = datetime.now(UTC).date().isoformat()
    variants: list[dict[str, object]] = [
        {"page-address.children": f"/tablet{s}", "pathname": "/tablet", "search": s, "n_intervals": 1,
         "n_clicks": 1, "start_date": "2025-01-01", "end_date": today, "tablet-compare-a.value": TOWNSHIPS[0],
         "tablet-compare-b.value": TOWNSHIPS[1]} for s in searches]
    done = exercise_callbacks(tablet, variants)
    captured.extend(done.texts)
    for output in ("wall-page.children", "screen-body.children", "tablet-body.children"):
        assert set(done.statuses[output]) == {200}, (output, done.statuses[output])
    assert {o for o, s in done.statuses.items() if 403 in s} == {o for o in done.statuses if "duty-" in o}, \
        "a leader runs every tablet callback and none of the console's"
    grid_lists = [t for t in done.texts if "tablet-cases" in t and GRID[-6:] in t]
    assert grid_lists and all(f"#{i}" in "".join(grid_lists) for i in ids[::2]), \
        "the grid's case list with the planted cases was not captured"
    assert find_leaks(captured) == [], "personal data reached the tablet"


def test_the_capture_finds_planted_text_however_it_is_encoded() -> None:
    """The search itself can fail: a planted value in a callback's escaped JSON or an event's data line."""
    escaped = json.dumps({"response": {"x": {"children": description(PEOPLE[1])}}})
    assert "\\u" in escaped and find_leaks([escaped])
    assert find_leaks([f"status 200\nevent: delta\ndata: {json.dumps({'t': mask_phone(IN_TEXT['party_phone'])})}\n"])
    assert find_leaks(["ok"]) == []


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
