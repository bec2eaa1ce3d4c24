"""Open311 retries (issue 18, item 6): two people reporting the same thing in the same minute are
two cases; one person's retry is one case, across a minute boundary too, and for ever with the
client's own id (``attribute[external_ref]`` or an ``Idempotency-Key`` header)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from dashboard.runtime import Runtime
from data_access import cases
from tests.dashboard.api.open311_support import app_token, open311_client

REQUESTS = "/open311/v2/requests.json"


class Clock:
    """A clock the test moves."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def token(runtime: Runtime, county: str) -> str:
    return app_token(runtime)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC).replace(second=50, microsecond=0) - timedelta(minutes=5))


@pytest.fixture
def api(runtime: Runtime, token: str, clock: Clock) -> TestClient:
    return open311_client(runtime, clock)


def _report(token: str, **who: str) -> dict[str, str]:
    return {"api_key": token, "service_code": "environment", "lat": "44.05", "long": "127.05",
            "description": "化工厂夜间排放刺鼻气体", **who}


def _count(runtime: Runtime, county: str) -> int:
    with runtime.sessions() as session:
        return cases.count(session, county)


def _post(api: TestClient, form: dict[str, str], headers: dict[str, str] | None = None) -> tuple[int, str]:
    answer = api.post(REQUESTS, data=form, headers=headers or {})
    assert answer.status_code in (200, 201), answer.text
    return answer.status_code, answer.json()[0]["service_request_id"]


@pytest.mark.parametrize("who", [
    ({"first_name": "伟", "last_name": "王"}, {"first_name": "芳", "last_name": "李"}),
    ({"phone": "13812345678"}, {"phone": "13987654321"}),
    ({"email": "a@example.com"}, {"email": "b@example.com"}),
    ({"device_id": "phone-a"}, {"device_id": "phone-b"}),
    ({"account_id": "u1"}, {"account_id": "u2"}),
])
def test_two_people_reporting_the_same_thing_in_the_same_minute_are_two_cases(
        api: TestClient, runtime: Runtime, county: str, token: str, who: tuple[dict[str, str], dict[str, str]]) -> None:
    first = _post(api, _report(token, **who[0]))
    second = _post(api, _report(token, **who[1]))
    assert (first[0], second[0]) == (201, 201) and first[1] != second[1]
    assert _count(runtime, county) == 2


def test_a_retry_across_a_minute_boundary_is_one_case(api: TestClient, runtime: Runtime, county: str, token: str,
                                                      clock: Clock) -> None:
    me = {"first_name": "伟", "last_name": "王", "phone": "13812345678", "device_id": "phone-a"}
    first = _post(api, _report(token, **me))
    clock.at += timedelta(seconds=20)  # :50 → :10 of the next minute
    again = _post(api, _report(token, **{**me, "phone": "138 1234 5678"}))
    assert first == (201, again[1]) and again[0] == 200
    assert _count(runtime, county) == 1
    clock.at += timedelta(seconds=61)  # more than RETRY_WINDOW after the first: a new report
    later = _post(api, _report(token, **me))
    assert later[0] == 201 and later[1] != first[1]
    assert _count(runtime, county) == 2


def test_the_clients_own_id_makes_a_retry_one_case_at_any_time(api: TestClient, runtime: Runtime, county: str,
                                                               token: str, clock: Clock) -> None:
    key = {"Idempotency-Key": "app-7f3a9c"}
    first = _post(api, _report(token), key)
    clock.at += timedelta(hours=3)
    assert _post(api, _report(token), key) == (200, first[1])
    other = _post(api, _report(token), {"Idempotency-Key": "app-other"})
    assert other[0] == 201 and other[1] != first[1]
    ref = _post(api, _report(token, **{"attribute[external_ref]": "APP-1"}))
    clock.at += timedelta(days=2)
    assert _post(api, _report(token, **{"attribute[external_ref]": "APP-1"})) == (200, ref[1])
    assert _count(runtime, county) == 3


@pytest.mark.parametrize("bad", ["x" * 129, "bad key", "键"])
def test_an_unusable_idempotency_key_is_refused(api: TestClient, runtime: Runtime, county: str, token: str,
                                                bad: str) -> None:
    answer = api.post(REQUESTS, data=_report(token), headers={"Idempotency-Key": bad.encode("utf-8")})
    assert answer.status_code == 400 and "Idempotency-Key" in answer.json()[0]["description"]
    assert _count(runtime, county) == 0

