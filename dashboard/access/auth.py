"""Who is asking: roles, the route table, passwords, sessions and ``current_user()``.

Every request passes through ``dashboard.access.security.AccessMiddleware``, which finds the principal
(a session cookie, a wall's display token, or a source system's Bearer token), checks it
against :data:`RULES` and sets :func:`current_user` for the code that handles the request,
Dash callbacks included. Roles, from most to least trusted: admin, duty_officer, leader, screen;
api_client is a source system (``dashboard.access.tokens``).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum

import redis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dashboard.domain.area_scope import contains
from data_access import sessions_store


class Role(StrEnum):
    admin = "admin"
    leader = "leader"
    duty_officer = "duty_officer"
    screen = "screen"
    api_client = "api_client"


USER_ROLES = (Role.admin, Role.leader, Role.duty_officer)
"""Roles a person signs in with (screens use display tokens, source systems API tokens)."""
WALL = frozenset({Role.screen, Role.leader, Role.duty_officer, Role.admin})
TABLET = frozenset({Role.leader, Role.duty_officer, Role.admin})
DUTY = frozenset({Role.duty_officer, Role.admin})
ADMIN = frozenset({Role.admin})
REVEAL = frozenset({Role.duty_officer})
"""Who may see a case's personal data in full: the officer on duty, who works the case; an admin
runs the system and reads the audit log, and has no case to call anyone about."""
SOURCE = frozenset({Role.api_client})
READERS = frozenset({Role.api_client, Role.leader, Role.duty_officer, Role.admin})


@dataclass(frozen=True)
class Principal:
    """The signed-in party of one request.

    ``area`` is the area it is held to (``dashboard.domain.area_scope``): the county, city or
    province a wall (``screens add --area``), a person (``users add --area``) or a source system
    (``sources add --area``) was created with; ``None``: every area (an unscoped admin, leader or
    officer; a source system without an area, which acts on every served county)."""

    name: str
    role: Role
    area: str | None = None

    def sees(self, code: str) -> bool:
        """Whether the area ``code`` (a county, township, village or grid) is inside this principal's area."""
        return contains(self.area, code)


_current: ContextVar[Principal | None] = ContextVar("mediation_principal", default=None)


def current_user() -> Principal | None:
    """Who makes the current request (``None``: nobody signed in, e.g. a public route)."""
    return _current.get()


_csrf: ContextVar[str | None] = ContextVar("mediation_csrf", default=None)


def current_csrf_token() -> str | None:
    """The session's CSRF token: the hidden ``csrf`` field of a sign-out form (``POST /logout``) that
    a screen renders; scripts read the ``_csrf_token`` cookie and send it as ``X-CSRFToken``."""
    return _csrf.get()


@contextmanager
def acting_as(principal: Principal | None, csrf: str | None = None) -> Iterator[None]:
    """Set :func:`current_user` for a block (the middleware per request; tests and jobs by hand)."""
    token, csrf_token = _current.set(principal), _csrf.set(csrf)
    try:
        yield
    finally:
        _current.reset(token)
        _csrf.reset(csrf_token)


@dataclass(frozen=True)
class Rule:
    """Who may use the routes matching ``pattern`` (and ``methods``, if given).

    ``kind``: ``page`` (unauthenticated → redirect to the sign-in page), ``api`` (→ 401/403 JSON)
    or ``public``. ``bearer``: a source system's token is accepted as api_client. ``identify``: a
    public route that still learns who asks (from a session), to show signed-in roles more.
    """

    pattern: re.Pattern[str]
    roles: frozenset[Role]
    kind: str = "api"
    methods: frozenset[str] = frozenset()
    bearer: bool = False
    identify: bool = False

    def matches(self, method: str, path: str) -> bool:
        return (not self.methods or method in self.methods) and self.pattern.fullmatch(path) is not None


def _rule(pattern: str, roles: frozenset[Role], kind: str = "api", methods: str = "", bearer: bool = False,
          identify: bool = False) -> Rule:
    return Rule(re.compile(pattern), roles, kind, frozenset(methods.split()) if methods else frozenset(), bearer,
                identify)


