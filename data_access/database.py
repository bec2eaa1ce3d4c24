"""Engine and session factory; callers own their transactions."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    """An engine tuned for our two databases.

    SQLite gets WAL so the live feed can write while the app reads, and a busy timeout so
    concurrent writers wait instead of failing. PostgreSQL runs without JIT compilation: our
    queries are short counts over one county's index range, and once a province's case table
    pushes their estimated cost past ``jit_above_cost`` compiling them took most of their time
    (188 of 263 ms in the province benchmark; docs/benchmarks.md, "Province").
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    parsed = make_url(url)
    options = " ".join(["-c jit=off", str(parsed.query.get("options", ""))]).strip()
    return create_engine(parsed.difference_update_query(["options"]), pool_pre_ping=True, pool_size=5,
                         max_overflow=10, connect_args={"options": options})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
