"""Bulk insert on PostgreSQL: foreign keys checked once per parent, with the same guarantees as the per-row triggers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from dashboard.imports import onboarding
from dashboard.imports.case_import import CheckContext, build_case, check_rows, read_rows
from dashboard.runtime import Runtime
from dashboard.settings import Settings
from data_access import bulk_cases
from data_access.models import Case, CaseEvent
from tests.conftest import REDIS_URL, _clean
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
    """The replica role would silence user triggers too, so with one present the server checks each row."""
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
        parents = {"county_code": {c[bulk_cases.CASE_COLUMNS.index("county_code")] for c in given},
                   "grid_code": {c[bulk_cases.CASE_COLUMNS.index("grid_code")] for c in given}}
        bulk_cases.insert_batches(session, [bulk_cases.render(b, bulk_cases.CASE_COLUMNS) for b in batches],
                                  bulk_cases.CASE_COLUMNS, parents)
    with pg.sessions() as session:
        stored = {case.id: case for case in session.scalars(select(Case))}
        stored_events = sorted((e.case_id, *(getattr(e, name) for name in bulk_cases.EVENT_COLUMNS))
                               for e in session.scalars(select(CaseEvent)))
    for case_id, values in zip(ids, given, strict=True):
        case = stored[case_id]
        assert tuple(getattr(case, name) for name in bulk_cases.CASE_COLUMNS) == values
    assert first_events and stored_events == sorted((ids[event[0]], *event[1:]) for event in first_events)
