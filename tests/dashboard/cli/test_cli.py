"""The command line on typer: every verb is listed, a mistyped command is a usage error (exit 2)
that touches nothing, operator errors are one line and exit 2, and long work reports progress to a
bar that only a person at a terminal sees."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from dashboard.cases import cache_ops, demo
from dashboard.cli import app as cli
from dashboard.cli import context, county, progress
from dashboard.cli.context import CliState
from dashboard.runtime import Runtime

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)

VERBS = {
    "db": ["upgrade"], "county": ["import", "ensure-demo"], "demo": ["backfill", "live"], "cases": ["import"],
    "clients": ["add", "revoke"], "users": ["add", "disable"], "screens": ["add", "revoke"],
    "scheduler": ["tick"], "cache": ["rebuild", "reconcile"], "fonts": ["subset"],
}
runner = CliRunner()


def test_help_lists_every_noun_and_verb() -> None:
    top = runner.invoke(cli.app, ["--help"])
    assert top.exit_code == 0
    assert all(noun in top.stdout for noun in [*VERBS, "serve"])
    for noun, verbs in VERBS.items():
        shown = runner.invoke(cli.app, [noun, "--help"])
        assert shown.exit_code == 0, shown.output
        assert all(verb in shown.stdout for verb in verbs), (noun, shown.stdout)
    for options, verb in ((["--password-stdin", "--role", "--county"], ["users", "add"]),
                          (["--demo-feed", "--workers"], ["serve"]),
                          (["--skip-bad", "--report"], ["cases", "import"])):
        shown = runner.invoke(cli.app, [*verb, "--help"])
        assert all(option in shown.stdout for option in options), (verb, shown.stdout)


@pytest.mark.parametrize("argv, complaint", [
    (["demo", "backfill", "--dayz", "3"], "No such option"),
    (["users", "add", "someone", "--role", "king"], "Invalid value for '--role'"),
    (["clients", "add", "--source", "walk_in"], "Missing option '--name'"),
    (["cache", "flush"], "No such command"),
])
def test_a_mistyped_command_is_a_usage_error_that_needs_no_runtime(argv: list[str], complaint: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context, "load_settings", lambda: pytest.fail("a usage error is found before any "
                                                                      "database or Redis is opened"))
    result = runner.invoke(cli.app, argv)
    assert result.exit_code == 2, result.output
    assert complaint in result.stderr


def test_main_tells_an_operator_error_in_one_line_and_exits_2(runtime: Runtime, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(context, "load_settings", lambda: runtime.settings)
    assert cli.main(["cache", "rebuild"]) == 2
    assert capsys.readouterr().err.strip() == ("error: no county in the database; "
                                               "run `python -m dashboard county import`")
    assert cli.main(["demo", "backfill", "--days", "many"]) == 2
    assert "Invalid value for '--days'" in capsys.readouterr().err


def test_the_demo_files_that_ensure_demo_imports_exist() -> None:
    assert all(path.is_file() for path in county.DEMO_FILES.values()), county.DEMO_FILES


def _recorder() -> tuple[list[tuple[int, int]], Callable[[int, int], None]]:
    calls: list[tuple[int, int]] = []
    return calls, lambda done, total: calls.append((done, total))


def _climbs_to_its_total(calls: list[tuple[int, int]], total: int) -> bool:
    done = [d for d, _ in calls]
    return {t for _, t in calls} == {total} and done[0] == 0 and done[-1] == total and done == sorted(done)


def test_backfill_reports_each_day_up_to_its_total(runtime: Runtime, county: str) -> None:
    calls, report = _recorder()
    assert demo.backfill(runtime.cases, days=3, now=NOW, progress=report) > 0
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]
    calls.clear()
    assert demo.backfill(runtime.cases, days=3, now=NOW, progress=report) == 0
    assert _climbs_to_its_total(calls, 3), "days already written count as done"


def test_rebuild_reports_its_steps_up_to_its_total(runtime: Runtime, county: str) -> None:
    demo.backfill(runtime.cases, days=1, now=NOW)
    calls, report = _recorder()
    with runtime.sessions() as session:
        rebuilt = cache_ops.rebuild(session, runtime.redis_admin, county, runtime.rules, progress=report)
    assert rebuilt.cases > 0
    assert _climbs_to_its_total(calls, cache_ops.REBUILD_STEPS)


def test_the_cli_hands_long_work_a_progress_bar_and_prints_only_results(
    runtime: Runtime, county: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bars: dict[str, list[tuple[int, int]]] = {}

    @contextmanager
    def recording_bar(description: str, *, unit: str) -> Iterator[Callable[[int, int], None]]:
        calls, report = _recorder()
        bars[description] = calls
        yield report

    monkeypatch.setattr(progress, "bar", recording_bar)
    backfilled = runner.invoke(cli.app, ["demo", "backfill", "--days", "2"], obj=CliState(runtime))
    assert backfilled.exit_code == 0, backfilled.output
    assert backfilled.stdout.startswith("backfilled ") and backfilled.stdout.count("\n") == 1
    rebuilt = runner.invoke(cli.app, ["cache", "rebuild"], obj=CliState(runtime))
    assert rebuilt.exit_code == 0, rebuilt.output
    assert rebuilt.stdout.startswith("rebuilt ") and rebuilt.stdout.count("\n") == 1
    cases_file = tmp_path / "cases.csv"
    cases_file.write_text("external_ref,source,category,received_at,grid_code,status\n"
                          "BAR-1,walk_in,debt,2026-11-01T09:00:00+08:00,990101001001001,received\n", encoding="utf-8")
    imported = runner.invoke(cli.app, ["cases", "import", str(cases_file)], obj=CliState(runtime))
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.startswith("1 rows: 1 imported") and imported.stdout.count("\n") == 1
    assert _climbs_to_its_total(bars["backfill"], 2)
    assert _climbs_to_its_total(bars["rebuild"], cache_ops.REBUILD_STEPS)
    assert bars["import"][-1] == (1, 1)


class _Stream(io.StringIO):
    def __init__(self, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


@pytest.mark.parametrize("stdout_is_terminal", [True, False])
def test_a_bar_is_drawn_only_when_stdout_is_a_terminal(stdout_is_terminal: bool,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", _Stream(stdout_is_terminal))
    monkeypatch.setattr(sys, "stderr", _Stream(True))
    drawn = io.StringIO()
    with progress.bar("rebuild", unit="steps", console=Console(file=drawn, force_terminal=True, width=80)) as report:
        report(1, 2)
    assert ("1/2" in drawn.getvalue()) is stdout_is_terminal
    assert sys.stdout.getvalue() == ""
