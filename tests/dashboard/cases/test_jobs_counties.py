"""The periodic jobs of a deployment serving two counties of a city: the deadline scheduler, the
outbox drain and the warnings job act on each county (one Redis lock per county), one county's
failure leaves the other's pass done, and the command line acts on both or on the one named.
On both backends."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from dashboard.cases import cache_ops, scheduler
from dashboard.cases.casework import new_case
from dashboard.cases.outbox_drain import drain_counties, drain_once
from dashboard.cli import app as cli
from dashboard.cli.context import CliState
from dashboard.domain.vocabulary import Action
from dashboard.runtime import Runtime
from dashboard.warnings import job as warnings_job
from data_access import aggregates, cases, outbox, redis_keys
from tests.dashboard.county_pair import CITY, EAST, WEST, grid_of, import_pair
from tests.factories import draft

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
runner = CliRunner()


@pytest.fixture
def pair(runtime: Runtime) -> tuple[str, str]:
    return import_pair(runtime)


def _late(rt: Runtime, county: str, n: int, days_ago: float) -> int:
    """An assessed village case of ``county`` received ``days_ago`` (village deadline: 7 days)."""
    received = NOW - timedelta(days=days_ago)
    service = rt.case_service(county)
    case, _ = service.submit(draft(n, received, external_ref=f"{county}-{n}", grid_code=grid_of(county, n)),
                             actor="窗口", now=NOW)
    service.act(case.id, Action.assess, actor="研判员", at=received + timedelta(hours=2))
    return case.id


def _exact(rt: Runtime, county: str) -> bool:
    with rt.sessions() as session:
        return cache_ops.reconcile(session, rt.redis, county, rt.rules) == []


def test_the_scheduler_ticks_every_served_county(runtime: Runtime, pair: tuple[str, str]) -> None:
    escalate = {c: _late(runtime, c, 1, days_ago=10.5) for c in (WEST, EAST)}  # 3.5 days late
    supervise = {c: _late(runtime, c, 2, days_ago=8.5) for c in (WEST, EAST)}  # 1.5 days late
    runs = scheduler.tick_counties(runtime, now=NOW)
    assert runs.failed == {}
    assert {c: (r.ran, r.escalated, r.supervised) for c, r in runs.done.items()} == {WEST: (True, 1, 1),
                                                                                    EAST: (True, 1, 1)}
    again = scheduler.tick(runtime, now=NOW)
    assert (again.ran, again.escalated, again.supervised, again.relevelled) == (True, 0, 0, 0)
    with runtime.sessions() as session:
        for county in (WEST, EAST):
            escalated, supervised = cases.get(session, escalate[county]), cases.get(session, supervise[county])
            assert escalated is not None and escalated.county_code == county and escalated.tier == "township"
            assert escalated.events[-1].actor == scheduler.ACTOR
            assert supervised is not None and supervised.supervised and supervised.county_code == county
    assert _exact(runtime, WEST) and _exact(runtime, EAST)


def test_one_lock_per_county_and_one_countys_failure_leaves_the_other(runtime: Runtime, pair: tuple[str, str],
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    west_case, east_case = _late(runtime, WEST, 2, days_ago=8.5), _late(runtime, EAST, 2, days_ago=8.5)
    held = runtime.redis.lock(redis_keys.scheduler_lock(WEST), timeout=30)
    assert held.acquire(blocking=False)
    try:
        runs = scheduler.tick_counties(runtime, now=NOW)
    finally:
        held.release()
    assert (runs.done[WEST].ran, runs.done[EAST].ran, runs.done[EAST].supervised) == (False, True, 1)

    ticked = scheduler._tick

    def broken_in_east(rt: Runtime, county: str, now: datetime) -> scheduler.TickReport:
        if county == EAST:
            raise RuntimeError("east's data is broken")
        return ticked(rt, county, now)

    monkeypatch.setattr(scheduler, "_tick", broken_in_east)
    with caplog.at_level(logging.ERROR, logger="dashboard.cases.periodic"):
        report = scheduler.tick(runtime, now=NOW + timedelta(minutes=1))
    assert report.ran and report.supervised == 1, "the west still ticked"
    assert any(EAST in r.getMessage() and "failed" in r.getMessage() for r in caplog.records)
    with runtime.sessions() as session:
        assert cases.get(session, west_case).supervised  # type: ignore[union-attr]
        assert cases.get(session, east_case).supervised  # type: ignore[union-attr]


def test_the_drain_applies_what_a_dead_writer_owed_in_each_county(runtime: Runtime, pair: tuple[str, str]) -> None:
    for county in (WEST, EAST):
        with runtime.sessions() as session:
            cache_ops.rebuild(session, runtime.redis_admin, county, runtime.rules)
    owed = {}
    for n, county in enumerate((WEST, EAST, EAST)):  # committed with their outbox rows, never pushed
        service = runtime.case_service(county)
        with runtime.sessions() as session, session.begin():
            grid = grid_of(county, n)
            case, event = new_case(draft(n, NOW - timedelta(hours=1), external_ref=f"dead-{n}", grid_code=grid),
                                   service.place(grid, session), actor="窗口", now=NOW, rules=runtime.rules)
            cases.add(session, case, event)
            outbox.owe(session, county, [case.id], NOW - timedelta(minutes=1))
            owed[case.id] = county
    assert not _exact(runtime, WEST) and not _exact(runtime, EAST)
    assert drain_counties(runtime) == {WEST: 1, EAST: 2}
    assert _exact(runtime, WEST) and _exact(runtime, EAST)
    with runtime.sessions() as session:
        assert outbox.owed_cases(session, WEST) == outbox.owed_cases(session, EAST) == 0
    assert aggregates.read_open_counts(runtime.redis, EAST)[EAST][0] == 2
    assert drain_once(runtime) == 0, "a second drain finds nothing owed"


def test_the_warnings_job_runs_for_each_county_once_per_interval(runtime: Runtime, pair: tuple[str, str]) -> None:
    first = warnings_job.run_counties(runtime, now=NOW)
    assert sorted(first) == [WEST, EAST] and all(r.ran for r in first.values())
    assert all(r.tests == 15 * 12 * 3 for r in first.values())  # 1 county + 2 + 4 + 8 areas, 12 categories, 3 windows
    again = warnings_job.run_counties(runtime, now=NOW)
    assert not any(r.ran for r in again.values()), "the due key of each county lets one process run per interval"
    forced = warnings_job.run(runtime, now=NOW, force=True, county=EAST)
    assert forced.ran and forced.tests == 15 * 12 * 3


def test_the_command_line_acts_on_every_served_county_or_the_one_named(runtime: Runtime, pair: tuple[str, str]) -> None:
    for n, county in enumerate((WEST, EAST, EAST)):
        runtime.case_service(county).submit(draft(n, NOW, external_ref=f"cli-{n}", grid_code=grid_of(county, n)),
                                            actor="窗口", now=NOW)
    rebuilt = runner.invoke(cli.app, ["cache", "rebuild"], obj=CliState(runtime))
    assert rebuilt.exit_code == 0, rebuilt.output
    lines = rebuilt.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"county {WEST} (1/2)", f"county {EAST} (2/2)"]
    assert "rebuilt 1 cases" in lines[0] and "rebuilt 2 cases" in lines[1]

    reconciled = runner.invoke(cli.app, ["cache", "reconcile"], obj=CliState(runtime))
    assert reconciled.exit_code == 0, reconciled.output
    assert f"county {EAST} (2/2): 0 differences over 2 cases" in reconciled.stdout

    runtime.redis.delete(*runtime.redis.keys(f"{redis_keys.prefix()}*{EAST}*"))  # the east's aggregates lost
    one = runner.invoke(cli.app, ["cache", "reconcile", "--county", WEST], obj=CliState(runtime))
    assert one.exit_code == 0 and one.stdout.startswith("0 differences over 1 cases"), one.output
    both = runner.invoke(cli.app, ["cache", "reconcile", "--county", CITY], obj=CliState(runtime))
    assert both.exit_code == 1 and "1 of 2 counties differ" in both.stdout, both.output
    fixed = runner.invoke(cli.app, ["cache", "rebuild", "--county", EAST], obj=CliState(runtime))
    assert fixed.exit_code == 0 and fixed.stdout.startswith("rebuilt 2 cases"), fixed.output
    assert _exact(runtime, EAST)

    ticked = runner.invoke(cli.app, ["scheduler", "tick"], obj=CliState(runtime))
    assert ticked.exit_code == 0, ticked.output
    assert f"county {WEST}: TickReport(ran=True" in ticked.stdout and f"county {EAST}: TickReport(ran=True" in ticked.stdout
    unknown = runner.invoke(cli.app, ["scheduler", "tick", "--county", "220281"], obj=CliState(runtime))
    assert unknown.exit_code == 2 and "names no county served here" in unknown.stderr


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_the_report_schedule_files_each_countys_own_report(runtime: Runtime, pair: tuple[str, str]) -> None:
    from datetime import time

    from dashboard.domain.report_periods import KindSchedule, ReportKind, ReportSchedule
    from dashboard.reports import schedule
    from data_access.models import ReportDocument

    now = datetime.now(UTC)
    for n, county in enumerate((WEST, EAST)):
        runtime.case_service(county).submit(draft(n, now - timedelta(days=1), external_ref=f"r-{n}",
                                                  grid_code=grid_of(county, n)), actor="窗口", now=now)
    daily = ReportSchedule((KindSchedule(ReportKind.daily, time(7, 30), 1),), ("zh",), 60)
    due_now = now + timedelta(days=1)
    result = schedule.run_due(runtime, now=due_now, schedule=daily)
    assert result.failed == [] and sorted(name.split(":")[0] for name in result.made) == [WEST, EAST], result
    with runtime.sessions() as session:
        filed = sorted((r.county_code, r.area_code, r.format) for r in session.query(ReportDocument).all())
    assert filed == [(WEST, WEST, "docx"), (WEST, WEST, "pdf"), (EAST, EAST, "docx"), (EAST, EAST, "pdf")]
    assert schedule.run_due(runtime, now=due_now, schedule=daily).made == [], "each county's report is filed once"