PUBLIC: frozenset[Role] = frozenset()
RULES: tuple[Rule, ...] = (
    _rule(r"/login|/logout|/login\.css|/_favicon\.ico", PUBLIC, "public"),
    _rule(r"/api/status", PUBLIC, "public", identify=True),
    _rule(r"/assets/.*|/_dash-component-suites/.*", PUBLIC, "public"),
    _rule(r"/open311/.*", PUBLIC, "public"),
    _rule(r"/api/openapi\.json|/api/docs.*", PUBLIC, "public"),
    _rule(r"/admin(/.*)?", ADMIN, "page"),
    _rule(r"/reports(/.*)?", frozenset({Role.leader, Role.admin}), "page"),  # written reports: list, download, make
    _rule(r"/api/audit", ADMIN),
    _rule(r"/api/cases/[^/]+/reveal", REVEAL, methods="POST"),
    _rule(r"/api/cases(/[^/]+/events)?", SOURCE, methods="POST", bearer=True),
    _rule(r"/api/(cases/[^/]+|alerts|figures)", READERS, methods="GET HEAD", bearer=True),
    _rule(r"/api/warnings", TABLET, methods="GET HEAD"),  # early warnings: leader, duty officer, admin
    _rule(r"/api/live/.*", WALL),
    _rule(r"/api/geo/.*", WALL | SOURCE, bearer=True),
    _rule(r"/api/.*", ADMIN, bearer=False),
    _rule(r"/_dash-.*|/_reload-hash", WALL),
    _rule(r"/tablet(/.*)?", TABLET, "page"),
    _rule(r"/duty(/.*)?", DUTY, "page"),
    _rule(r"/.*", WALL, "page"),
)
"""First match wins; a path no rule names falls to the last rule: the wall's roles, as a page."""


CALLBACK_SCOPES: dict[str, frozenset[Role]] = {"duty-": DUTY, "duty-revealed": REVEAL, "tablet-": TABLET,
                                               "admin-": ADMIN}
"""Every Dash screen shares one callback route, so the route table alone would let a wall run a
duty console's callback. A callback any of whose output ids starts with one of these prefixes
(for pattern-matching ids: whose ``type`` does) runs only for the roles all matching prefixes
allow (the console's reveal: a duty officer only). Callbacks should still
check ``callbacks.access.allowed`` themselves before acting."""


def output_ids(output: str) -> list[str]:
    """Component ids named by Dash's ``output`` field: ``id.prop`` or ``..id1.prop1...id2.prop2..``."""
    specs = output[2:-2].split("...") if output.startswith("..") else [output]
    ids = []
    for spec in specs:
        component = spec.rsplit(".", 1)[0]
        if not component.startswith("{"):
            ids.append(component)
            continue
        try:
            parsed = json.loads(component)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            ids.extend(str(v) for v in parsed.values() if isinstance(v, str))
    return ids


def callback_roles(output: str) -> frozenset[Role] | None:
    """The roles that may run a callback with this ``output``; ``None``: any role the route admits."""
    allowed: frozenset[Role] | None = None
    for component in output_ids(output):
        for prefix, roles in CALLBACK_SCOPES.items():
            if component.startswith(prefix):
                allowed = roles if allowed is None else allowed & roles
    return allowed


def rule_for(method: str, path: str) -> Rule:
    for rule in RULES:
        if rule.matches(method, path):
            return rule
    return RULES[-1]


_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """Argon2id with argon2-cffi's current defaults (the parameters travel inside the hash)."""
    check_password_strength(password)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def dummy_verify(password: str) -> None:
    """Spend the time a real check takes, so an unknown name cannot be told from a wrong password."""
    verify_password(_DUMMY_HASH, password)


_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
MIN_PASSWORD = 10


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    if password.strip() != password:
        raise ValueError("a password may not start or end with spaces")


def new_password() -> str:
    """A random password for demo and first accounts (never a fixed default)."""
    return secrets.token_urlsafe(12)


USER_IDLE_SECONDS = 8 * 3600
"""A person's session ends after 8 idle hours (a duty shift)."""
SCREEN_IDLE_SECONDS = 30 * 86400
"""A wall runs for days unattended; its session is renewed by every request it makes."""


@dataclass(frozen=True)
class SessionData:
    principal: Principal
    csrf: str
    screen_id: int | None = None


def start_session(client: redis.Redis, principal: Principal, *, screen_id: int | None = None,
                  csrf: str | None = None) -> tuple[str, SessionData]:
    """A new session id (for the cookie) and its data; ``csrf`` is the token forms and callbacks send back."""
    data = SessionData(principal, csrf or secrets.token_urlsafe(32), screen_id)
    ttl = SCREEN_IDLE_SECONDS if principal.role == Role.screen else USER_IDLE_SECONDS
    session_id = sessions_store.create(client, {
        "name": principal.name, "role": principal.role.value, "area": principal.area, "csrf": data.csrf,
        "screen": str(screen_id) if screen_id is not None else None,
    }, ttl_seconds=ttl)
    return session_id, data


def load_session(client: redis.Redis, session_id: str) -> SessionData | None:
    raw = sessions_store.load(client, session_id)
    if raw is None:
        return None
    try:
        area = raw.get("area", raw.get("county"))  # sessions started before areas named it "county"
        principal = Principal(name=str(raw["name"]), role=Role(str(raw["role"])), area=str(area) if area else None)
        screen = raw.get("screen")
        return SessionData(principal, str(raw["csrf"]), int(str(screen)) if screen else None)
    except (KeyError, ValueError):
        return None


def end_session(client: redis.Redis, session_id: str) -> None:
    sessions_store.delete(client, session_id)
