"""The engine's promises on the real PostgreSQL: no JIT for our short county queries, and the
connection options a URL carries (a test run's search_path) kept beside it."""

from __future__ import annotations

from sqlalchemy import text

from data_access.database import make_engine
from tests.conftest import BASE_PG_URL, PG_URL


def test_postgres_connections_run_without_jit() -> None:
    engine = make_engine(BASE_PG_URL)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW jit")).scalar() == "off"
    finally:
        engine.dispose()


def test_options_in_the_url_are_kept_beside_jit_off(pg_schema: str) -> None:
    engine = make_engine(PG_URL)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW jit")).scalar() == "off"
            schema = PG_URL.rsplit("%3D", 1)[-1]
            assert connection.execute(text("SHOW search_path")).scalar() == schema
    finally:
        engine.dispose()
