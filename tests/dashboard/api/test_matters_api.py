"""``GET /api/cases/{id}`` gives the matter and the possible duplicates; ``/api/figures`` gives
matters and repeats, equal to SQL after a merge and after the unmerge (end to end)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app import create_app
from dashboard.cases import matters as matter_service
from dashboard.cases.personal_data import Actor
from dashboard.domain.periods import Period, local_date
from dashboard.runtime import Runtime
from data_access import figure_queries, matters
from tests.dashboard.auth_support import new_source_token

GRID = "990101001001001"
OFFICER = Actor("李值班", "duty_officer")


@pytest.fixture
def api(runtime: Runtime, county: str) -> TestClient:
    client = TestClient(create_app(runtime).server)
    client.headers["Authorization"] = f"Bearer {new_source_token(runtime, '12345热线')}"
    return client


def _post(api: TestClient, ref: str, hours_ago: float, category: str, text: str, grid: str = GRID) -> int:
    body = {"external_ref": ref, "category": category, "location": {"grid_code": grid}, "people_involved": 2,
            "received_at": (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat(), "description": text}
    response = api.post("/api/cases", json=body)
    assert response.status_code in (200, 201), response.text
    return int(response.json()["id"])


def _figures(api: TestClient, runtime: Runtime, county: str, area: str) -> tuple[int, int, int]:
    today = local_date(datetime.now(UTC))
    period = Period(today - timedelta(days=6), today)
    body = api.get("/api/figures", params={"area": area, "from": period.first.isoformat(),
                                           "to": period.last.isoformat()}).json()["period"]
    with runtime.sessions() as session:
        level = matters.area_level(session, county, area)
        where = None if level == "county" else (level, area)
        received = figure_queries.period_counts(session, county_code=county, start=period.start, end=period.end,
                                                area=where).received
        plain = matters.matters_sql(session, county_code=county, start=period.start, end=period.end, area=where)
    assert (body["received"], body["matters"], body["repeats"]) == (received, plain, received - plain)
    return body["received"], body["matters"], body["repeats"]


def test_duplicates_reach_the_api_and_merging_keeps_the_figures_equal_to_sql(api: TestClient, runtime: Runtime,
                                                                             county: str) -> None:
    grid_report = _post(api, "G-1", 20, "land", "东村张家与李家因宅基地边界发生争执，双方多次争吵，要求调解")
    hotline = _post(api, "H-1", 2, "neighbour", "李家反映邻居张家占用宅基地，边界纠纷多次争吵未果，请求调解")
    other = _post(api, "H-2", 1, "consumer", "网购商品质量问题，商家拒绝退货", grid="990101002001001")

    case = api.get(f"/api/cases/{hotline}").json()
    assert case["matter_id"] is None
    assert [d["case_id"] for d in case["possible_duplicates"]] == [grid_report]
    duplicate = case["possible_duplicates"][0]
    assert duplicate["state"] == "open" and 0.5 <= duplicate["score"] <= 1
    assert {"same_village", "related_category"} <= {r["code"] for r in duplicate["reasons"]}
    assert all(r["text"] for r in duplicate["reasons"])
    assert api.get(f"/api/cases/{other}").json()["possible_duplicates"] == []

    township, village = GRID[:9], GRID[:12]
    assert [_figures(api, runtime, county, a) for a in (county, township, village)] == [(3, 3, 0), (2, 2, 0), (2, 2, 0)]
    matter_id = matter_service.merge(runtime, hotline, grid_report, who=OFFICER)
    assert api.get(f"/api/cases/{grid_report}").json()["matter_id"] == matter_id
    assert api.get(f"/api/cases/{hotline}").json()["possible_duplicates"][0]["state"] == "merged"
    assert [_figures(api, runtime, county, a) for a in (county, township, village)] == [(3, 2, 1), (2, 1, 1), (2, 1, 1)]
    matter_service.unmerge(runtime, hotline, who=OFFICER)
    assert api.get(f"/api/cases/{grid_report}").json()["matter_id"] is None
    assert [_figures(api, runtime, county, a) for a in (county, township, village)] == [(3, 3, 0), (2, 2, 0), (2, 2, 0)]
