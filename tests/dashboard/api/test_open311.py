"""Open311 GeoReport v2 on both backends: discovery, services, POST round trips, refusals that leave
no trace and answer in Open311's error shape, idempotent retries, status and filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from dashboard.api.open311 import (
    Open311Error,
    category_of,
    derived_refs,
    parse_submission,
    parse_w3c,
    request_out,
    request_query,
    services_out,
)
from dashboard.runtime import Runtime
from dashboard.domain.periods import LOCAL_TZ
from dashboard.domain.vocabulary import Action, Category, Status
from data_access import cases
from data_access.models import Case
from tests.dashboard.api.open311_support import app_token, open311_client

GRID = "990101001001001"
REQUESTS = "/open311/v2/requests.json"


@pytest.fixture
def token(runtime: Runtime, county: str) -> str:
    return app_token(runtime)



@pytest.fixture
def api(runtime: Runtime, token: str) -> TestClient:
    return open311_client(runtime)


def _form(token: str, **extra: str) -> dict[str, str]:
    form = {"api_key": token, "service_code": "labour_wages", "lat": "44.05", "long": "127.05",
            "description": "工地拖欠三个月工资"}
    form.update(extra)
    return form


def _count(runtime: Runtime, county: str) -> int:
    with runtime.sessions() as session:
        return cases.count(session, county)


def _open311_error(response: object, status: int) -> str:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert isinstance(body, list) and len(body) == 1 and body[0]["code"] == status, body
    return str(body[0]["description"])


def _close(runtime: Runtime, case_id: int) -> None:
    for action in (Action.assess, Action.dispatch, Action.mediate, Action.resolve):
        runtime.cases.act(case_id, action, actor="调解员")


def test_discovery_names_the_spec_and_our_url(api: TestClient) -> None:
    body = api.get("/open311/v2/discovery.json").json()
    assert body["changeset"] and body["contact"] and body["key_service"]
    assert body["endpoints"] == [{"specification": "http://wiki.open311.org/GeoReport_v2",
                                  "url": "http://testserver/open311/v2", "changeset": body["changeset"],
                                  "type": "production", "formats": ["text/xml", "application/json"]}]


def test_services_are_our_categories(api: TestClient, county: str) -> None:
    body = api.get("/open311/v2/services.json").json()
    assert [s["service_code"] for s in body] == [c.value for c in Category]
    labour = next(s for s in body if s["service_code"] == "labour_wages")
    assert labour["service_name"] == "劳资纠纷" and labour["group"] == "矛盾纠纷"
    assert labour["metadata"] is True and labour["type"] == "realtime" and "欠薪" in labour["keywords"]
    assert api.get("/open311/v2/services.json", params={"jurisdiction_id": county}).json() == body
    _open311_error(api.get("/open311/v2/services.json", params={"jurisdiction_id": "110101"}), 404)


def test_post_form_then_get_round_trip(api: TestClient, runtime: Runtime, token: str) -> None:
    posted = api.post(REQUESTS, data=_form(token))
    assert posted.status_code == 201, posted.text
    assert posted.headers["content-type"].startswith("application/json")
    [receipt] = posted.json()
    assert receipt["service_request_id"].isdigit() and receipt["account_id"] is None and receipt["service_notice"]
    [request] = api.get(f"/open311/v2/requests/{receipt['service_request_id']}.json",
                        params={"api_key": token}).json()
    with runtime.sessions() as session:
        case = cases.get(session, int(receipt["service_request_id"]))
        assert case is not None
        due = case.due_at
    assert request["service_request_id"] == receipt["service_request_id"]
    assert (request["status"], request["service_code"], request["service_name"]) == ("open", "labour_wages", "劳资纠纷")
    assert request["expected_datetime"] == due.astimezone(LOCAL_TZ).isoformat(timespec="seconds")
    assert request["expected_datetime"].endswith("+08:00")
    assert datetime.fromisoformat(request["requested_datetime"]) <= datetime.now(UTC)
    assert (request["lat"], request["long"], request["description"]) == (44.05, 127.05, "工地拖欠三个月工资")
    assert request["agency_responsible"] == "矛调中心" and request["status_notes"] == "已受理"
    [public] = api.get(f"/open311/v2/requests/{receipt['service_request_id']}.json").json()
    assert (public["description"], public["status_notes"]) == (None, None)
    assert {k: v for k, v in public.items() if k not in ("description", "status_notes")} == \
        {k: v for k, v in request.items() if k not in ("description", "status_notes")}


def test_case_appears_in_our_api_with_the_clients_source(api: TestClient, token: str) -> None:
    posted = api.post(REQUESTS, data=_form(token, first_name="张", last_name="三", phone="13800000000",
                                           email="zhangsan@example.com", device_id="dev-1", account_id="acc-1",
                                           media_url="http://example.com/a.jpg"))
    case_id = posted.json()[0]["service_request_id"]
    ours = api.get(f"/api/cases/{case_id}", headers={"Authorization": f"Bearer {token}"})
    assert ours.status_code == 200, ours.text
    body = ours.json()
    assert (body["source"], body["category"], body["grid_code"]) == ("online", "labour_wages", GRID)
    assert body["events"][0]["actor"] == "市民APP"
    stored = str(body)
    for personal in ("张", "13800000000", "zhangsan@example.com", "dev-1", "acc-1", "a.jpg"):
        assert personal not in stored


def test_json_body_with_a_grid_code_is_accepted(api: TestClient, token: str) -> None:
    posted = api.post(REQUESTS, json={"api_key": token, "service_code": "neighbour",
                                      "attribute": {"grid_code": GRID, "external_ref": "APP-7"}})
    assert posted.status_code == 201, posted.text
    [request] = api.get(f"/open311/v2/requests/{posted.json()[0]['service_request_id']}.json").json()
    assert request["service_code"] == "neighbour"
    assert 127.0 < request["long"] < 127.2 and 44.0 < request["lat"] < 44.1
    flat = api.post(REQUESTS, json={"api_key": token, "service_code": "neighbour", "attribute[grid_code]": GRID,
                                    "attribute[external_ref]": "APP-7"})
    assert flat.status_code == 200 and flat.json() == posted.json()


def test_one_post_and_one_read_each_use_one_database_session(
    runtime: Runtime, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, service, real, opened = open311_client(runtime), runtime.cases, runtime.sessions, []

    def counting() -> object:
        opened.append(1)
        return real()

    monkeypatch.setitem(runtime.__dict__, "sessions", counting)
    monkeypatch.setattr(service, "sessions", counting)
    posted = api.post(REQUESTS, data=_form(token))
    assert posted.status_code == 201, posted.text
    assert len(opened) == 1
    read = api.get(f"/open311/v2/requests/{posted.json()[0]['service_request_id']}.json")
    assert read.status_code == 200 and len(opened) == 2


def test_missing_or_unknown_api_key_is_forbidden(api: TestClient, runtime: Runtime, county: str, token: str) -> None:
    form = _form(token)
    del form["api_key"]
    assert "api_key" in _open311_error(api.post(REQUESTS, data=form), 403)
    _open311_error(api.post(REQUESTS, data=_form("mct_forged")), 403)
    assert _count(runtime, county) == 0


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"service_code": "alien_abduction"}, "service_code"),
        ({"service_code": ""}, "service_code"),
        ({"lat": "北纬44"}, "lat"),
        ({"lat": "95"}, "lat"),
        ({"long": ""}, "lat and long"),
        ({"lat": "", "long": "", "address_string": "舒兰市吉舒街道"}, "addresses"),
        ({"lat": "", "long": ""}, "location"),
        ({"lat": "39.9", "long": "116.4"}, "outside"),
        ({"attribute[grid_code]": "990101002002002"}, "grid"),
        ({"lat": "", "long": "", "attribute[grid_code]": "000"}, "attribute[grid_code]"),
        ({"description": "长" * 4001}, "description"),
        ({"jurisdiction_id": "110101"}, "jurisdiction_id"),
    ],
)
def test_bad_request_is_refused_and_nothing_written(api: TestClient, runtime: Runtime, county: str, token: str,
                                                    change: dict[str, str], words: str) -> None:
    status = 404 if "jurisdiction_id" in change else 400
    assert words in _open311_error(api.post(REQUESTS, data=_form(token, **change)), status)
    assert _count(runtime, county) == 0


def test_unsupported_bodies_get_open311_errors(api: TestClient, token: str) -> None:
    _open311_error(api.post(REQUESTS, content=b"{not json", headers={"content-type": "application/json"}), 400)
    _open311_error(api.post(REQUESTS, json=[1, 2]), 400)
    _open311_error(api.post(REQUESTS, files={"photo": ("a.jpg", b"x")}, data=_form(token)), 400)
    _open311_error(api.get("/open311/v2/services.csv"), 404)


def test_retry_returns_the_same_request_and_writes_one_case(runtime: Runtime, county: str, token: str) -> None:
    moment = datetime.now(UTC).replace(second=30)
    if moment > datetime.now(UTC):
        moment -= timedelta(minutes=1)
    api = open311_client(runtime, clock=lambda: moment)
    first = api.post(REQUESTS, data=_form(token))
    again = api.post(REQUESTS, data=_form(token))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()[0]["service_request_id"] == first.json()[0]["service_request_id"]
    other = api.post(REQUESTS, data=_form(token, description="另一起欠薪"))
    assert other.json()[0]["service_request_id"] != first.json()[0]["service_request_id"]
    assert _count(runtime, county) == 2


def test_closed_case_reads_closed(api: TestClient, runtime: Runtime, token: str) -> None:
    case_id = api.post(REQUESTS, data=_form(token)).json()[0]["service_request_id"]
    _close(runtime, int(case_id))
    [request] = api.get(f"/open311/v2/requests/{case_id}.json", params={"api_key": token}).json()
    assert (request["status"], request["status_notes"], request["service_notice"]) == ("closed", "已办结", "已办结")
    assert request["updated_datetime"] >= request["requested_datetime"]


def test_requests_filter_by_status_code_id_and_dates(api: TestClient, runtime: Runtime, token: str) -> None:
    ids = [api.post(REQUESTS, data=_form(token, service_code=code, description=f"第{n}起")).json()[0]["service_request_id"]
           for n, code in enumerate(("labour_wages", "labour_wages", "debt"))]
    _close(runtime, int(ids[0]))

    def listed(**params: str) -> list[str]:
        response = api.get(REQUESTS, params=params)
        assert response.status_code == 200, response.text
        return [r["service_request_id"] for r in response.json()]

    assert listed() == ids[::-1]
    assert listed(status="closed") == [ids[0]]
    assert listed(status="open") == [ids[2], ids[1]]
    assert listed(status="open,closed") == ids[::-1]
    assert listed(service_code="labour_wages") == [ids[1], ids[0]]
    assert listed(service_code="labour_wages", status="open") == [ids[1]]
    assert listed(service_code="debt,labour_wages", status="closed") == [ids[0]]
    assert listed(service_request_id=f"{ids[2]},{ids[0]}", status="open") == [ids[2], ids[0]]
    now = datetime.now(UTC)
    assert listed(start_date=(now - timedelta(hours=1)).isoformat()) == ids[::-1]
    assert listed(start_date=(now + timedelta(hours=1)).isoformat()) == []
    assert listed(end_date=(now - timedelta(hours=1)).isoformat()) == []
    _open311_error(api.get(REQUESTS, params={"status": "pending"}), 400)
    _open311_error(api.get(REQUESTS, params={"service_code": "nope"}), 400)
    _open311_error(api.get(REQUESTS, params={"start_date": "yesterday"}), 400)
    _open311_error(api.get(REQUESTS, params={"start_date": "2026-01-01", "end_date": "2026-06-01"}), 400)


def test_unknown_request_is_404(api: TestClient, runtime: Runtime, county: str) -> None:
    _open311_error(api.get("/open311/v2/requests/999999.json"), 404)
    _open311_error(api.get("/open311/v2/requests/abc.json"), 404)
    _open311_error(api.get("/open311/v2/requests/99999999999999999999999.json"), 404)


def test_category_and_service_code_map_both_ways() -> None:
    assert [category_of(s["service_code"]) for s in services_out()] == list(Category)  # type: ignore[arg-type]
    names = [s["service_name"] for s in services_out()]
    assert names[:4] == ["婚姻家庭", "邻里纠纷", "土地纠纷", "劳资纠纷"] and names[-1] == "其他"
    with pytest.raises(Open311Error) as refused:
        category_of("pothole")
    assert refused.value.status == 400


def test_request_out_maps_a_case_without_a_database() -> None:
    received = datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
    case = Case(id=42, category="debt", description="借款不还", status=Status.followed_up.value, grid_code=GRID,
                lon=None, lat=None, received_at=received, updated_at=received + timedelta(days=3),
                due_at=received + timedelta(days=7))
    out = request_out(case, (127.1, 44.05))
    assert out["service_request_id"] == "42" and out["status"] == "closed" and out["service_name"] == "债务纠纷"
    assert out["requested_datetime"] == "2026-11-22T09:30:00+08:00"
    assert (out["lat"], out["long"], out["address"], out["media_url"]) == (44.05, 127.1, "", None)
    assert (out["description"], out["status_notes"]) == (None, None)
    assert (request_out(case, keyed=True)["description"], request_out(case, keyed=True)["status_notes"]) == \
        ("借款不还", "已回访")
    assert request_out(case)["lat"] is None


def test_derived_refs_name_this_minute_and_the_previous_one() -> None:
    at = datetime(2026, 11, 22, 1, 30, 5, tzinfo=UTC)
    report = parse_submission({"service_code": "debt", "lat": "44.05", "long": "127.05", "description": "借款"})
    now, previous = derived_refs(1, report, at)
    assert (now, previous) == derived_refs(1, report, at + timedelta(seconds=50))
    assert derived_refs(1, report, at + timedelta(minutes=1)) == (derived_refs(1, report, at + timedelta(minutes=1))[0], now)
    assert now != derived_refs(2, report, at)[0]
    assert now.startswith("open311-") and len(now) <= 64


def test_dates_parse_like_open311_clients_send_them() -> None:
    assert parse_w3c("2026-11-22T09:30:00+08:00", "start_date") == datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
    assert parse_w3c("2026-11-22T09:30:00 08:00", "start_date") == datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
    assert parse_w3c("2026-11-22T01:30:00Z", "start_date") == datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
    assert parse_w3c("2026-11-22", "start_date") == datetime(2026, 11, 21, 16, tzinfo=UTC)
    assert parse_w3c("2026-11-22", "end_date", end=True) == datetime(2026, 11, 22, 16, tzinfo=UTC) - timedelta(microseconds=1)
    with pytest.raises(Open311Error):
        parse_w3c("2026-11-22T09:30:00", "start_date")


def test_query_defaults_to_the_last_90_days() -> None:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    query = request_query(now=now)
    assert (query.start, query.end, query.closed) == (now - timedelta(days=90), None, None)
    ids = request_query(service_request_id="3, 5", status="bogus-but-overridden", now=now)
    assert ids.ids == (3, 5)


def test_submission_keeps_the_reporter_as_personal_data_but_not_the_email() -> None:
    submission = parse_submission({"service_code": "medical", "lat": "44.1", "long": "127.3", "first_name": "小明",
                                   "last_name": "李", "phone": "139", "email": "a@b.c", "description": " 术后感染 "})
    assert submission.description == "术后感染"
    assert set(vars(submission)) == {"category", "description", "lat", "long", "grid_code", "external_ref", "party",
                                     "reporter"}
    assert submission.party.as_dict() == {"party_name": "李小明", "party_phone": "139", "party_id_number": None,
                                          "address": None}
    assert "a@b.c" not in str(submission)
