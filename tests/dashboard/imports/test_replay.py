"""The import's cases against the write path's ORM functions, field by field.

``casework.replayed_case`` walks a plain ``CaseState`` through the same ``advance`` steps that
``act`` takes on an ORM row; ``tests.dashboard.imports.reference_replay.build_case`` (``new_case``
plus one ``act`` per step) is the reference it must equal, here and through the database.
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from dashboard.cases import cache_ops
from dashboard.cases.casework import replayed_case
from dashboard.domain.rules import Rules
from dashboard.imports.case_file import COLUMNS, RawRow, read_rows
from dashboard.imports.case_import import STATE_COLUMNS, _cases, grid_locator, import_cases
from dashboard.imports.row_check import CheckContext, check_rows
from dashboard.runtime import Runtime
from data_access import bulk_cases
from data_access.areas import GridPlace
from data_access.models import Case, CaseEvent
from tests.dashboard.imports.reference_replay import build_case
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
    {"received_at": "2026-02-30T09:00:00"}, {"received_at": "1999-12-31 09:00"}, {"received_at": "yesterday"}, {"received_at": "2026-07-01T00:00:00Z"},
    {"resolved_at": "2026-03-11T09:00:00+08:00"}, {"status": "resolved"},
    {"status": "resolved", "resolved_at": "2026-03-09T09:00:00+08:00"},
    {"status": "resolved", "resolved_at": "2026-03-11 25:00"},
    {"status": "resolved", "resolved_at": "2026-07-11T09:00:00+08:00"},
    {"status": "followed_up", "resolved_at": "2026-03-11T09:00:00+08:00"},
    {"status": "followed_up", "resolved_at": "2026-03-11T09:00:00+08:00", "satisfaction": "happy"},
    {"satisfaction": "satisfied"}, {"satisfaction": "happy"}, {"lon": "127.1"}, {"lat": "44.1"},
    {"lon": "nan", "lat": "44.1"}, {"lon": "181", "lat": "44.1"}, {"lon": "127.1", "lat": "-91"},
    {"lon": "east", "lat": "44.1"}, {"grid_code": ""},
]


def test_every_bad_value_is_a_row_error_and_never_a_case() -> None:
    """The one validator refuses each kind of bad value on its own; the clean rows all pass."""
    places = {code: GridPlace(code, code[:12], code[:9], code[:6]) for code in GRID_CODES}
    context = CheckContext(places, NOW, lambda xs, ys: [GRID_CODES[1]] * len(xs))
    bad = [_raw(n + 2, **fields) for n, fields in enumerate(BAD_FIELDS)]
    bad.append(replace(_raw(len(bad) + 2), extra_cells=True))
    checked = check_rows(bad, context)
    assert checked.valid == []
    assert {e.row for e in checked.errors} == {raw.number for raw in bad}
    assert check_rows(_rows_of_every_kind(), context).errors == []


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
    states, events = _cases(checked.valid, actor="import", now=NOW, rules=rules, errors=[], file_name="cases.csv")
    assert len(states) == len(events) == len(checked.valid)
    for n, (row, state, event) in enumerate(zip(checked.valid, states, events, strict=True)):
        alone = replayed_case(row.draft, row.place, status=row.status, resolved_at=row.resolved_at,
                              satisfaction=row.satisfaction, actor="import", now=NOW, rules=rules)
        assert alone == state
        assert {name: getattr(state, name) for name in STATE_COLUMNS} == _replayed(row, rules), row.number
        assert event == (n, NOW, "import", "import", None, row.status.value, f"cases.csv:{row.number}"), row.number
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
    result = import_cases(runtime, source, now=NOW)
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
