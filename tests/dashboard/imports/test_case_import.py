"""Bulk case import: checks, both modes, both file formats, and figures equal to SQL afterwards."""

from __future__ import annotations

import csv
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import redis
from dash.development.base_component import Component
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from callbacks.tablet import tablet_body
from dashboard.cases import cache_ops
from dashboard.cases.casework import lifecycle_steps
from dashboard.domain.periods import Period
from dashboard.imports import case_import
from dashboard.imports.case_file import COLUMNS, CaseImportError, read_rows
from dashboard.imports.case_import import ImportResult, import_cases
from dashboard.imports.row_check import CheckContext, RowError, check_rows
from dashboard.runtime import Runtime
from dashboard.domain.vocabulary import Status
from dashboard.screens.wall_service import SnapshotCache
from data_access import aggregates, bulk_cases, case_columns, figure_queries
from data_access.models import Case, CaseEvent
from tests.conftest import clear_namespace
from tests.dashboard.imports.reference_replay import build_case
from tests.waiting import wait_until
from tests.factories import GRID_CODES

GOOD = Path(__file__).resolve().parents[2] / "data" / "cases_good.csv"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))


def _run(rt: Runtime, path: Path, **options: object) -> ImportResult:
    return import_cases(rt, path, now=NOW, **options)  # type: ignore[arg-type]


def _reconcile(rt: Runtime, county: str) -> list[object]:
    with rt.sessions() as session:
        return list(cache_ops.reconcile(session, rt.redis, county, rt.rules))


def _count(rt: Runtime, model: type[Case] | type[CaseEvent]) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _row(ref: str, **fields: str) -> dict[str, str]:
    base = {"external_ref": ref, "source": "hotline_12345", "category": "neighbour",
            "received_at": "2026-03-10T09:00:00+08:00", "grid_code": GRID_CODES[0], "status": "received"}
    return base | fields


def _report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_good_csv_imports_and_every_figure_equals_sql(runtime: Runtime, county: str) -> None:
    result = _run(runtime, GOOD)

    assert (result.rows, result.imported, result.duplicates, result.rejected) == (10, 10, 0, 0)
    assert result.report_path is None and result.exit_code == 0
    assert _reconcile(runtime, county) == []
    with runtime.sessions() as session:
        counts = figure_queries.period_counts(session, county_code=county, start=MARCH.start, end=MARCH.end)
        instant = figure_queries.instant_counts(session, county_code=county, now=NOW)
        followed = session.scalars(select(Case).where(Case.external_ref == "imp-006")).one()
        by_point = session.scalars(select(Case).where(Case.external_ref == "imp-005")).one()
        events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == followed.id).order_by(CaseEvent.id)).all()
    assert (counts.received, counts.closed, counts.closed_on_time) == (10, 5, 3)
    assert (counts.closed_village, counts.closed_township, counts.closed_county) == (3, 1, 1)
    assert (counts.followed_up, counts.satisfied) == (3, 1)
    assert (instant.open, instant.red) == (5, 1)
    assert by_point.grid_code == "990101002002002" and by_point.township_code == "990101002"
    assert [(e.action, e.from_status, e.to_status, e.at) for e in events] == [("import", None, "followed_up", NOW)]
    assert events[0].note.startswith("cases") and events[0].note.endswith(":7"), "the note names the file row"
    assert (followed.status, followed.resolved_tier, followed.satisfaction) == ("followed_up", "township", "satisfied")
    assert {e.actor for e in events} == {"import"}

    again = _run(runtime, GOOD)
    assert (again.rows, again.imported, again.duplicates, again.rejected) == (10, 0, 10, 0)
    assert _count(runtime, Case) == 10
    assert _reconcile(runtime, county) == []


def test_one_bad_row_in_all_or_nothing_mode_writes_nothing_and_reports_it(
    runtime: Runtime, county: str, tmp_path: Path
) -> None:
    source = _write_csv(tmp_path / "cases.csv", [_row("a-1"), _row("a-2"), _row("a-3", category="gossip"), _row("a-4")])

    result = _run(runtime, source)

    assert (result.rows, result.imported, result.rejected, result.exit_code) == (4, 0, 1, 1)
    assert result.report_path == tmp_path / "cases.errors.csv"
    assert _report(result.report_path) == [
        {"row": "4", "column": "category", "value": "gossip", "message": result.errors[0].message}]
    assert "neighbour" in result.errors[0].message
    assert _count(runtime, Case) == _count(runtime, CaseEvent) == 0
    assert _reconcile(runtime, county) == []


