"""People who sign in and the wall screens, each bound to an area. Functions never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from data_access.models import County, Screen, User


def create_user(session: Session, *, name: str, role: str, password_hash: str, now: datetime,
                county_code: str | None = None) -> User:
    """A person; ``county_code`` is the area they are held to (a county, city or province code; ``None``: every area)."""
    user = User(name=name, role=role, password_hash=password_hash, created_at=now, county_code=county_code)
    session.add(user)
    session.flush()
    return user


def county_codes(session: Session) -> list[str]:
    """Every imported county's code: a person may be held only to an area that holds one of them."""
    return list(session.scalars(select(County.code).order_by(County.code)))


def get_user(session: Session, name: str) -> User | None:
    return session.scalars(select(User).where(User.name == name)).first()


def active_user(session: Session, name: str) -> User | None:
    return session.scalars(select(User).where(User.name == name, User.disabled_at.is_(None))).first()


def user_is_active(session: Session, name: str, role: str, area: str | None) -> bool:
    """Whether a session of ``name`` as ``role``, held to ``area``, may still act: the user exists,
    is not disabled and still has that role and that area (one indexed lookup, made on every
    request of a session). A user moved to another area, or given every area, signs in again."""
    found = session.scalar(select(User.id).where(User.name == name, User.role == role, User.disabled_at.is_(None),
                                                 User.county_code.is_(None) if area is None else User.county_code == area))
    return found is not None


def create_screen(session: Session, *, name: str, county_code: str, token_hash: str, now: datetime) -> Screen:
    """A wall; ``county_code`` is the area it shows (a county, city or province code)."""
    screen = Screen(name=name, county_code=county_code, token_hash=token_hash, created_at=now)
    session.add(screen)
    session.flush()
    return screen


def get_screen(session: Session, name: str) -> Screen | None:
    return session.scalars(select(Screen).where(Screen.name == name)).first()


def active_screen(session: Session, token_hash: str) -> Screen | None:
    return session.scalars(select(Screen).where(Screen.token_hash == token_hash, Screen.revoked_at.is_(None))).first()


def screen_is_active(session: Session, screen_id: int) -> bool:
    """Whether a wall's session may still be served: its screen has not been revoked."""
    found = session.scalar(select(Screen.id).where(Screen.id == screen_id, Screen.revoked_at.is_(None)))
    return found is not None
