"""Who is asking: a session cookie, a wall's display token, or a source system's Bearer token.

Sessions are checked against the database on every request, so a revoked screen or a disabled
user is refused at its next request, not when its session expires. A wall signs itself in from
its display token (the link an admin issues, then a long-lived cookie), and again by itself when
its session is lost.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.responses import RedirectResponse

from dashboard.access.auth import Principal, Role, Rule, SessionData, end_session, load_session, start_session
from dashboard.access.cookies import (
    DISPLAY_COOKIE,
    SESSION_COOKIE,
    clear_session_cookies,
    cookie_headers,
    set_session_cookies,
)
from dashboard.access.csrf import CSRF_COOKIE
from dashboard.access.incoming import Incoming, Verdict
from dashboard.access.refusals import DATABASE_AWAY, error_json, forbidden_page
from dashboard.access.tokens import TOKEN_SHAPE, token_hash
from data_access import api_clients, audit, users

if TYPE_CHECKING:
    from dashboard.runtime import Runtime

log = logging.getLogger(__name__)

SCREEN_PATHS = frozenset({"/", "/screen"})
"""Where a wall's link (``?token=…``) signs it in."""


class Identifier:
    """Finds the principal of a request; runs in a worker thread (it queries the database and Redis)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def identify(self, req: Incoming, rule: Rule) -> Verdict:
        bearer = req.bearer()
        if rule.bearer and bearer is not None:
            return self.bearer(bearer)
        if rule.bearer and not rule.roles - {Role.api_client}:
            return Verdict(response=error_json(401, "unauthenticated", "send 'Authorization: Bearer <token>'",
                                               "Authorization"))
        if req.method == "GET" and not req.websocket and req.path in SCREEN_PATHS and "token" in req.query:
            return self.activate_screen(req)
        session_id = req.cookies.get(SESSION_COOKIE)
        session = load_session(self.rt.redis, session_id) if session_id else None
        if session is not None and session_id:
            if self.still_active(session):
                return Verdict(principal=session.principal, session=session)
            end_session(self.rt.redis, session_id)
            return Verdict(cookies=cookie_headers(lambda r: clear_session_cookies(r, https=req.https)))
        display = req.cookies.get(DISPLAY_COOKIE)
        if display:
            return self.resume_screen(req, display)
        return Verdict()

    def still_active(self, session: SessionData) -> bool:
        """A revoked screen or a disabled user is refused on its next request, not when its session
        expires. While the database is away an existing session stands: open screens keep their
        figures, and the check is made again on the next request."""
        principal = session.principal
        try:
            with self.rt.sessions() as db:
                if principal.role == Role.screen:
                    return session.screen_id is not None and users.screen_is_active(db, session.screen_id)
                return users.user_is_active(db, principal.name, principal.role.value)
        except DATABASE_AWAY:
            log.warning("session of %s not checked: the database is unavailable", principal.name)
            return True

    def bearer(self, token: str) -> Verdict:
        """A source system by its API token."""
        if not token:
            return Verdict(response=error_json(401, "unauthenticated", "send 'Authorization: Bearer <token>'",
                                               "Authorization"))
        with self.rt.sessions() as db:
            client = api_clients.find_active(db, token_hash(token))
        if client is None:
            return Verdict(response=error_json(401, "unauthenticated", "unknown or revoked token", "Authorization"))
        return Verdict(principal=Principal(name=client.name, role=Role.api_client), api_client=client)

    def screen_session(self, req: Incoming, token: str, csrf: str | None, *, via: str) -> Verdict | None:
        """A wall's session from its display token, with a ``sign_in`` audit entry like a person's;
        ``via``: ``link`` (the token in the address) or ``display_cookie`` (a lost session renewed)."""
        with self.rt.sessions() as db, db.begin():
            screen = users.active_screen(db, token_hash(token))
            if screen is None:
                return None
            principal = Principal(name=screen.name, role=Role.screen, county=screen.county_code)
            screen_id = screen.id
            audit.record(db, actor=screen.name, role=Role.screen.value, action="sign_in", target=f"screen:{screen.name}",
                         detail={"via": via, "county": screen.county_code}, ip=req.ip or None, at=self.rt.clock())
        session_id, data = start_session(self.rt.redis, principal, screen_id=screen_id, csrf=csrf)
        cookies = cookie_headers(lambda r: set_session_cookies(r, session_id, data, https=req.https,
                                                               display_token=token))
        return Verdict(principal=principal, session=data, cookies=cookies)

    def activate_screen(self, req: Incoming) -> Verdict:
        """``/?token=…`` or ``/screen?token=…``: sign the wall in and drop the token from the address."""
        token = req.query.get("token", "")
        verdict = self.screen_session(req, token, None, via="link") \
            if TOKEN_SHAPE.fullmatch(token.removeprefix("mcs_")) else None
        if verdict is None:
            return Verdict(response=forbidden_page("显示令牌无效或已吊销 · unknown or revoked display token"))
        verdict.response = RedirectResponse(req.path_with_query(without=("token",)), status_code=303)
        return verdict

    def resume_screen(self, req: Incoming, token: str) -> Verdict:
        """A wall whose session is gone (expired, Redis emptied) signs in again from its display cookie.

        It keeps the CSRF token it already holds, so a callback in flight is not refused.
        """
        held = req.cookies.get(CSRF_COOKIE)
        csrf = held if held and TOKEN_SHAPE.fullmatch(held) else None
        verdict = self.screen_session(req, token, csrf, via="display_cookie")
        if verdict is None:
            return Verdict(cookies=cookie_headers(lambda r: clear_session_cookies(r, https=req.https)))
        return verdict
