"""A PostgreSQL schema of the bench's own, so benches never touch what tests or people use."""

from __future__ import annotations

from sqlalchemy import text

from data_access.database import make_engine
from data_access.migrate import upgrade


def schema_url(base: str, schema: str) -> str:
    """Every pooled connection gets ``search_path=schema`` (the same trick as tests/conftest.py)."""
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


def fresh_schema(base: str, schema: str) -> str:
    """Drop and recreate ``schema``, migrate it, and return the URL that works inside it."""
    engine = make_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    scoped = schema_url(base, schema)
    upgrade(scoped)
    return scoped
