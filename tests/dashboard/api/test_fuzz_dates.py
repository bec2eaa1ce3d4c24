"""Edge dates on every route and screen parameter that takes one, as each kind of caller sends
them: a wall (its display cookie), a leader, a duty officer and a source system (its token).

Every answer is below 500; a date outside 2000-01-01..2100-12-31 (or a ``days`` beyond the
longest period) is refused with 422 wherever the caller may use the route (Open311 answers its
own error model, a 400). ``make test`` runs a few hundred cases;
``MEDIATION_FUZZ_EXAMPLES=300`` is the long run (over 5,000 cases).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app
from dashboard.access.auth import Role, rule_for
from dashboard.access.security import DISPLAY_COOKIE, Limit, SecurityConfig
from dashboard.domain.periods import FIRST_DAY, LAST_DAY
from dashboard.runtime import Runtime
from tests.dashboard.auth_support import as_role, new_screen, new_source_token
from tests.factories import GRID_CODES, draft

EXAMPLES = int(os.environ.get("MEDIATION_FUZZ_EXAMPLES", "12"))
"""Per route and caller; 12 gives a few hundred cases, 300 over 5,000."""

EDGE_DAYS = [date(1, 1, 1), date(9999, 12, 31), date(1999, 12, 31), date(2101, 1, 1), date(2000, 1, 1),
             date(2100, 12, 31), date(2024, 2, 29), date(2000, 2, 29), date(2100, 2, 28), date(1900, 2, 28),
             date(1970, 1, 1), date(2038, 1, 19)]
"""The ends of the range and just beyond, the ends of Python's dates, leap days (2000 is one, 2100
is not), the epochs that overflow 32-bit clocks."""

days = st.one_of(st.sampled_from(EDGE_DAYS), st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
texts = st.one_of(days.map(date.isoformat), st.sampled_from(["2100-02-29", "2023-02-29", "0000-01-01", "2024-13-01",
                                                              "１９９９-12-31", "2024-1-1", "", "-1", "99999-01-01"]),
                  st.text(max_size=12))
day_counts = st.one_of(st.sampled_from([0, 1, 1098, 1099, 2**31, 2**63, 10**30, -1]), st.integers(-(10**20), 10**20))
moments = st.one_of(
    st.builds(lambda d, h, tz: f"{d.isoformat()}T{h:02d}:00:00{tz}", days, st.integers(0, 23),
              st.sampled_from(["+00:00", "+08:00", "-12:00", "+14:00", "Z"])),
    texts)


def in_range(text: str) -> bool:
    try:
        return FIRST_DAY <= date.fromisoformat(text[:10]) <= LAST_DAY and len(text) >= 10 and text[:4].isascii()
    except ValueError:
        return False


@dataclass
class Caller:
    role: Role
    client: TestClient
    headers: dict[str, str] = field(default_factory=dict)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)

    def may(self, method: str, path: str) -> bool:
        rule = rule_for(method, path)
        return rule.kind == "public" or self.role in rule.roles


@dataclass(frozen=True)
class Target:
    """One route or screen and how a generated value is put into a request to it."""

    name: str
    method: str
    path: str
    values: st.SearchStrategy[dict[str, object]]
    send: Callable[[Caller, dict[str, object]], object]
    out_of_range: Callable[[dict[str, object]], bool]
    refusal: int = 422


def _query(values: dict[str, object]) -> dict[str, str]:
    return {k: str(v) for k, v in values.items() if v is not None}


def targets(county: str, case_id: int) -> list[Target]:
    def get(path: str, extra: dict[str, str] | None = None) -> Callable[[Caller, dict[str, object]], object]:
        return lambda caller, values: caller.client.get(path, params={**(extra or {}), **_query(values)},
                                                        headers=caller.headers, follow_redirects=False)

    def post(path: str, body: Callable[[dict[str, object]], dict[str, object]]) -> Callable[[Caller, dict[str, object]], object]:
        return lambda caller, values: caller.client.post(path, json=body(values), headers=caller.headers)

    span = st.fixed_dictionaries({"from": texts, "to": texts})
    optional_span = st.fixed_dictionaries({}, optional={"from": texts, "to": texts, "days": day_counts})
    beyond = lambda v: any(k in v and not in_range(str(v[k])) for k in ("from", "to")) or (  # noqa: E731
        "days" in v and not 1 <= int(v["days"]) <= 1098)  # type: ignore[call-overload]
    period_keys = st.one_of(st.builds(lambda a, b: f"{a}_{b}", texts, texts), day_counts.map(lambda n: f"{n}d"))
    case_body = lambda v: {"external_ref": f"fuzz-{v['at']}"[:64], "category": "debt",  # noqa: E731
                           "received_at": v["at"], "location": {"grid_code": GRID_CODES[0]}}
    return [
        Target("figures", "GET", "/api/figures", span, get("/api/figures", {"area": county}), beyond),
        Target("live state", "GET", "/api/live/state", st.fixed_dictionaries({"period": period_keys}),
               get("/api/live/state"), lambda v: not _key_in_range(str(v["period"]))),
        Target("live poll days", "GET", "/api/live/poll", st.fixed_dictionaries({"days": day_counts}),
               get("/api/live/poll"), beyond),
        Target("wall", "GET", "/screen", optional_span, get("/screen"), beyond),
        Target("wall home", "GET", "/", optional_span, get("/"), beyond),
        Target("tablet", "GET", "/tablet", optional_span, get("/tablet"), beyond),
        Target("duty", "GET", "/duty", optional_span, get("/duty"), beyond),
        Target("open311 requests", "GET", "/open311/v2/requests.json",
               st.fixed_dictionaries({}, optional={"start_date": moments, "end_date": moments}),
               get("/open311/v2/requests.json"),
               lambda v: any(v.get(k) and not in_range(str(v[k])) for k in ("start_date", "end_date")),  # '' is absent
               refusal=400),
        Target("new case", "POST", "/api/cases", st.fixed_dictionaries({"at": moments}), post("/api/cases", case_body),
               lambda v: not in_range(str(v["at"]))),
        Target("case event", "POST", f"/api/cases/{case_id}/events", st.fixed_dictionaries({"at": moments}),
               post(f"/api/cases/{case_id}/events", lambda v: {"action": "assess", "at": v["at"]}),
               lambda v: not in_range(str(v["at"]))),
    ]


def _key_in_range(key: str) -> bool:
    if key.endswith("d") and key[:-1].lstrip("-").isdigit():
        return 1 <= int(key[:-1]) <= 1098
    first, _, last = key.partition("_")
    return in_range(first) and in_range(last)


def callers(rt: Runtime, county: str, app: object) -> list[Caller]:
    made = []
    for role in (Role.screen, Role.leader, Role.duty_officer, Role.api_client):
        client = TestClient(app)  # type: ignore[arg-type]
        headers: dict[str, str] = {}
        if role is Role.screen:
            client.cookies.set(DISPLAY_COOKIE, new_screen(rt, county, name="fuzz-wall"))
        elif role is Role.api_client:
            headers["Authorization"] = f"Bearer {new_source_token(rt, 'fuzz-dates', 'online')}"
        else:
            as_role(client, rt, role, county=county, name=f"fuzz-dates-{role.value}")
        made.append(Caller(role, client, headers))
    return made


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_edge_dates_never_cause_a_server_error_and_out_of_range_ones_are_refused(runtime: Runtime, county: str) -> None:
    case = runtime.cases.submit(draft(1, datetime.now().astimezone() - timedelta(hours=3)), actor="fuzz")[0]
    # Thousands of distinct periods: the live hub evicts each at once instead of refusing the
    # 65th with its 503 (that bound is tested in tests/dashboard/live/test_live_bounds.py).
    runtime.settings = replace(runtime.settings, live_idle_seconds=0)
    app = create_app(runtime, SecurityConfig(api=Limit(10**9, 60))).server
    total = 0
    wrong: list[str] = []
    for caller in callers(runtime, county, app):
        for target in targets(county, case.id):
            if not caller.may(target.method, target.path.replace(str(case.id), "1")):
                continue

            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(values=target.values)
            def call(values: dict[str, object]) -> None:
                response = target.send(caller, values)
                status = response.status_code  # type: ignore[attr-defined]
                caller.statuses[(target.name, status)] += 1
                assert status < 500, f"{caller.role} {target.name} {values}: {status} {response.text[:300]}"  # type: ignore[attr-defined]
                if target.out_of_range(values) and status != target.refusal:
                    wrong.append(f"{caller.role} {target.name} {values}: {status}")

            call()
        total += sum(caller.statuses.values())
        print(f"edge dates as {caller.role}: {sum(caller.statuses.values())} cases; "
              f"{sorted(Counter(s for (_, s) in caller.statuses.elements()).items())}")
        print("   ", sorted(caller.statuses.items()))
    print(f"edge dates: {total} cases, 0 server errors")
    assert not wrong, f"{len(wrong)} out-of-range dates not refused, e.g. {wrong[:8]}"
    assert total >= 100
