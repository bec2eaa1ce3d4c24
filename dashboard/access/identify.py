"""Who is asking: a session cookie, a wall's display token, or a source system's Bearer token.

Sessions are checked against the database on every request, so a revoked screen or a disabled
user is refused at its next request, not when its session expires. A wall signs itself in from
its display token (the link an admin issues, then a long-lived cookie), and again by itself when
its session is lost.

Every look-up runs in the request's one database session (:class:`RequestSession`), which the
route behind the gate reuses: a request opens at most one session, and none if nothing reads the
database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session
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


class RequestSession:
    """The request's one database session: opened on first use, shared by the access gate and the
    route behind it (``dashboard.api.request_session``), closed by the gate when the response is done.

    The gate's every use is a short transaction of its own (:meth:`transaction`), ended before the
    route runs. So the route finds the session as it would find a new one: no transaction open, no
    connection held (an event stream does not hold a connection for the gate's check), and the rows
    the gate loaded still readable (the sessions do not expire them on commit).
    """

    STATE_KEY = "request_session"
    """Where the gate leaves it: ``scope["state"]``, which Starlette shows as ``request.state``."""

    def __init__(self, sessions: Callable[[], Session]) -> None:
        self._sessions = sessions
        self._session: Session | None = None

    @classmethod
    def of(cls, scope: Mapping[str, object]) -> RequestSession | None:
        """The one the gate left on a request's scope; ``None`` where no gate ran (a bare router)."""
        state = scope.get("state")
        found = state.get(cls.STATE_KEY) if isinstance(state, Mapping) else None
        return found if isinstance(found, cls) else None

    @property
    def is_open(self) -> bool:
        return self._session is not None

    def session(self) -> Session:
        """The request's session, opened now if nothing has used it yet."""
        if self._session is None:
            self._session = self._sessions()
        return self._session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """The session for one unit of the gate's work, committed when it is done and rolled back
        if it fails (the database away): the session is usable again either way."""
        db = self.session()
        try:
            yield db
            db.commit()
        except BaseException:
            self._roll_back()
            raise

    def close(self) -> None:
        """End the session (its transaction rolled back, its connection returned); idempotent."""
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def _roll_back(self) -> None:
        """Undo a failed unit of work; a session that cannot even roll back is dropped, and the
        next use opens a fresh one."""
        if self._session is None:
            return
        try:
            self._session.rollback()
        except Exception:  # noqa: BLE001 - the session is discarded; the original error is raised
            log.warning("request session dropped: it could not roll back", exc_info=True)
            self._session = None


class Identifier:
    """Finds the principal of a request; runs in a worker thread (it queries the database and Redis)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def identify(self, req: Incoming, rule: Rule, db: RequestSession) -> Verdict:
        bearer = req.bearer()
        if rule.bearer and bearer is not None:
            return self.bearer(bearer, db)
        if rule.bearer and not rule.roles - {Role.api_client}:
            return Verdict(response=error_json(401, "unauthenticated", "send 'Authorization: Bearer <token>'",
                                               "Authorization"))
        if req.method == "GET" and not req.websocket and req.path in SCREEN_PATHS and "token" in req.query:
            return self.activate_screen(req, db)
        session_id = req.cookies.get(SESSION_COOKIE)
        session = load_session(self.rt.redis, session_id) if session_id else None
        if session is not None and session_id:
            if self.still_active(session, db):
                return Verdict(principal=session.principal, session=session)
            end_session(self.rt.redis, session_id)
            return Verdict(cookies=cookie_headers(lambda r: clear_session_cookies(r, https=req.https)))
        display = req.cookies.get(DISPLAY_COOKIE)
        if display:
            return self.resume_screen(req, display, db)
        return Verdict()

    def still_active(self, session: SessionData, db: RequestSession) -> bool:
        """A revoked screen or a disabled user is refused on its next request, not when its session
        expires. While the database is away an existing session stands: open screens keep their
        figures, and the check is made again on the next request."""
        principal = session.principal
        try:
            with db.transaction() as read:
                if principal.role == Role.screen:
                    return session.screen_id is not None and users.screen_is_active(read, session.screen_id)
                return users.user_is_active(read, principal.name, principal.role.value, principal.area)
        except DATABASE_AWAY:
            log.warning("session of %s not checked: the database is unavailable", principal.name)
            return True

    def bearer(self, token: str, db: RequestSession) -> Verdict:
        """A source system by its API token, held to its area (``ApiClient.area_code``: a county, city
        or province; ``None``: every served county), so the gate binds what it reads like a person's."""
        if not token:
            return Verdict(response=error_json(401, "unauthenticated", "send 'Authorization: Bearer <token>'",
                                               "Authorization"))
        with db.transaction() as read:
            client = api_clients.find_active(read, token_hash(token))
        if client is None:
            return Verdict(response=error_json(401, "unauthenticated", "unknown or revoked token", "Authorization"))
        return Verdict(principal=Principal(name=client.name, role=Role.api_client, area=client.area_code),
                       api_client=client)

    def screen_session(self, req: Incoming, token: str, csrf: str | None, db: RequestSession, *,
                       via: str) -> Verdict | None:
        """A wall's session from its display token, with a ``sign_in`` audit entry like a person's
        (written in one transaction with the look-up); ``via``: ``link`` (the token in the address)
        or ``display_cookie`` (a lost session renewed)."""
        with db.transaction() as write:
            screen = users.active_screen(write, token_hash(token))
            if screen is None:
                return None
            principal = Principal(name=screen.name, role=Role.screen, area=screen.county_code)
            screen_id = screen.id
            audit.record(write, actor=screen.name, role=Role.screen.value, action="sign_in", target=f"screen:{screen.name}",
                         detail={"via": via, "county": screen.county_code}, ip=req.ip or None, at=self.rt.clock())
        session_id, data = start_session(self.rt.redis, principal, screen_id=screen_id, csrf=csrf)
        cookies = cookie_headers(lambda r: set_session_cookies(r, session_id, data, https=req.https,
                                                               display_token=token))
        return Verdict(principal=principal, session=data, cookies=cookies)

    def activate_screen(self, req: Incoming, db: RequestSession) -> Verdict:
        """``/?token=…`` or ``/screen?token=…``: sign the wall in and drop the token from the address."""
        token = req.query.get("token", "")
        verdict = self.screen_session(req, token, None, db, via="link") \
            if TOKEN_SHAPE.fullmatch(token.removeprefix("mcs_")) else None
        if verdict is None:
            return Verdict(response=forbidden_page("显示令牌无效或已吊销 · unknown or revoked display token"))
        verdict.response = RedirectResponse(req.path_with_query(without=("token",)), status_code=303)
        return verdict

    def resume_screen(self, req: Incoming, token: str, db: RequestSession) -> Verdict:
        """A wall whose session is gone (expired, Redis emptied) signs in again from its display cookie.

        It keeps the CSRF token it already holds, so a callback in flight is not refused.
        """
        held = req.cookies.get(CSRF_COOKIE)
        csrf = held if held and TOKEN_SHAPE.fullmatch(held) else None
        verdict = self.screen_session(req, token, csrf, db, via="display_cookie")
        if verdict is None:
            return Verdict(cookies=cookie_headers(lambda r: clear_session_cookies(r, https=req.https)))
        return verdict
