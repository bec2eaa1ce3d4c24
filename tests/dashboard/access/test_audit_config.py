"""The audit log beyond the console: wall sign-ins, source systems' assignments and supervision,
county imports and cache rebuilds from the CLI, and a changed rules file noticed at start-up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dashboard.cli import app as cli, serving
from dashboard.domain.rules import DEFAULT_RULES_FILE
from dashboard.runtime import Runtime
from app import create_app
from data_access import areas, audit
from tests.dashboard.auth_support import as_screen, new_screen, new_source_token, served

GRID = "990101001001001"


@pytest.fixture
def app_client(runtime: Runtime, county: str) -> Iterator[TestClient]:
    with served(create_app(runtime).server) as client:
        yield client


def _entries(runtime: Runtime, action: str) -> list[tuple[str, str, str, dict[str, object]]]:
    """(actor, role, target, detail), oldest first."""
    with runtime.sessions() as session:
        return [(e.actor, e.role, e.target, audit.detail_of(e)) for e in reversed(audit.page(session, action=action))]


def test_a_wall_signing_in_by_its_token_is_audited(runtime: Runtime, county: str, app_client: TestClient) -> None:
    token = new_screen(runtime, county, name="大厅主屏")
    app_client.get(f"/screen?token={token}", follow_redirects=False)
    app_client.get("/api/live/state")
    resumed = TestClient(app_client.app)
    as_screen(resumed, token)
    assert resumed.get("/api/live/state").status_code == 200
    assert TestClient(app_client.app).get("/screen?token=mcs_" + "x" * 43, follow_redirects=False).status_code == 403
    assert _entries(runtime, "sign_in") == [
        ("大厅主屏", "screen", "screen:大厅主屏", {"via": "link", "county": county}),
        ("大厅主屏", "screen", "screen:大厅主屏", {"via": "display_cookie", "county": county}),
    ], "one entry per new session, none per request and none for an unknown token"


def test_every_source_move_is_audited_with_the_event_naming_the_client(runtime: Runtime, county: str,
                                                                               app_client: TestClient) -> None:
    bearer = {"Authorization": f"Bearer {new_source_token(runtime, '网格平台', 'grid_report')}"}
    body = {"external_ref": "A-1", "category": "land", "location": {"grid_code": GRID},
            "received_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}
    case_id = app_client.post("/api/cases", json=body, headers=bearer).json()["id"]
    with runtime.sessions() as session:
        center = areas.centers(session, county)[0]

    def act(action: str, **extra: object) -> int:
        return app_client.post(f"/api/cases/{case_id}/events", json={"action": action, "actor": "网格员张", **extra},
                               headers=bearer).status_code

    assert act("acknowledge") == 201
    assert act("assess") == 201
    assert act("dispatch", center_id=center.id) == 201
    assert act("supervise", note="请尽快处置") == 201
    assert act("reopen") == 409, "a refused move writes neither an event nor an audit entry"
    with runtime.sessions() as session:
        entries = [(e.actor, e.role, e.action, e.target, audit.detail_of(e)) for e in reversed(audit.page(session))]
    assert [e[:4] for e in entries] == [("网格平台", "api_client", a, f"case:{case_id}")
                                        for a in ("acknowledge", "assess", "dispatch", "supervise")]
    assert entries[2][4]["center_id"] == center.id
    assert all(e[4]["by"] == "网格员张" for e in entries), "the given actor is kept in the detail"
    assert all(isinstance(e[4]["event"], int) for e in entries)


@pytest.fixture
def county_files(tmp_path: Path) -> list[str]:
    """A two-township county small enough to import in a test."""
    outline = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "审计县"},
               "geometry": {"type": "Polygon",
                            "coordinates": [[[127.0, 44.0], [127.2, 44.0], [127.2, 44.1], [127.0, 44.1], [127.0, 44.0]]]}}]}
    (tmp_path / "outline.geojson").write_text(json.dumps(outline, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "townships.csv").write_text("code,name\n990201001,甲镇\n990201002,乙镇\n", encoding="utf-8")
    (tmp_path / "villages.csv").write_text("code,name,parent_code\n990201001001,甲村,990201001\n"
                                           "990201001002,乙村,990201001\n990201002001,丙村,990201002\n"
                                           "990201002002,丁村,990201002\n", encoding="utf-8")
    return ["--outline", str(tmp_path / "outline.geojson"), "--townships", str(tmp_path / "townships.csv"),
            "--villages", str(tmp_path / "villages.csv"), "--grids", "8"]


def test_county_import_and_cache_rebuild_are_audited(runtime: Runtime, county_files: list[str]) -> None:
    def run(*argv: str) -> int:
        return cli.run(argv, runtime)

    assert run("county", "import", *county_files) == 0
    assert run("cache", "rebuild") == 0
    assert run("cache", "reconcile") == 0
    [(_, role, target, detail)] = _entries(runtime, "county_import")
    assert (role, target) == ("cli", "county:990201")
    assert {k: detail[k] for k in ("name", "townships", "villages", "grids")} == {
        "name": "审计县", "townships": 2, "villages": 4, "grids": 8}
    assert [(e[2], e[3]["cases"]) for e in _entries(runtime, "cache_rebuild")] == [("county:990201", 0)]
    with runtime.sessions() as session:
        assert audit.count(session) == 2, "a reconciliation changes nothing and is not logged"


def test_a_changed_rules_file_is_recorded_once_at_start_up(runtime: Runtime, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    assert serving.record_rules_file(runtime)
    assert not serving.record_rules_file(runtime), "an unchanged file is not recorded again"
    edited = tmp_path / "rules.toml"
    edited.write_text(DEFAULT_RULES_FILE.read_text(encoding="utf-8") + "\n# red threshold under review\n",
                      encoding="utf-8")
    monkeypatch.setattr(runtime, "settings", replace(runtime.settings, rules_file=edited))
    assert serving.record_rules_file(runtime)
    assert not serving.record_rules_file(runtime)
    first, second = _entries(runtime, serving.RULES_CHANGED)
    assert first[3]["previous"] is None and second[3]["previous"] == first[3]["sha256"]
    assert second[2] == "file:rules.toml" and second[3]["sha256"] != first[3]["sha256"]
