"""Schemathesis against the app's own OpenAPI, in process: generated requests, valid and not,
must never cause a 5xx, and responses must match their documented schema.

``make test`` runs a few hundred cases; ``FUZZ_EXAMPLES=200`` (over 5,000 cases) is the long
run recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import checks
from schemathesis.generation.case import Case
from schemathesis.generation.modes import GenerationMode

from dashboard.runtime import Runtime
from dashboard.security import DISPLAY_COOKIE, Limit, SecurityConfig
from dashboard.server import create_app
from tests.dashboard.auth_support import new_screen, new_source_token

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
"""Per operation and per mode (valid, invalid data)."""
SKIPPED = ("/api/live/stream",)
"""An endless event stream: covered by the live tests, not by request/response fuzzing."""
CHECKS = [checks.not_a_server_error, checks.response_schema_conformance]


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_no_generated_request_causes_a_server_error(runtime: Runtime, county: str) -> None:
    headers = {"Authorization": f"Bearer {new_source_token(runtime, 'fuzz', 'online')}"}
    cookies = {DISPLAY_COOKIE: new_screen(runtime, county)}
    unlimited = SecurityConfig(api=Limit(10**9, 60))
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(runtime, unlimited).server).exclude(
        path=list(SKIPPED))
    statuses: Counter[int] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, "the OpenAPI document lost its operations"
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: Case) -> None:
                response = case.call(headers=headers, cookies=cookies)
                statuses[response.status_code] += 1
                case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                call()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, f"no valid request for {operation.label}"
    total = sum(statuses.values())
    print(f"schemathesis: {total} cases over {len(operations)} operations; statuses {sorted(statuses.items())}")
    assert total >= 10 * len(operations)