def test_skip_mode_imports_only_the_good_rows(runtime: Runtime, county: str, tmp_path: Path) -> None:
    source = _write_csv(tmp_path / "cases.csv", [
        _row("s-1"),
        _row("s-2", status="resolved"),
        _row("s-3", status="mediating", resolved_at="2026-03-11T09:00:00+08:00", people_involved="40"),
        _row("s-1", category="debt"),
        _row("s-5", status="followed_up", resolved_at="2026-03-12T09:00:00+08:00", satisfaction="satisfied"),
    ])
    report = tmp_path / "out" / "report.csv"

    result = _run(runtime, source, all_or_nothing=False, report_path=report)

    assert (result.rows, result.imported, result.rejected, result.report_path) == (5, 2, 3, report)
    assert [(r["row"], r["column"]) for r in _report(report)] == [
        ("3", "resolved_at"), ("4", "resolved_at"), ("5", "external_ref")]
    assert "repeats row 2" in _report(report)[2]["message"]
    with runtime.sessions() as session:
        assert sorted(session.scalars(select(Case.external_ref))) == ["s-1", "s-5"]
    assert _count(runtime, CaseEvent) == 2, "one import event per imported case"
    assert _reconcile(runtime, county) == []


def test_xlsx_imports_like_csv(runtime: Runtime, county: str, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(COLUMNS))
    sheet.append(["x-1", "grid_report", "land", "2026-03-02T10:00:00+08:00", 127.15, 44.15, None, 3, "village",
                  "followed_up", "2026-03-04T10:00:00+08:00", "satisfied", "土地纠纷"])
    sheet.append([1002, "walk_in", "debt", "2026-03-03T10:00:00+08:00", None, None, GRID_CODES[5], 1, None,
                  "mediating", None, None, None])
    sheet.append([])
    sheet.append(["x-3", "walk_in", "debt", datetime(2026, 3, 3, 10), None, None, GRID_CODES[5], 1, None,
                  "received", None, None, None])
    path = tmp_path / "cases.xlsx"
    book.save(path)

    result = _run(runtime, path, all_or_nothing=False)

    assert (result.rows, result.imported, result.rejected) == (3, 3, 0)
    with runtime.sessions() as session:
        stored = {c.external_ref: c for c in session.scalars(select(Case))}
    assert stored["x-1"].grid_code == "990101001001002" and stored["x-1"].people_involved == 3
    assert stored["1002"].status == "mediating"
    assert stored["x-3"].received_at == datetime(2026, 3, 3, 2, tzinfo=UTC), "an Excel date cell is Asia/Shanghai time"
    assert _reconcile(runtime, county) == []


def test_point_outside_the_county_and_impossible_time_are_row_errors(runtime: Runtime, county: str, tmp_path: Path) -> None:
    source = _write_csv(tmp_path / "cases.csv", [
        _row("o-1", grid_code="", lon="126.50", lat="44.10"),
        _row("o-2", received_at="2026-02-30 09:00"),
        _row("o-3", grid_code=GRID_CODES[0], lon="127.65", lat="44.15"),
        _row("o-4", grid_code="990101009009009"),
        _row("o-5", received_at="2026-07-01T09:00:00+08:00"),
        _row("o-6"),
    ])

    result = _run(runtime, source)

    assert (result.imported, result.rejected) == (0, 5)
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "lon"), (3, "received_at"), (4, "grid_code"), (5, "grid_code"), (6, "received_at")]
    assert "outside every grid" in result.errors[0].message
    assert "no such day" in result.errors[1].message
    assert _count(runtime, Case) == 0


