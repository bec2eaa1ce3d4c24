"""The hourly reveal quota (issue 18 item 13): beyond it a duty officer's reveals are refused (429
on the API, a message on the console), each refusal is audited, and the admin is alerted once per
hour with an entry that heads the audit page and /api/audit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app import create_app
from dashboard.access.auth import Principal, Role, acting_as
from dashboard.cases import duty_service
from dashboard.cases.duty_service import DutyActionError
from dashboard.cases.personal_data import Actor, submit
from dashboard.cli import app as cli
from dashboard.domain.labels import label
from dashboard.domain.masking import PartyDetails
from dashboard.runtime import Runtime
from data_access import audit
from tests.dashboard.auth_support import as_role, served
from tests.factories import draft, hours

PARTY = PartyDetails("张三丰", "13812345678", "220283199001011234", "吉林省舒兰市北城街道幸福路12号")


def _cases(runtime: Runtime, n: int) -> list[int]:
    now = datetime.now(UTC)
    return [submit(runtime, draft(k, now - hours(3)), PARTY, actor="窗口", now=now)[0].id for k in range(1, n + 1)]


def _actions(runtime: Runtime, action: str) -> list[tuple[str, str]]:
    with runtime.sessions() as session:
        return [(e.actor, e.target) for e in reversed(audit.page(session, action=action, limit=100))]


@pytest.fixture
def quota3(runtime: Runtime, county: str) -> Runtime:
    runtime.settings = replace(runtime.settings, reveal_quota_per_hour=3)
    return runtime


def test_the_api_refuses_reveals_beyond_the_quota_audits_them_and_alerts_the_admin(
        quota3: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    runtime = quota3
    ids = _cases(runtime, 5)
    with served(create_app(runtime).server) as officer, served(create_app(runtime).server) as admin:
        as_role(officer, runtime, Role.duty_officer, name="值班员丙")
        for case_id in ids[:3]:
            assert officer.post(f"/api/cases/{case_id}/reveal", json={}).status_code == 200
        for case_id in ids[3:]:
            refused = officer.post(f"/api/cases/{case_id}/reveal", json={})
            assert refused.status_code == 429
            assert refused.json()["errors"][0]["code"] == "rate_limited"
            assert "13812345678" not in refused.text
        assert _actions(runtime, "reveal") == [("值班员丙", f"case:{i}") for i in ids[:3]]
        assert _actions(runtime, "reveal_refused") == [("值班员丙", f"case:{i}") for i in ids[3:]]
        assert _actions(runtime, "reveal_quota_reached") == [("值班员丙", "user:值班员丙")]  # one alert, not one per refusal
        as_role(admin, runtime, Role.admin, name="admin1")
        body = admin.get("/api/audit?limit=5").json()
        assert [(a["action"], a["actor"]) for a in body["alerts"]] == [("reveal_quota_reached", "值班员丙")]
        page = admin.get("/admin/audit").text
        assert "值班员丙 reached the quota of 3 reveals" in page and "提醒 · Alerts" in page
        as_role(officer, runtime, Role.duty_officer, name="值班员丁")  # another officer has a quota of her own
        assert officer.post(f"/api/cases/{ids[3]}/reveal", json={}).status_code == 200
    capsys.readouterr()
    assert cli.run(["audit", "verify"], runtime) == 0, capsys.readouterr().out


def test_the_quota_is_per_hour(quota3: Runtime) -> None:
    runtime = quota3
    ids = _cases(runtime, 4)
    officer = Actor("李值班", "duty_officer", "10.0.0.8")
    with acting_as(Principal(officer.name, Role.duty_officer)):
        for case_id in ids[:3]:
            duty_service.reveal(runtime, case_id, who=officer)
        with pytest.raises(DutyActionError) as refused:
            duty_service.reveal(runtime, ids[3], who=officer)
        assert refused.value.code == "reveal_quota" and 3500 <= int(refused.value.detail) <= 3600
        message = label("duty.err.reveal_quota", "zh").format(detail=refused.value.detail)
        assert "上限" in message and refused.value.detail in message
        later = datetime.now(UTC) + timedelta(hours=1, seconds=5)
        runtime.clock = lambda: later
        assert duty_service.reveal(runtime, ids[3], who=officer).party_phone == "13812345678"
    assert len(_actions(runtime, "reveal")) == 4 and len(_actions(runtime, "reveal_refused")) == 1
