"""Bulk insert on PostgreSQL (COPY): every value lands as given, and the server checks every row as for any insert."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from dashboard.imports import onboarding
from dashboard.imports.case_file import read_rows
from dashboard.imports.row_check import CheckContext, check_rows
from dashboard.runtime import Runtime
from dashboard.settings import Settings
from data_access import bulk_cases
from data_access.models import Case, CaseEvent
from tests.conftest import REDIS_URL, _clean
from tests.dashboard.imports.reference_replay import build_case
from tests.factories import GRID_CODES, small_county

GOOD = Path(__file__).resolve().parent.parent / "data" / "cases_good.csv"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def pg(pg_schema: str, tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime(Settings(database_url=pg_schema, redis_url=REDIS_URL, var_dir=tmp_path))
    _clean(rt)
    yield rt
    rt.close()


@pytest.fixture
def rows(pg: Runtime, county_on_pg: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Every good row of the sample file as case values and its events, in the small test county."""
    checked = check_rows(read_rows(GOOD), CheckContext(pg.cases.places(), NOW, lambda lons, lats: [GRID_CODES[0]] * len(lons)))
    built = [build_case(row, actor="import", now=NOW, rules=pg.rules) for row in checked.valid]
    cases = [tuple(getattr(case, name) for name in bulk_cases.CASE_COLUMNS) for case, _ in built]
    events = [(i, *(getattr(e, name) for name in bulk_cases.EVENT_COLUMNS)) for i, (_, evs) in enumerate(built)
              for e in evs]
    return cases, events


@pytest.fixture
def county_on_pg(pg: Runtime) -> str:
    with pg.sessions() as session, session.begin():
        report = onboarding.save_county(session, small_county(), name="测试县", now=NOW,
                                        outline_geojson='{"type":"Polygon","coordinates":[[[127,44],[127.8,44],'
                                                        '[127.8,44.2],[127,44.2],[127,44]]]}')
    return report.county_code


def _counts(rt: Runtime) -> tuple[int, int]:
    with rt.sessions() as session:
        return (session.scalar(select(func.count()).select_from(Case)) or 0,
                session.scalar(select(func.count()).select_from(CaseEvent)) or 0)


def test_insert_lands_every_row_and_leaves_the_triggers_on_for_the_rest_of_the_transaction(pg: Runtime, rows) -> None:
    cases, events = rows
    with pg.sessions() as session, session.begin():
        bulk_cases.insert_cases(session, cases, events)
        assert session.scalar(text("SHOW session_replication_role")) == "origin"
    assert _counts(pg) == (len(cases), len(events))


def test_a_case_in_a_grid_that_does_not_exist_refuses_the_whole_insert(pg: Runtime, rows) -> None:
    cases, events = rows
    grid = bulk_cases.CASE_COLUMNS.index("grid_code")
    broken = [*cases[:-1], (*cases[-1][:grid], "999999999999999", *cases[-1][grid + 1:])]
    with pytest.raises(IntegrityError, match="grid"), pg.sessions() as session, session.begin():
        bulk_cases.insert_cases(session, broken, events)
    assert _counts(pg) == (0, 0)


def test_a_trigger_of_our_own_on_the_case_table_keeps_every_row_checked_and_fired(pg: Runtime, rows) -> None:
    """COPY fires the table's own triggers for every row, as any insert does."""
    cases, events = rows
    with pg.engine.begin() as conn:
        conn.execute(text("CREATE TABLE trigger_seen (n int)"))
        conn.execute(text("CREATE FUNCTION note_case() RETURNS trigger LANGUAGE plpgsql AS "
                          "$$BEGIN INSERT INTO trigger_seen VALUES (1); RETURN NEW; END$$"))
        conn.execute(text('CREATE TRIGGER note_case AFTER INSERT ON "case" FOR EACH ROW EXECUTE FUNCTION note_case()'))
    try:
        with pg.sessions() as session, session.begin():
            bulk_cases.insert_cases(session, cases, events)
        with pg.engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM trigger_seen")) == len(cases)
    finally:
        with pg.engine.begin() as conn:
            conn.execute(text('DROP TRIGGER note_case ON "case"'))
            conn.execute(text("DROP FUNCTION note_case()"))
            conn.execute(text("DROP TABLE trigger_seen"))


