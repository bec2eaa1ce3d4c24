"""The import's direct end states against the lifecycle replay they replace, field by field.

``case_state`` and ``_parse_clean`` are shortcuts; the replay (``build_case``: ``new_case`` plus
one ``act`` per step) and ``_parse`` stay the reference, here and in the database test of
``test_case_import``.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from dashboard.cases import cache_ops

from dashboard.imports import case_import
from dashboard.imports.case_import import (
    COLUMNS,
    CheckContext,
    RawRow,
    _parse,
    _parse_clean,
    build_case,
    check_rows,
    grid_locator,
    import_cases,
    read_rows,
)
from dashboard.imports.import_states import STATE_COLUMNS, case_state, case_values
from dashboard.domain.rules import Rules
from dashboard.runtime import Runtime
from data_access import bulk_cases
from data_access.areas import GridPlace
from data_access.models import Case, CaseEvent
from tests.factories import GRID_CODES

GOOD = Path(__file__).resolve().parents[2] / "data" / "cases_good.csv"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
PLACE = GridPlace(GRID_CODES[0], GRID_CODES[0][:12], GRID_CODES[0][:9], GRID_CODES[0][:6])


def _raw(number: int, **fields: str) -> RawRow:
    base = {"external_ref": f"r-{number}", "source": "hotline_12345", "category": "neighbour",
            "received_at": "2026-03-10T09:00:00+08:00", "grid_code": GRID_CODES[0], "status": "received"}
    values = base | fields
    return RawRow(number, {name: values.get(name, "") for name in COLUMNS})


def _rows_of_every_kind() -> list[RawRow]:
    """Every status × tier × a few sources and categories × group sizes × times of day."""
    rows = []
    statuses = ("received", "assessed", "dispatched", "mediating", "resolved", "followed_up")
    combos = itertools.product(statuses, ("", "village", "township", "county"), ("hotline_12345", "petition"),
                               ("neighbour", "labour_wages"), ("", "1", "12", "45"))
    for n, (status, tier, source, category, people) in enumerate(combos):
        received = datetime(2026, 1, 1, 7, 13, 5, 123457, tzinfo=UTC) + timedelta(days=n % 140, seconds=n * 97)
        offset = timezone(timedelta(hours=8 if n % 2 else 0))
        fields = {"status": status, "tier": tier, "source": source, "category": category, "people_involved": people,
                  "received_at": received.astimezone(offset).isoformat(), "description": f"诉求 {n}"}
        if status in ("resolved", "followed_up"):
            fields["resolved_at"] = (received + timedelta(days=n % 12, microseconds=n * 7 + 1)).isoformat()
        if status == "followed_up":
            fields["satisfaction"] = ("satisfied", "neutral", "dissatisfied")[n % 3]
        if n % 5 == 0:
            fields |= {"lon": "127.05", "lat": "44.05", "grid_code": ""}
        rows.append(_raw(n + 2, **fields))
    return rows


BAD_FIELDS: list[dict[str, str]] = [
    {"external_ref": ""}, {"external_ref": "x" * 65}, {"source": "fax"}, {"source": ""}, {"category": "gossip"},
    {"tier": "province"}, {"status": "closed"}, {"status": ""}, {"people_involved": "0"},
    {"people_involved": "2.5"}, {"people_involved": "100001"}, {"received_at": ""},
    {"received_at": "2026-03-10T09:00:00"}, {"received_at": "yesterday"}, {"received_at": "2026-07-01T00:00:00Z"},
    {"resolved_at": "2026-03-11T09:00:00+08:00"}, {"status": "resolved"},
    {"status": "resolved", "resolved_at": "2026-03-09T09:00:00+08:00"},
    {"status": "resolved", "resolved_at": "2026-03-11T09:00:00"},
    {"status": "resolved", "resolved_at": "2026-07-11T09:00:00+08:00"},
    {"status": "followed_up", "resolved_at": "2026-03-11T09:00:00+08:00"},
    {"status": "followed_up", "resolved_at": "2026-03-11T09:00:00+08:00", "satisfaction": "happy"},
    {"satisfaction": "satisfied"}, {"satisfaction": "happy"}, {"lon": "127.1"}, {"lat": "44.1"},
    {"lon": "nan", "lat": "44.1"}, {"lon": "181", "lat": "44.1"}, {"lon": "127.1", "lat": "-91"},
    {"lon": "east", "lat": "44.1"}, {"grid_code": ""},
]


def test_the_fast_row_check_accepts_clean_rows_and_leaves_every_doubt_to_the_full_check() -> None:
    clean = [*_rows_of_every_kind(), *read_rows(GOOD)]
    bad = [_raw(n + 2, **fields) for n, fields in enumerate(BAD_FIELDS)]
    bad.append(replace(_raw(99), extra_cells=True))
    for raw in clean:
        fast, full = _parse_clean(raw, NOW), _parse(raw, NOW)
        assert full.row.errors == [] and fast is not None, raw
        assert replace(fast, row=full.row) == full
    for raw in bad:
        assert _parse(raw, NOW).row.errors, raw
        assert _parse_clean(raw, NOW) is None, raw


def _replayed(row: object, rules: Rules) -> dict[str, object]:
    case, _ = build_case(row, actor="import", now=NOW, rules=rules)  # type: ignore[arg-type]
    return {name: getattr(case, name) for name in STATE_COLUMNS}


@pytest.mark.parametrize("levels", [4, 3])
def test_the_end_state_equals_the_lifecycle_replay_field_by_field(rules: Rules, levels: int) -> None:
    rules = replace(rules, levels=levels)
    places = {code: GridPlace(code, code[:12], code[:9], code[:6]) for code in GRID_CODES}
    checked = check_rows(_rows_of_every_kind(), CheckContext(places, NOW, lambda xs, ys: [GRID_CODES[1]] * len(xs)))
    assert checked.errors == [] and len(checked.valid) == 6 * 4 * 2 * 2 * 4
    levels_seen = set()
    for row in checked.valid:
        state, event = case_state(row, actor="import", now=NOW, rules=rules, note=f"cases.csv:{row.number}")
        assert dict(zip(STATE_COLUMNS, case_values(state), strict=True)) == _replayed(row, rules), row.number
        assert event == (NOW, "import", "import", None, row.status.value, f"cases.csv:{row.number}"), row.number
        levels_seen.add(state.alert_level)
    assert levels_seen == ({None, "blue", "yellow", "orange", "red"} if levels == 4 else {None, "blue", "yellow", "red"})


def test_columns_the_import_does_not_set_are_left_to_their_defaults() -> None:
    """Personal-data columns and the like: the replay leaves them unset too, so both write NULL."""
    others = [Case.__table__.c[name] for name in bulk_cases.CASE_COLUMNS if name not in STATE_COLUMNS]
    assert all(column.nullable or column.default is not None for column in others), others


def _stored(rt: Runtime) -> tuple[dict[str, dict[str, object]], dict[str, list[tuple[object, ...]]]]:
    """Every case (all columns but id) and its events (all columns but ids), keyed by external_ref."""
    with rt.sessions() as session:
        cases = {c.external_ref: c for c in session.scalars(select(Case))}
        by_id = {c.id: ref for ref, c in cases.items()}
        events: dict[str, list[tuple[object, ...]]] = {ref: [] for ref in cases}
        for e in session.scalars(select(CaseEvent).order_by(CaseEvent.id)):
            events[by_id[e.case_id]].append(tuple(getattr(e, name) for name in bulk_cases.EVENT_COLUMNS))
        rows = {ref: {name: getattr(c, name) for name in bulk_cases.CASE_COLUMNS} for ref, c in cases.items()}
    return rows, events


def _every_kind_file(source: Path, last: dict[str, str]) -> Path:
    """A CSV of every kind of row (those without lon/lat placed by grid code), then ``last``."""
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for raw in _rows_of_every_kind():
            writer.writerow(dict(raw.values) | ({} if raw.values["lon"] else {"grid_code": GRID_CODES[raw.number % 8]}))
        writer.writerow(last)
    return source


def test_a_file_imported_both_ways_stores_the_same_rows(runtime: Runtime, county: str, tmp_path: Path) -> None:
    """The import against the replay it replaces, through the database, every column of every row."""
    source = _every_kind_file(tmp_path / "cases.csv",
                              dict(_raw(1000).values) | {"description": "tab\there, line\nbreak, back\\slash \\N 引号\""})
    result = import_cases(runtime, source, progress=False, now=NOW)
    assert (result.imported, result.rejected) == (len(_rows_of_every_kind()) + 1, 0)
    with runtime.sessions() as session:
        assert list(cache_ops.reconcile(session, runtime.redis, county, runtime.rules)) == []
    fast = _stored(runtime)

    with runtime.engine.begin() as conn:
        conn.execute(delete(CaseEvent))
        conn.execute(delete(Case))
    checked = check_rows(read_rows(source), CheckContext(runtime.cases.places(), NOW,
                                                         grid_locator(runtime, county).locate_many))
    built = [build_case(row, actor="import", now=NOW, rules=runtime.rules) for row in checked.valid]
    with runtime.sessions() as session, session.begin():
        bulk_cases.insert_cases(
            session, [tuple(getattr(c, name) for name in bulk_cases.CASE_COLUMNS) for c, _ in built],
            [(i, *(getattr(e, name) for name in bulk_cases.EVENT_COLUMNS)) for i, (_, evs) in enumerate(built)
             for e in evs])
    replayed = _stored(runtime)

    assert fast[0].keys() == replayed[0].keys()
    numbers = {row.draft.external_ref: row.number for row in checked.valid}
    for ref in replayed[0]:
        assert fast[0][ref] == replayed[0][ref], ref
        assert fast[1][ref] == [(NOW, "import", "import", None, fast[0][ref]["status"],
                                 f"cases.csv:{numbers[ref]}")], ref
    assert fast[0]["r-1000"]["description"] == "tab\there, line\nbreak, back\\slash \\N 引号\""


def test_a_helper_process_checking_every_other_chunk_stores_what_one_process_stores(
    runtime: Runtime, county: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a forked process checks every other chunk and sends it as COPY text; the
    rows, events, Redis aggregates and row errors must be those of checking alone."""
    source = _every_kind_file(tmp_path / "cases.csv", dict(_raw(2000).values) | {"category": "gossip"})
    monkeypatch.setattr(case_import, "_CHUNK_ROWS", 50)
    helpers: list[bool] = []
    helper = case_import._helper

    @contextmanager
    def watched(*args: object) -> Iterator[object]:
        with helper(*args) as pool:  # type: ignore[arg-type]
            helpers.append(pool is not None)
            yield pool

    monkeypatch.setattr(case_import, "_helper", watched)
    results, stored = [], []
    for cpus in (2, 1):
        monkeypatch.setattr(case_import.os, "cpu_count", lambda cpus=cpus: cpus)
        _clear_cases(runtime)
        results.append(import_cases(runtime, source, progress=False, now=NOW, all_or_nothing=False))
        stored.append(_stored(runtime))
        with runtime.sessions() as session:
            assert list(cache_ops.reconcile(session, runtime.redis, county, runtime.rules)) == []
    postgres = runtime.engine.dialect.name == "postgresql"
    assert helpers == [postgres, False]
    assert results[0].imported == results[1].imported == len(_rows_of_every_kind())
    assert results[0].errors == results[1].errors and len(results[0].errors) == 1
    assert stored[0] == stored[1]


