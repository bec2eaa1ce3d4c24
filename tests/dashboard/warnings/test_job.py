"""The warnings job on the real databases and Redis: a burst becomes one warning with its reason,
kept while it lasts, closed when it is over; acknowledging it is audited and happens once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.cases.personal_data import Actor
from dashboard.runtime import Runtime
from dashboard.warnings import job, service
from data_access import audit, redis_keys
from data_access import warnings as store
from tests.dashboard.warnings.history import inject_burst, write_quiet_history

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday 14:00 in Shulan
TOWNSHIP = "990101001"


def _open(rt: Runtime) -> dict[tuple[str, str], service.WarningView]:
    return {(w.area_code, w.category): w for w in service.current(rt)}


def test_a_burst_becomes_a_warning_with_its_reason_and_clears_after(runtime: Runtime, county: str) -> None:
    write_quiet_history(runtime, NOW)
    quiet = job.run(runtime, now=NOW, force=True)
    assert quiet.ran and quiet.open == 0, "a quiet history warns nothing"
    assert quiet.tests == 15 * 12 * 3  # 1 county + 2 townships + 4 villages + 8 grids, 12 categories, 3 windows

    inject_burst(runtime, NOW, township=TOWNSHIP, size=8)
    version_before = runtime.redis.hget(redis_keys.meta(county), "version")
    report = job.run(runtime, now=NOW + timedelta(minutes=1), force=True)
    assert report.ran and report.opened >= 1
    found = _open(runtime)
    township = found[(TOWNSHIP, "land")]
    assert township.area_level == "township" and township.observed == 8 and township.window_days == 1
    assert township.expected < 1.0 and township.p_value <= report.alpha  # type: ignore[operator]
    assert township.reason_zh.startswith("土地山林 · 测试镇1 · 近1日8件，预期")
    assert township.reason_zh.endswith("（同期均值），p<0.001")
    assert township.reason_en.startswith("Land · 测试镇1 · 8 cases today, ")
    assert (county, "land") in found  # the county counts the same eight
    assert runtime.redis.hget(redis_keys.meta(county), "version") != version_before, "screens are told"

    again = job.run(runtime, now=NOW + timedelta(minutes=11), force=True)
    assert (again.opened, again.cleared) == (0, 0)
    assert _open(runtime)[(TOWNSHIP, "land")].id == township.id, "a lasting warning stays one row"

    later = job.run(runtime, now=NOW + timedelta(days=8), force=True)
    assert later.cleared >= 2 and (TOWNSHIP, "land") not in _open(runtime)


def test_acknowledging_a_warning_is_audited_once(runtime: Runtime, county: str) -> None:
    write_quiet_history(runtime, NOW, days=63)
    inject_burst(runtime, NOW, township=TOWNSHIP, size=8)
    job.run(runtime, now=NOW, force=True)
    warning = _open(runtime)[(TOWNSHIP, "land")]
    officer = Actor("值班员甲", "duty_officer", "10.0.0.9")
    assert service.acknowledge(runtime, warning.id, who=officer, at=NOW) is True
    assert service.acknowledge(runtime, warning.id, who=Actor("值班员乙", "duty_officer"), at=NOW) is False
    seen = _open(runtime)[(TOWNSHIP, "land")]
    assert (seen.acknowledged_by, seen.acknowledged_at) == ("值班员甲", NOW)
    with runtime.sessions() as session:
        entries = audit.page(session, action=service.ACK_ACTION)
        assert len(entries) == 1
        assert (entries[0].actor, entries[0].target, entries[0].ip) == ("值班员甲", f"warning:{warning.id}", "10.0.0.9")
        assert "测试镇1" in entries[0].detail
    with pytest.raises(service.WarningNotFound):
        service.acknowledge(runtime, 999_999, who=officer)


def test_only_one_process_runs_the_job_per_interval(runtime: Runtime, county: str) -> None:
    first = job.run(runtime, now=NOW)
    second = job.run(runtime, now=NOW)
    assert first.ran and not second.ran, "the due key lets one process run per interval"
    held = runtime.redis.lock(store.lock_key(county), timeout=30)
    assert held.acquire(blocking=False)
    try:
        runtime.redis.delete(store.due_key(county))
        assert not job.run(runtime, now=NOW).ran, "a run under way keeps the next one out"
    finally:
        held.release()


def test_the_command_line_runs_the_job_and_lists_the_warnings(runtime: Runtime, county: str,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from dashboard.cli import app as cli
    from dashboard.cli import context

    now = runtime.clock()  # the command runs at the real time
    write_quiet_history(runtime, now, days=63)
    inject_burst(runtime, now, township=TOWNSHIP, size=8)
    monkeypatch.setattr(context, "load_settings", lambda: runtime.settings)
    assert cli.main(["warnings", "run"]) == 0
    assert "opened" in capsys.readouterr().out
    assert cli.main(["warnings", "list", "--lang", "en"]) == 0
    listed = capsys.readouterr().out
    assert f"{TOWNSHIP}\tLand · 测试镇1 · 8 cases " in listed  # today, or over 3 days just after midnight


def test_the_live_state_carries_the_warning_to_the_wall(runtime: Runtime, county: str) -> None:
    """What the live hub sends a wall: the panel's rows and the warned areas for the map; a wall
    following the other township sees neither."""
    from dashboard.domain.periods import Period, local_date
    from dashboard.live.live_state import screen_state
    from dashboard.screens.panel_service import PanelService
    from dashboard.screens.wall_service import SnapshotCache

    write_quiet_history(runtime, NOW, days=63)
    inject_burst(runtime, NOW, township=TOWNSHIP, size=8)
    job.run(runtime, now=NOW, force=True)
    snapshot = SnapshotCache(runtime).get(county, NOW)
    period = Period.trailing(local_date(NOW), 30)
    state = screen_state(snapshot, build="t", panels=PanelService(runtime).get(snapshot, area=county, period=period, now=NOW))
    rows = [state["cells"][f"warn-{i}-text"]["children"] for i in range(3)]
    assert any(r.startswith("土地山林 · 测试镇1 · 近1日8件") for r in rows)
    assert TOWNSHIP in state["cells"]["_warnings"]["areas"] and county in state["cells"]["_warnings"]["areas"]
    other = screen_state(snapshot, build="t", panels=PanelService(runtime).get(snapshot, area="990101002", period=period, now=NOW))
    assert other["cells"]["_warnings"] == {"areas": []} and other["cells"]["warn-count"] == {"children": "暂无预警"}
