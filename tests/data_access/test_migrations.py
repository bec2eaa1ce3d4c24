"""The migrations build the schema the models describe, on PostgreSQL and on the embedded SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from data_access.database import make_engine
from data_access.migrate import upgrade
from data_access.models import Base


@pytest.mark.parametrize("backend", ["postgres", "embedded"])
def test_migrations_match_the_models(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    if backend == "postgres":
        url = request.getfixturevalue("pg_schema")
    else:
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_open_cases_index_holds_only_open_cases_and_serves_their_queries(pg_schema: str) -> None:
    """Closed cases get no entry (a history import skips it), and the open-cases filter every
    screen uses (``county_code = … AND resolved_at IS NULL``) can still be answered from it."""
    engine = make_engine(pg_schema)
    try:
        with engine.connect() as conn, conn.begin() as transaction:
            definition = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_case_county_open' "
                                           "AND schemaname = current_schema()")).scalar_one()
            # Only this index left (the drops roll back with the transaction), so the plan shows
            # whether it can answer the filter at all, whatever the statistics of the moment.
            for other in ("ix_case_county_received", "ix_case_grid_received"):
                conn.execute(text(f"DROP INDEX {other}"))
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(conn.execute(text(
                "EXPLAIN SELECT count(*) FROM \"case\" WHERE county_code = '330000' AND resolved_at IS NULL "
                "AND due_at < now()")).scalars())
            transaction.rollback()
    finally:
        engine.dispose()
    assert definition.endswith("(county_code, due_at) WHERE (resolved_at IS NULL)")
    assert "ix_case_county_open" in plan