def _clear_cases(rt: Runtime) -> None:
    """No cases, and Redis rebuilt to match."""
    with rt.engine.begin() as conn:
        conn.execute(delete(CaseEvent))
        conn.execute(delete(Case))
    with rt.sessions() as session:
        cache_ops.rebuild(session, rt.redis, rt.cases.county_code, rt.rules)


def _whole(rows: list[RawRow], rules: Rules, stored: set[tuple[str, str]]) -> case_import._File:
    places = {code: GridPlace(code, code[:12], code[:9], code[:6]) for code in GRID_CODES}
    context = CheckContext(places, NOW, lambda xs, ys: [GRID_CODES[1]] * len(xs))
    ids = {row.number: 10_000 + row.number for row in rows}
    return case_import._File(rows, context, case_import.file_repeats(rows), stored, ids, "import", rules, "cases.csv")


@pytest.mark.parametrize("levels", [4, 3])
def test_a_clean_chunk_checked_without_row_objects_renders_what_the_row_by_row_check_renders(
    rules: Rules, levels: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Byte for byte: the COPY text of cases and events, the contributions, the stored rows skipped."""
    rules = replace(rules, levels=levels)
    rows = [*_rows_of_every_kind(), _raw(5000, description="tab\there, line\nbreak, back\\slash \\N 引号\"")]
    whole = _whole(rows, rules, stored={(row.values["source"], row.values["external_ref"]) for row in rows[5:7]})
    assert case_import._clean_chunk(whole, rows) is not None, "a clean chunk takes the quick way"
    fast = case_import._check_chunk(whole, (0, len(rows)), render=True)
    monkeypatch.setattr(case_import, "_clean_chunk", lambda *_: None)
    reference = case_import._check_chunk(whole, (0, len(rows)), render=True)
    assert fast.errors == reference.errors == []
    assert fast.duplicates == reference.duplicates == 2
    assert fast.items == reference.items and len(fast.items) == len(rows) - 2
    assert fast.batch == reference.batch


@pytest.mark.parametrize("fields", [*BAD_FIELDS, {"grid_code": "999999999999999"}])
def test_a_chunk_with_any_doubt_goes_the_row_by_row_way(rules: Rules, fields: dict[str, str]) -> None:
    rows = [*_rows_of_every_kind()[:40], _raw(4000, **fields)]
    assert case_import._clean_chunk(_whole(rows, rules, set()), rows) is None


def test_a_repeat_within_the_file_or_a_point_outside_every_grid_goes_the_row_by_row_way(rules: Rules) -> None:
    rows = [*_rows_of_every_kind()[:40], _raw(4000, external_ref="r-2")]
    assert case_import._clean_chunk(_whole(rows, rules, set()), rows) is None
    outside = _whole(_rows_of_every_kind()[:40], rules, set())
    outside = replace(outside, context=replace(outside.context, locate_many=lambda xs, ys: [None] * len(xs)))
    assert case_import._clean_chunk(outside, outside.raw) is None
