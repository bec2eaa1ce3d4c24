"""Migration 0010 chains the audit entries written before it, so ``audit verify`` holds on an
upgraded database, and later appends continue that chain (PostgreSQL and SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from data_access import audit
from data_access.database import make_engine, make_session_factory
from data_access.migrate import upgrade
from tests.conftest import BASE_PG_URL

SCHEMA = "audit_chain_migration"


@pytest.fixture(params=["postgres", "embedded"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "embedded":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    schema = f"{SCHEMA}_{request.node.name[-4:].strip('[]')}".replace("-", "_").lower()
    admin = make_engine(BASE_PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
    yield f"{BASE_PG_URL}{'&' if '?' in BASE_PG_URL else '?'}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def test_entries_from_before_the_chain_are_chained_by_the_migration(database: str) -> None:
    upgrade(database, "0009")
    engine = make_engine(database)
    try:
        with engine.begin() as conn:
            for n in range(5):
                conn.execute(text("INSERT INTO audit_entry (at, actor, role, action, target, detail, ip) "
                                  "VALUES (:at, :actor, 'admin', 'assign', :target, :detail, NULL)"),
                             {"at": datetime(2026, 11, 1, 9, n, 0, 123456), "actor": f"管理员{n}",
                              "target": f"case:{n}", "detail": '{"note": "迁移前"}'})
        upgrade(database)
        sessions = make_session_factory(engine)
        with sessions() as session:
            found = audit.verify(session)
        assert found.broken is None and found.checked == 5
        with sessions() as session, session.begin():
            audit.record(session, actor="值班员", role="duty_officer", action="reveal", target="case:1",
                         at=datetime(2026, 12, 1, tzinfo=UTC))
        with sessions() as session:
            after = audit.verify(session)
        assert after.broken is None and after.checked == 6
        with engine.begin() as conn:
            conn.execute(text("UPDATE audit_entry SET actor = '别人' WHERE actor = '管理员2'"))
        with sessions() as session:
            tampered = audit.verify(session)
        assert tampered.broken is not None and tampered.broken.reason == "altered"
    finally:
        engine.dispose()
