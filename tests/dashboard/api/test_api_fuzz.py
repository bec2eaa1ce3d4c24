"""Schemathesis against the app's own OpenAPI, in process: generated requests, valid and not,
must never cause a 5xx, and responses must match their documented schema.

Each kind of caller fuzzes what its role may use: a source system with a wall's cookie (every
route), a duty officer (reveal, reads, live), an admin (the audit log, reads, live) and a leader
(reads, live), the people with a session and the CSRF header the gate requires, and a wall with
only its display cookie (live). Edge dates are fuzzed by ``test_fuzz_dates``. Valid requests name a real case and
a real Open311 api_key, so reveal, events and Open311 submissions reach their logic, not only 403
or 404. ``make test`` runs a few hundred cases; ``FUZZ_EXAMPLES=120`` (over 5,000 cases) is the
long run recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import checks
from schemathesis.generation.case import Case
from schemathesis.generation.modes import GenerationMode
from starlette.testclient import TestClient

from dashboard.access.auth import Role, rule_for
from dashboard.cases.personal_data import PartyDetails
from dashboard.runtime import Runtime
from dashboard.access.security import CSRF_COOKIE, DISPLAY_COOKIE, SESSION_COOKIE, Limit, SecurityConfig
from app import create_app
from tests.dashboard.auth_support import as_role, new_screen, new_source_token
from tests.factories import GRID_CODES, draft

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
"""Per operation, per mode (valid, invalid data) and per caller."""
SKIPPED = ("/api/live/stream",)
"""An endless event stream: covered by the live tests, not by request/response fuzzing."""
CHECKS = [checks.not_a_server_error, checks.response_schema_conformance]
OPEN311_POST = ("POST", "/open311/v2/requests.json")


@dataclass
class Caller:
    """Who sends the generated requests, and which routes are fuzzed as them."""

    role: Role
    headers: dict[str, str]
    cookies: dict[str, str]
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)

    def fuzzes(self, method: str, path: str) -> bool:
        """A source system (with a wall's cookie) fuzzes every route, public ones included; a
        person fuzzes the routes their role may use, so the run goes past the gate."""
        if self.role is Role.api_client:
            return True
        concrete = path.replace("{case_id}", "1").replace("{layer}", "grids").replace("{service_request_id}", "1")
        rule = rule_for(method, concrete)
        return rule.kind != "public" and self.role in rule.roles


def session_of(rt: Runtime, role: Role) -> Caller:
    """A person's session as Dash's renderer holds it: the cookies and the ``X-CSRFToken`` header."""
    jar = httpx.Client()
    csrf = as_role(jar, rt, role, name=f"fuzz-{role.value}")  # type: ignore[arg-type]
    return Caller(role, {"X-CSRFToken": csrf}, {SESSION_COOKIE: jar.cookies[SESSION_COOKIE], CSRF_COOKIE: csrf})


def seeded_cases(rt: Runtime) -> list[int]:
    """Cases with personal data, so reveals and events find something to act on."""
    received = datetime.now(UTC) - timedelta(hours=3)
    party = PartyDetails(party_name="欧阳模糊", party_phone="13900001111", party_id_number="220283199001010000",
                         address="测试镇模糊村1号")
    return [rt.cases.submit(draft(n, received), actor="fuzz", party=party)[0].id for n in range(4)]


def aim(case: Case, mode: GenerationMode, caller: Caller, ids: list[int], token: str) -> None:
    """A valid request addresses a real case, and an Open311 submission carries the real api_key
    and, when it gives no position, a real grid; an invalid one is sent as generated. A person
    never sends a source system's ``Authorization`` header: the session is their credential."""
    if caller.role is not Role.api_client and case.headers:
        for name in [n for n in case.headers if n.lower() == "authorization"]:
            del case.headers[name]
    if mode is not GenerationMode.POSITIVE:
        return
    given_id = (case.path_parameters or {}).get("case_id")
    if isinstance(given_id, int) and given_id >= 0:
        case.path_parameters["case_id"] = ids[given_id % len(ids)]
    if (case.operation.method.upper(), case.operation.path) == OPEN311_POST and isinstance(case.body, dict):
        case.body["api_key"] = token
        if "lat" not in case.body and "long" not in case.body:
            case.body["attribute[grid_code]"] = GRID_CODES[0]


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
@pytest.mark.parametrize("who", [Role.api_client, Role.duty_officer, Role.admin, Role.leader, Role.screen], ids=str)
def test_no_generated_request_causes_a_server_error(runtime: Runtime, county: str, who: Role) -> None:
    token = new_source_token(runtime, "fuzz", "online")
    if who is Role.api_client:
        caller = Caller(who, {"Authorization": f"Bearer {token}"}, {DISPLAY_COOKIE: new_screen(runtime, county)})
    elif who is Role.screen:  # a wall: its display cookie only
        caller = Caller(who, {}, {DISPLAY_COOKIE: new_screen(runtime, county, name="fuzz-wall")})
    else:
        caller = session_of(runtime, who)
    ids = seeded_cases(runtime)
    unlimited = SecurityConfig(api=Limit(10**9, 60))
    runtime.settings = replace(runtime.settings, live_idle_seconds=0)  # many periods: evicted, not a 503
    app = create_app(runtime, unlimited).server
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app).exclude(path=list(SKIPPED))
    everything = [result.ok() for result in schema.get_all_operations()]
    assert len(everything) >= 10, "the OpenAPI document lost its operations"
    operations = [op for op in everything if caller.fuzzes(op.method.upper(), op.path)]
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: Case) -> None:
                aim(case, mode, caller, ids, token)
                response = case.call(headers=caller.headers, cookies=caller.cookies)
                held = caller.role is Role.screen and "county" in (case.query or {}) and response.status_code == 403
                # a wall is held to its county: a generated ?county= elsewhere is refused, rightly
                caller.statuses[(f"{label} (another county)" if held else label, response.status_code)] += 1
                case.validate_response(response, checks=CHECKS, headers=caller.headers)

            try:
                call()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, f"no valid request for {label}"
    if who is Role.admin:
        fuzz_admin_audit_page(app, caller)
    total = sum(caller.statuses.values())
    by_status = Counter(status for (_, status) in caller.statuses.elements())
    print(f"schemathesis as {who}: {total} cases over {len(operations)} operations; statuses {sorted(by_status.items())}")
    assert not [s for s in by_status if s >= 500]
    assert total >= 3 * len(operations)
    passed = {label for (label, status) in caller.statuses if status < 400}
    refused = {label for (label, status) in caller.statuses
               if status in (401, 403) and not label.endswith("(another county)")}
    assert passed, "no generated request got past the gate"
    if who is Role.api_client:
        assert {s for (label, s) in caller.statuses if label == " ".join(OPEN311_POST)} >= {201, 400}, \
            "Open311's POST got no valid and no invalid bodies"
    else:
        assert not refused, f"fuzzed as {who} but refused at the gate: {refused}"
        expected = {Role.duty_officer: "POST /api/cases/{case_id}/reveal", Role.admin: "GET /api/audit",
                    Role.leader: "GET /api/alerts", Role.screen: "GET /api/live/poll"}[who]
        assert expected in passed, f"{expected} was never answered beyond the gate"


def fuzz_admin_audit_page(app: Callable[..., object], caller: Caller) -> None:
    """``/admin/audit`` is a page, left out of the OpenAPI: its two parameters are fuzzed here."""
    client = TestClient(app)  # type: ignore[arg-type]
    client.cookies.update(caller.cookies)
    text = st.one_of(st.integers(min_value=-(10**12), max_value=10**12).map(str), st.text(max_size=40))

    @settings(max_examples=EXAMPLES * 4, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(page=st.none() | text, action=st.none() | text)
    def call(page: str | None, action: str | None) -> None:
        params = {k: v for k, v in (("page", page), ("action", action)) if v is not None}
        response = client.get("/admin/audit", params=params, headers=caller.headers)
        caller.statuses[("GET /admin/audit", response.status_code)] += 1
        assert response.status_code < 500, (params, response.text[:300])
        assert response.status_code in (200, 422), (params, response.status_code)

    call()
