"""Helpers for tests that talk to the app as a signed-in role, a wall screen or nobody."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from starlette.types import ASGIApp

from dashboard.access.auth import USER_ROLES, Principal, Role, hash_password, new_password, start_session
from dashboard.runtime import Runtime
from dashboard.access.security import CSRF_COOKIE, DISPLAY_COOKIE, SESSION_COOKIE
from dashboard.access.tokens import new_token, token_hash
from data_access import api_clients, users


def new_screen(rt: Runtime, county: str, name: str = "wall") -> str:
    """A wall screen bound to ``county``; returns its display token."""
    token = "mcs_" + new_password() + new_password()
    with rt.sessions() as session, session.begin():
        users.create_screen(session, name=name, county_code=county, token_hash=token_hash(token), now=datetime.now(UTC))
    return token


def new_source_token(rt: Runtime, name: str = "hotline", source: str = "hotline_12345") -> str:
    """A source system (api_client) feeding ``source``; returns its bearer token."""
    token = new_token()
    with rt.sessions() as session, session.begin():
        api_clients.create(session, name=name, source=source, token_hash=token_hash(token), now=datetime.now(UTC))
    return token


def new_user(rt: Runtime, name: str, role: Role, county: str | None = None) -> str:
    """A user with a random password; returns the password."""
    password = new_password()
    with rt.sessions() as session, session.begin():
        users.create_user(session, name=name, role=role.value, password_hash=hash_password(password),
                          now=datetime.now(UTC), county_code=county)
    return password


def as_role(client: TestClient, rt: Runtime, role: Role, county: str | None = None, name: str | None = None) -> str:
    """Give ``client`` a session of ``role`` (straight into Redis, no password); returns the CSRF token,
    which is also set as the ``X-CSRFToken`` header like Dash's renderer does. A person's session
    needs an active user of that name and role, a wall's an unrevoked screen (the gate checks on
    every request), so one is made, without a usable password or token, when missing."""
    name = name or f"test-{role.value}"
    screen_id = None
    if role is Role.screen:
        with rt.sessions() as session, session.begin():
            screen_id = users.create_screen(session, name=name, county_code=county or "000000",
                                            token_hash=token_hash(new_token()), now=datetime.now(UTC)).id
    elif role in USER_ROLES:
        with rt.sessions() as session, session.begin():
            user = users.get_user(session, name)
            if user is None:
                users.create_user(session, name=name, role=role.value, password_hash="!", now=datetime.now(UTC),
                                  county_code=county)
            else:
                user.role, user.county_code, user.disabled_at = role.value, county, None
    session_id, data = start_session(rt.redis, Principal(name=name, role=role, area=county), screen_id=screen_id)
    client.cookies.set(SESSION_COOKIE, session_id)
    client.cookies.set(CSRF_COOKIE, data.csrf)
    client.headers["X-CSRFToken"] = data.csrf
    return data.csrf


def as_screen(client: TestClient, token: str) -> None:
    """A wall: only its display cookie; the app opens a screen session from it."""
    client.cookies.set(DISPLAY_COOKIE, token)


@contextmanager
def served(app: ASGIApp) -> Iterator[TestClient]:
    """A client without the app's lifespan (no live hub tasks, no scheduler thread), as the other
    API tests use it: routes compute what they need on demand."""
    yield TestClient(app)