def test_times_go_into_the_copy_as_naive_utc_whatever_their_offset() -> None:
    beijing = timezone(timedelta(hours=8))
    values = [datetime(2026, 3, 5, 9, 30, tzinfo=beijing), datetime(2026, 3, 5, 1, 30, 0, 250, tzinfo=UTC), None]
    assert bulk_cases._column_text(values, "time") == ["2026-03-05T01:30:00.000000", "2026-03-05T01:30:00.000250",
                                                       "\\N"]
    with pytest.raises(ValueError, match="naive"):
        bulk_cases._column_text([datetime(2026, 3, 5, 9, 30)], "time")


def test_columns_with_one_value_in_a_batch_land_as_given(pg: Runtime, rows) -> None:
    """``render`` moves columns with a single value to a shared suffix and leaves out all-NULL ones
    whose default is NULL; every stored case and event value must still be the one given,
    including a column that is NULL in one batch and set in the next, and text that needs escaping."""
    cases, events = rows
    at = {name: bulk_cases.CASE_COLUMNS.index(name) for name in ("acknowledged_by", "description", "people_involved")}

    def with_values(case: tuple[object, ...], **values: object) -> tuple[object, ...]:
        changed = list(case)
        for name, value in values.items():
            changed[at[name]] = value
        return tuple(changed)

    half = len(cases) // 2
    given = [with_values(case, acknowledged_by=None, description="同\t一\\行") for case in cases[:half]]
    given += [with_values(case, acknowledged_by="值班员", people_involved=7) for case in cases[half:]]
    rendered = bulk_cases.render(bulk_cases.Batch(list(range(1, half + 1)), given[:half], []), bulk_cases.CASE_COLUMNS)
    assert "acknowledged_by" not in rendered.cases.columns and "description" in rendered.cases.columns
    with pg.sessions() as session, session.begin():
        ids = bulk_cases.reserve_ids(session, len(given))
        first_events = [event for event in events if event[0] < half]
        batches = [bulk_cases.Batch(ids[:half], given[:half], first_events), bulk_cases.Batch(ids[half:], given[half:], [])]
        bulk_cases.insert_batches(session, batches, bulk_cases.CASE_COLUMNS)
    with pg.sessions() as session:
        stored = {case.id: case for case in session.scalars(select(Case))}
        stored_events = sorted((e.case_id, *(getattr(e, name) for name in bulk_cases.EVENT_COLUMNS))
                               for e in session.scalars(select(CaseEvent)))
    for case_id, values in zip(ids, given, strict=True):
        case = stored[case_id]
        assert tuple(getattr(case, name) for name in bulk_cases.CASE_COLUMNS) == values
    assert first_events and stored_events == sorted((ids[event[0]], *event[1:]) for event in first_events)


def test_values_are_stored_exactly_as_a_core_insert_stores_them(runtime: Runtime, county: str) -> None:
    """Byte for byte on both databases, times without a fraction of a second included: SQL that
    compares stored times as text (SQLite) must see an imported case as it sees any other."""
    checked = check_rows(read_rows(GOOD), CheckContext(runtime.cases.places(), NOW,
                                                       lambda lons, lats: [GRID_CODES[0]] * len(lons)))
    built = [build_case(row, actor="import", now=NOW, rules=runtime.rules) for row in checked.valid]
    cases = [tuple(getattr(case, name) for name in bulk_cases.CASE_COLUMNS) for case, _ in built]
    events = [(i, *(getattr(e, name) for name in bulk_cases.EVENT_COLUMNS)) for i, (_, evs) in enumerate(built)
              for e in evs]
    assert any(case[bulk_cases.CASE_COLUMNS.index("received_at")].microsecond == 0 for case in cases)

    def stored() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        with runtime.engine.connect() as conn:
            return (list(conn.exec_driver_sql('SELECT * FROM "case" ORDER BY id').all()),
                    list(conn.exec_driver_sql("SELECT case_id, at, actor, action, from_status, to_status, note "
                                              "FROM case_event ORDER BY case_id, id").all()))

    with runtime.sessions() as session, session.begin():
        ids = bulk_cases.insert_cases(session, cases, events)
    bulk = stored()
    with runtime.engine.begin() as conn:
        conn.execute(delete(CaseEvent))
        conn.execute(delete(Case))
    with runtime.sessions() as session, session.begin():
        session.execute(insert(Case.__table__), [{"id": case_id, **dict(zip(bulk_cases.CASE_COLUMNS, values))}
                                                 for case_id, values in zip(ids, cases, strict=True)])
        session.execute(insert(CaseEvent.__table__),
                        [{"case_id": ids[event[0]], **dict(zip(bulk_cases.EVENT_COLUMNS, event[1:]))} for event in events])
    assert stored() == bulk and len(bulk[0]) == len(cases)
