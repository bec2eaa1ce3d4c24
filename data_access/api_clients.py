"""Source systems and their token hashes. Functions never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from data_access.models import ApiClient


def create(session: Session, *, name: str, source: str, token_hash: str, now: datetime,
           area_code: str | None = None) -> ApiClient:
    """A source system; ``area_code`` is the county, city or province whose cases it may report and
    read (``None``: every served county)."""
    client = ApiClient(name=name, source=source, token_hash=token_hash, created_at=now, area_code=area_code)
    session.add(client)
    session.flush()
    return client


def find_active(session: Session, token_hash: str) -> ApiClient | None:
    return session.scalars(
        select(ApiClient).where(ApiClient.token_hash == token_hash, ApiClient.revoked_at.is_(None))
    ).first()


def get_by_name(session: Session, name: str) -> ApiClient | None:
    return session.scalars(select(ApiClient).where(ApiClient.name == name)).first()
