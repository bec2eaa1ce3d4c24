"""The names of the parties a county has recorded, for masking them in free text. Functions never commit."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data_access.models import Case

MAX_NAMES = 200_000
"""Distinct names read at most: far more than a county records in years, and still a few MB."""


def party_names(session: Session, county_code: str, limit: int = MAX_NAMES) -> list[str]:
    """Every distinct party name recorded on the county's cases (personal data: for masking only)."""
    stmt = (select(Case.party_name).where(Case.county_code == county_code, Case.party_name.is_not(None))
            .distinct().limit(limit))
    return [name for name in session.scalars(stmt) if name]


def names_version(session: Session, county_code: str) -> tuple[int, int]:
    """How many party names the county has and its newest case id: a cheap sign that
    :func:`party_names` would answer differently (names are set when a case is written)."""
    count, newest = session.execute(
        select(func.count(Case.party_name), func.max(Case.id)).where(Case.county_code == county_code)).one()
    return int(count or 0), int(newest or 0)