def test_header_problems_refuse_the_file(runtime: Runtime, county: str, tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("external_ref,source,category,recieved_at,grid_code,status\n", encoding="utf-8")
    with pytest.raises(CaseImportError, match="recieved_at"):
        _run(runtime, path)


def test_lifecycle_steps_are_deterministic_fractions_of_the_interval() -> None:
    received = datetime(2026, 3, 1, tzinfo=UTC)
    resolved = received + timedelta(days=4)
    steps = lifecycle_steps(Status.followed_up, received, resolved)
    assert [(a.value, (at - received).days) for a, at in steps] == [
        ("assess", 1), ("dispatch", 2), ("mediate", 3), ("resolve", 4), ("follow_up", 4)]
    assert [a.value for a, _ in lifecycle_steps(Status.dispatched, received, None)] == ["assess", "dispatch"]
    assert lifecycle_steps(Status.received, received, None) == []


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_a_year_of_the_demo_county_gives_its_closure_rate(runtime: Runtime, county: str, tmp_path: Path) -> None:
    """Shulan's year: 23,724 received, 23,487 resolved → 99.00 %."""
    total, resolved = 23_724, 23_487
    start = datetime(2025, 1, 1, tzinfo=UTC) - timedelta(hours=8)
    step = timedelta(days=365) / total
    statuses = ("received", "assessed", "dispatched", "mediating")
    rows = []
    for n in range(total):
        received = start + step * n
        row = _row(f"y-{n:05d}", received_at=received.isoformat(), grid_code=GRID_CODES[n % len(GRID_CODES)],
                   category=("neighbour", "land", "debt")[n % 3])
        if n % 100 == 0 and n > 0:
            row["status"] = statuses[n // 100 % 4]
        else:
            closed_at = (received + timedelta(days=n % 9 + 1)).isoformat()
            row |= {"status": "followed_up", "resolved_at": closed_at, "satisfaction": "satisfied"} if n % 2 else \
                {"status": "resolved", "resolved_at": closed_at}
        rows.append(row)
    path = _write_csv(tmp_path / "year.csv", rows)

    result = _run(runtime, path)

    assert (result.rows, result.imported, result.rejected) == (total, total, 0)
    year = Period(date(2025, 1, 1), date(2025, 12, 31))
    with runtime.sessions() as session:
        counts = figure_queries.period_counts(session, county_code=county, start=year.start, end=year.end)
    assert (counts.received, counts.closed, counts.closure_rate) == (total, resolved, 99.00)
    assert _reconcile(runtime, county) == []
    # On screen: the leader's tablet with that calendar year as its custom range.
    params = {"lang": "zh", "range": "custom", "from": "2025-01-01", "to": "2025-12-31"}
    tile = _find(tablet_body(runtime, SnapshotCache(runtime), params), "fig-closure_rate")
    assert "99.00%" in str(tile.to_plotly_json())


def _find(node: object, element_id: str) -> Component | None:
    """The component with ``element_id`` in a layout tree."""
    if isinstance(node, (list, tuple)):
        return next((found for child in node if (found := _find(child, element_id)) is not None), None)
    if isinstance(node, Component):
        if getattr(node, "id", None) == element_id:
            return node
        return _find(getattr(node, "children", None), element_id)
    return None


def test_bulk_insert_refuses_a_repeat_as_integrity_error_and_leaves_nothing(runtime: Runtime, county: str) -> None:
    """The unique (source, external_ref) holds on both backends and the caller's transaction rolls back whole."""
    checked = check_rows(read_rows(GOOD)[:1], CheckContext(runtime.cases.places(), NOW))
    case, events = build_case(checked.valid[0], actor="import", now=NOW, rules=runtime.rules)
    row = tuple(getattr(case, name) for name in bulk_cases.CASE_COLUMNS)
    event_rows = [(0, *(getattr(e, name) for name in bulk_cases.EVENT_COLUMNS)) for e in events]
    with pytest.raises(IntegrityError), runtime.sessions() as session, session.begin():
        assert len(bulk_cases.insert_cases(session, [row], event_rows)) == 1
        bulk_cases.insert_cases(session, [row], event_rows)
    assert _count(runtime, Case) == _count(runtime, CaseEvent) == 0


def test_a_case_stored_meanwhile_refuses_the_whole_import_and_redis_stays_untouched(
    runtime: Runtime, county: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer storing a case between the duplicate lookup and the COPY: the unique key
    refuses the insert (in the writer thread on PostgreSQL), and nothing of the file lands."""
    first = _run(runtime, _write_csv(tmp_path / "one.csv", [_row("m-2")]))
    assert first.imported == 1
    version = aggregates.version(runtime.redis, county)
    monkeypatch.setattr(bulk_cases, "existing_refs", lambda session, refs: set())

    with pytest.raises(CaseImportError, match="another writer"):
        _run(runtime, _write_csv(tmp_path / "cases.csv", [_row("m-1"), _row("m-2"), _row("m-3")]))

    assert _count(runtime, Case) == _count(runtime, CaseEvent) == 1
    assert aggregates.version(runtime.redis, county) == version
    assert _reconcile(runtime, county) == []


def test_cells_outside_the_named_columns_are_flagged_and_short_rows_padded(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("external_ref,,source,category,received_at,status,grid_code\n"
                    "a-1,,walk_in,land,2026-03-10T09:00:00+08:00,received,G1\n"
                    "a-2,stray,walk_in,land,2026-03-10T09:00:00+08:00,received,G1\n"
                    "a-3,,walk_in,land,2026-03-10T09:00:00+08:00,received,G1,beyond\n"
                    "a-4,,walk_in\n"
                    ",,,,,,\n", encoding="utf-8")
    rows = read_rows(path)
    assert [(r.number, r.extra_cells) for r in rows] == [(2, False), (3, True), (4, True), (5, False)]
    assert rows[3].values == {"external_ref": "a-4", "source": "walk_in", "category": "", "received_at": "",
                              "status": "", "grid_code": ""}
    assert "" not in rows[0].values


def test_a_file_checked_in_parts_for_its_progress_imports_as_a_whole_and_refuses_as_a_whole(
    runtime: Runtime, county: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parts of two rows, each reported to ``progress``: a repeat is still found across parts, a
    bad row in the last part still refuses the whole file, and every part's errors are reported."""
    monkeypatch.setattr(case_import, "_PROGRESS_ROWS", 2)
    bad = _write_csv(tmp_path / "bad.csv", [
        _row("c-1", category="gossip"), _row("c-2"), _row("c-3"), _row("c-4"), _row("c-2", category="debt"),
    ])
    told: list[tuple[int, int]] = []
    refused = _run(runtime, bad, progress=lambda done, total: told.append((done, total)))
    assert told == [(2, 5), (4, 5), (5, 5)]
    assert (refused.imported, refused.rejected) == (0, 2)
    assert [(e.row, e.column) for e in refused.errors] == [(2, "category"), (6, "external_ref")]
    assert "repeats row 3" in refused.errors[1].message
    assert _count(runtime, Case) == _count(runtime, CaseEvent) == 0
    assert _reconcile(runtime, county) == []

    told.clear()
    skipped = _run(runtime, bad, all_or_nothing=False, progress=lambda done, total: told.append((done, total)))
    assert (skipped.imported, skipped.rejected, skipped.duplicates) == (3, 2, 0)
    assert told == [(2, 5), (4, 5), (5, 5), (5, 5)], "checked in parts, then stored"
    again = _run(runtime, _write_csv(tmp_path / "more.csv", [_row("c-3"), _row("c-5"), _row("c-4"), _row("c-6"),
                                                            _row("c-7")]))
    assert (again.imported, again.duplicates, again.rejected) == (3, 2, 0)
    with runtime.sessions() as session:
        assert sorted(session.scalars(select(Case.external_ref))) == ["c-2", "c-3", "c-4", "c-5", "c-6", "c-7"]
        ids = sorted(session.scalars(select(Case.id)))
    assert len(set(ids)) == 6 and _count(runtime, CaseEvent) == 6
    assert _reconcile(runtime, county) == []


def test_a_failure_while_storing_writes_nothing(
    runtime: Runtime, county: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure after some cases were sent to the database rolls them back with the rest, and
    Redis is never asked."""
    insert = bulk_cases.insert_cases

    def failing_after_the_insert(*args: object, **kwargs: object) -> list[int]:
        ids = insert(*args, **kwargs)  # type: ignore[arg-type]
        assert len(ids) == 8
        raise MemoryError("out of memory while storing")

    monkeypatch.setattr(bulk_cases, "insert_cases", failing_after_the_insert)
    monkeypatch.setattr(case_import, "push_contributions", lambda *a, **k: pytest.fail("nothing was committed"))
    source = _write_csv(tmp_path / "cases.csv", [_row(f"f-{n}") for n in range(8)])
    with pytest.raises(MemoryError):
        _run(runtime, source)
    assert _count(runtime, Case) == _count(runtime, CaseEvent) == 0
    assert _reconcile(runtime, county) == []


def _failing(monkeypatch: pytest.MonkeyPatch, times: int, then: object = None) -> list[int]:
    """``apply_prepared`` fails ``times`` times with a lost connection (running ``then`` first), then works."""
    apply, calls = aggregates.apply_prepared, []

    def flaky(*args: object) -> int:
        calls.append(1)
        if len(calls) <= times:
            if callable(then):
                then()
            raise redis.ConnectionError("Redis is restarting")
        return apply(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(aggregates, "apply_prepared", flaky)
    return calls


def test_redis_failing_after_the_commit_is_waited_for_and_the_aggregates_land(
    runtime: Runtime, county: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime.cases.ensure_built()  # type: ignore[misc]
    calls = _failing(monkeypatch, 2)
    result = _run(runtime, _write_csv(tmp_path / "cases.csv", [_row("w-1"), _row("w-2")]))
    assert (result.imported, result.aggregates_behind, result.exit_code, len(calls)) == (2, False, 0, 3)
    assert _reconcile(runtime, county) == []


def test_redis_that_came_back_empty_after_the_commit_is_rebuilt_with_the_import(
    runtime: Runtime, county: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(runtime, _write_csv(tmp_path / "first.csv", [_row("e-1")]))
    _failing(monkeypatch, 1, then=lambda: clear_namespace(runtime.redis))
    result = _run(runtime, _write_csv(tmp_path / "cases.csv", [_row("e-2"), _row("e-3")]))
    assert (result.imported, result.aggregates_behind) == (2, False)
    assert _reconcile(runtime, county) == []
    assert aggregates.read_open_counts(runtime.redis, county)[county][0] == 3


def test_redis_that_never_answers_leaves_the_cases_stored_and_says_the_aggregates_are_behind(
    runtime: Runtime, county: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime.cases.ensure_built()  # type: ignore[misc]
    _failing(monkeypatch, 10_000)
    result = _run(runtime, _write_csv(tmp_path / "cases.csv", [_row("n-1")]), redis_wait_seconds=0.3)
    assert (result.imported, result.aggregates_behind, result.exit_code) == (1, True, 3)
    assert _count(runtime, Case) == 1
    assert len(_reconcile(runtime, county)) > 0, "behind until a rebuild"


def test_an_import_waits_for_a_rebuild_under_way_before_updating_redis(
        runtime: Runtime, county: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Applied while a rebuild is between its SQL read and its write, the import's aggregates could
    be wiped by that write; the import holds them back until the rebuild's fence is down."""
    with runtime.sessions() as session:
        cache_ops.rebuild(session, runtime.redis, county, runtime.rules)
    fence = aggregates.raise_fence(runtime.redis, county)
    with runtime.sessions() as session:
        read_before_the_import = case_columns.case_columns(session, county, runtime.rules)
    lowered: list[float] = []
    refused = threading.Event()
    apply_new_cases = aggregates.apply_new_cases

    def refusal_noted(*args: object, **kwargs: object) -> object:
        try:
            return apply_new_cases(*args, **kwargs)  # type: ignore[arg-type]
        except aggregates.RebuildUnderWay:
            refused.set()
            raise

    monkeypatch.setattr(aggregates, "apply_new_cases", refusal_noted)

    def finish_rebuild() -> None:
        wait_until(refused.is_set, 60, message="the import's commit, then its aggregates refused by the fence")
        aggregates.rebuild_columns(runtime.redis, county, read_before_the_import, fence=fence)
        lowered.append(time.monotonic())

    rebuild = threading.Thread(target=finish_rebuild)
    rebuild.start()
    result = _run(runtime, _write_csv(tmp_path / "cases.csv", [_row("f-1"), _row("f-2")]))
    rebuild.join()
    assert result.imported == 2 and not result.aggregates_behind
    assert lowered and aggregates.read_open_counts(runtime.redis, county)[county][0] == 2
    assert _reconcile(runtime, county) == []


def test_the_error_report_never_hands_a_spreadsheet_a_formula(tmp_path: Path) -> None:
    """The report quotes the file's own bad values back; opened in Excel or WPS, none may run."""
    hostile = ["=HYPERLINK(\"http://evil\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "普通值"]
    errors = [RowError(n + 2, "people_involved", value, f"not a number: {value}") for n, value in enumerate(hostile)]
    path = tmp_path / "cases.errors.csv"
    case_import.write_report(path, errors)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    for row, value in zip(rows, hostile, strict=True):
        assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), row
        assert row[2] == (value if value == "普通值" else f"'{value}")
