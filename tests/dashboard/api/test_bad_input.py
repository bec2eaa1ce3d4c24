"""Hostile and broken requests: refused with a clear 4xx in the API's error format, or stored
verbatim as text and never executed; a refused request leaves no trace."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dashboard.access.auth import Role
from dashboard.api.outage import MAX_BODY_BYTES
from dashboard.runtime import Runtime
from dashboard.access.security import MAX_CALLBACK_BYTES
from app import create_app
from data_access import areas, cases
from data_access.models import AuditEntry, Case
from tests.dashboard.auth_support import as_role, new_source_token
from tests.factories import GRID_CODES

HOSTILE = ["<script>alert(1)</script>", "'; DROP TABLE case; --", "Robert'); DROP TABLE case_event;--",
           "{{7*7}} ${7*7} %s %n", "\u202e\u200b漢字 emoji 🧯", "../../etc/passwd"]


@pytest.fixture
def api(runtime: Runtime, county: str) -> TestClient:
    client = TestClient(create_app(runtime).server)
    client.headers["Authorization"] = f"Bearer {new_source_token(runtime, 'bad-input', 'online')}"
    return client


def _case(ref: str, **extra: object) -> dict[str, object]:
    return {"external_ref": ref, "category": "neighbour",
            "received_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            "location": {"grid_code": GRID_CODES[0]}, **extra}


def _count(runtime: Runtime, county: str) -> int:
    with runtime.sessions() as session:
        return cases.count(session, county)


def _clear_error(response, status: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    errors = response.json()["errors"]
    assert errors and all(set(e) == {"code", "field", "message"} and e["message"] for e in errors)
    return errors[0]


def test_oversized_bodies_are_refused_before_they_are_read(api: TestClient, runtime: Runtime, county: str) -> None:
    huge = api.post("/api/cases", json=_case("big-1", description="纠" * (2 * 1024 * 1024 // 3)))
    assert _clear_error(huge, 413)["code"] == "too_large"

    def chunks():  # no Content-Length: the limit must hold for a streamed body too
        yield b'{"external_ref": "big-2", "description": "'
        for _ in range(MAX_BODY_BYTES // 1024 + 1):
            yield b"x" * 1024
        yield b'"}'

    streamed = api.post("/api/cases", content=chunks(), headers={"Content-Type": "application/json"})
    assert _clear_error(streamed, 413)["code"] == "too_large"
    assert _count(runtime, county) == 0

    open311 = api.post("/open311/v2/requests.json", content=b"x" * (MAX_BODY_BYTES + 1),
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert open311.status_code == 413 and open311.json() == [
        {"code": 413, "description": f"request bodies are limited to {MAX_BODY_BYTES} bytes"}], "Open311's own shape"
    as_xml = api.post("/open311/v2/requests.xml", content=b"x" * (MAX_BODY_BYTES + 1),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert as_xml.status_code == 413 and as_xml.headers["content-type"].startswith("text/xml")
    error = ET.fromstring(as_xml.content)
    assert error.tag == "errors" and error.findtext("error/code") == "413", "an .xml route refuses in XML"
    assert error.findtext("error/description") == f"request bodies are limited to {MAX_BODY_BYTES} bytes"


@pytest.mark.parametrize("path", ["/login", "/logout"])
def test_sign_in_and_out_refuse_oversized_bodies_before_reading_them(runtime: Runtime, county: str, path: str) -> None:
    """Anyone can post to these, signed in or not: a large body is refused before it is read,
    declared or streamed, and the audit log stays empty."""
    client = TestClient(create_app(runtime).server)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    declared = client.post(path, content=b"name=x&password=" + b"p" * MAX_BODY_BYTES, headers=form)
    assert _clear_error(declared, 413)["code"] == "too_large"

    def chunks():
        yield b"name=x&password="
        for _ in range(MAX_BODY_BYTES // 1024 + 1):
            yield b"p" * 1024

    streamed = client.post(path, content=chunks(), headers=form)
    assert _clear_error(streamed, 413)["code"] == "too_large"
    with runtime.sessions() as session:
        assert session.scalar(select(AuditEntry.id).limit(1)) is None


def test_long_arrays_and_many_fields_are_refused(api: TestClient, runtime: Runtime, county: str) -> None:
    _clear_error(api.post("/api/cases", json=[{"external_ref": i} for i in range(10_000)]), 422)
    _clear_error(api.post("/api/cases", json=_case("arr-1", description=list(range(10_000)))), 422)
    _clear_error(api.post("/api/cases", json=_case("arr-2", location={f"k{i}": i for i in range(10_000)})), 422)
    assert _count(runtime, county) == 0


@pytest.mark.parametrize("raw", [b'{"external_ref": "m-1", ', b"\x0c\xff", b"not json", b"", b"[]", b"null",
                                 b'{"external_ref": "m-1"}' * 2])
def test_malformed_json_is_a_clear_error(api: TestClient, runtime: Runtime, county: str, raw: bytes) -> None:
    response = api.post("/api/cases", content=raw, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    _clear_error(response, response.status_code)
    assert _count(runtime, county) == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml",
                                          "multipart/form-data; boundary=x"])
def test_wrong_content_types_are_refused(api: TestClient, runtime: Runtime, county: str, content_type: str) -> None:
    response = api.post("/api/cases", content=orjson.dumps(_case("ct-1")), headers={"Content-Type": content_type})
    assert 400 <= response.status_code < 500
    _clear_error(response, response.status_code)
    assert _count(runtime, county) == 0


def test_hostile_strings_are_stored_verbatim_and_never_executed(api: TestClient, runtime: Runtime,
                                                                county: str) -> None:
    for i, text in enumerate(HOSTILE):
        posted = api.post("/api/cases", json=_case(text[:64], description=text, received_by=text[:64]))
        assert posted.status_code == 201, posted.text
        assert posted.headers["content-type"].startswith("application/json")
        stored = api.get(f"/api/cases/{posted.json()['id']}").json()
        assert stored["external_ref"] == text[:64] and stored["events"][0]["actor"] == text[:64]
        moved = api.post(f"/api/cases/{stored['id']}/events", json={"action": "assess", "actor": text[:64],
                                                                    "note": text})
        assert moved.status_code == 201 and moved.json()["events"][-1]["note"] == text
        assert i + 1 == _count(runtime, county), "a hostile string changed what is stored"
    with runtime.sessions() as session:
        refs = set(session.scalars(select(Case.external_ref)))
    assert refs == {text[:64] for text in HOSTILE}
    figures = api.get("/api/figures", params={"area": "'; DROP TABLE case; --", "from": "2026-01-01",
                                              "to": "2026-01-02"})
    assert _clear_error(figures, 404)["field"] == "area"
    assert _count(runtime, county) == len(HOSTILE)


@pytest.mark.parametrize(("field", "raw"), [("external_ref", '"nul\\u0000ref"'), ("description", '"a\\u0000b"'),
                                            ("description", '"lone \\ud800 surrogate"'),
                                            ("received_by", '"\\udfff"')])
def test_nul_and_lone_surrogates_are_refused_with_the_field(api: TestClient, runtime: Runtime, county: str,
                                                            field: str, raw: str) -> None:
    body = orjson.dumps(_case("nul-1" if field != "external_ref" else "x")).decode()
    body = body[:-1] + f', "{field}": {raw}}}' if field != "external_ref" else \
        body.replace('"external_ref":"x"', f'"external_ref":{raw}')
    response = api.post("/api/cases", content=body.encode(), headers={"Content-Type": "application/json"})
    error = _clear_error(response, 422)
    assert error["field"] == field
    assert _count(runtime, county) == 0


def test_nul_in_a_query_is_a_clear_error(api: TestClient, runtime: Runtime, county: str) -> None:
    response = api.get("/api/figures", params={"area": "99\x0001", "from": "2026-01-01", "to": "2026-01-02"})
    assert 400 <= response.status_code < 500
    _clear_error(response, response.status_code)


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [64, 5_000, 50_000])
def test_deeply_nested_json_is_a_clear_error(api: TestClient, runtime: Runtime, county: str, depth: int) -> None:
    """Nesting deep enough to exhaust a recursive parser is refused like any other bad body."""
    case = api.post("/api/cases", content=b'{"external_ref": "deep", "location": ' + _nested(depth) + b"}",
                    headers={"Content-Type": "application/json"})
    assert 400 <= case.status_code < 500
    _clear_error(case, case.status_code)
    posted = api.post("/api/cases", json=_case("deep-1"))
    event = api.post(f"/api/cases/{posted.json()['id']}/events", content=_nested(depth),
                     headers={"Content-Type": "application/json"})
    assert 400 <= event.status_code < 500
    _clear_error(event, event.status_code)
    open311 = api.post("/open311/v2/requests.json", headers={"Content-Type": "application/json"},
                       content=b'{"service_code": "debt", "attribute": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}")
    assert 400 <= open311.status_code < 500, open311.text
    assert _count(runtime, county) == 1


@pytest.mark.parametrize("raw", [b"not json", b"[]", b'{"output": 1, "inputs": []}', b'{"output": "a.b", "inputs": {}}',
                                 b'{"output": "a.b", "inputs": [[[{"id": "x"}]]]}', _nested(5_000),
                                 b'{"output": "wall-page.children", "inputs": ' + _nested(100) + b"}"])
@pytest.mark.parametrize("role", [Role.screen, Role.duty_officer], ids=str)
def test_a_malformed_callback_request_is_a_clear_error(runtime: Runtime, county: str, raw: bytes, role: Role) -> None:
    """Dash answers a malformed callback request with a bare 500; the gate refuses it first."""
    client = TestClient(create_app(runtime).server, raise_server_exceptions=False)
    as_role(client, runtime, role, county=county)
    response = client.post("/_dash-update-component", content=raw, headers={"Content-Type": "application/json"})
    assert _clear_error(response, 400)["code"] == "malformed"


def test_an_oversized_callback_request_is_refused(runtime: Runtime, county: str) -> None:
    client = TestClient(create_app(runtime).server, raise_server_exceptions=False)
    as_role(client, runtime, Role.screen, county=county)
    response = client.post("/_dash-update-component", content=b'{"output": "' + b"x" * MAX_CALLBACK_BYTES + b'"}',
                           headers={"Content-Type": "application/json"})
    assert _clear_error(response, 413)["code"] == "too_large"


@pytest.mark.parametrize(("extra", "field"), [({"center_id": 999_999}, "center_id"), ({"center_id": 0}, "center_id"),
                                              ({"department_id": 999_999}, "department_id"),
                                              ({"center_id": 2**40}, "center_id")])
def test_an_event_naming_an_unknown_centre_or_department_is_refused(api: TestClient, runtime: Runtime, county: str,
                                                                    extra: dict[str, int], field: str) -> None:
    """Found by the long fuzz run: an unknown centre failed the foreign key with a 500."""
    posted = api.post("/api/cases", json=_case("place-1")).json()
    response = api.post(f"/api/cases/{posted['id']}/events", json={"action": "assign", "actor": "x", **extra})
    assert _clear_error(response, 422)["field"] == field
    assert api.get(f"/api/cases/{posted['id']}").json()["events"] == posted["events"]
    with runtime.sessions() as session:
        center = areas.centers(session, county)[0]
    moved = api.post(f"/api/cases/{posted['id']}/events", json={"action": "assign", "actor": "x", "center_id": center.id})
    assert moved.status_code == 201, moved.text


@pytest.mark.parametrize("query", ["period=0001-01-01_0001-12-31", "period=9999-01-01_9999-12-31", "period=0d"])
def test_live_periods_outside_the_supported_days_are_refused(runtime: Runtime, county: str, query: str) -> None:
    """A wall's period of year 1 overflowed last year's period (a 500); it is a 422 now."""
    client = TestClient(create_app(runtime).server)
    as_role(client, runtime, Role.screen, county=county)
    for route in ("state", "poll"):
        assert _clear_error(client.get(f"/api/live/{route}?{query}"), 422)["field"] == "period"
