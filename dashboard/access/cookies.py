"""The cookies the access layer sets, written by Starlette's ``Response.set_cookie``/``delete_cookie``.

Every cookie is ``Path=/`` and ``SameSite=Lax``, ``Secure`` whenever the request came over HTTPS
(behind a trusted proxy: when the caller's original scheme was, see ``dashboard.access.proxies``),
and ``HttpOnly`` except the CSRF token, which Dash's renderer must read. A person's session cookie
lasts as long as the browser; a wall's (and its display token) for ``DISPLAY_MAX_AGE``, so a wall
that restarts signs itself in again.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import Response

from dashboard.access.auth import Role, SessionData
from dashboard.access.csrf import CSRF_COOKIE

SESSION_COOKIE = "mc_session"
DISPLAY_COOKIE = "mc_display"
"""Holds a wall's display token, so a wall whose session was lost (Redis emptied) signs in again by itself."""
DISPLAY_MAX_AGE = 400 * 86400


def set_cookie(response: Response, name: str, value: str, *, https: bool, http_only: bool = True,
               max_age: int | None = None) -> None:
    """One of our cookies on ``response``, with the attributes every one of them carries."""
    response.set_cookie(name, value, max_age=max_age, path="/", secure=https, httponly=http_only, samesite="lax")


def delete_cookie(response: Response, name: str, *, https: bool) -> None:
    """Tell the browser to drop cookie ``name`` (``Max-Age=0``)."""
    response.delete_cookie(name, path="/", secure=https, httponly=True, samesite="lax")


def set_session_cookies(response: Response, session_id: str, data: SessionData, *, https: bool,
                        display_token: str | None = None) -> None:
    """The cookies of a new session: the id (HttpOnly), the CSRF token (readable by Dash), a wall's token."""
    lasting = DISPLAY_MAX_AGE if data.principal.role == Role.screen else None
    set_cookie(response, SESSION_COOKIE, session_id, https=https, max_age=lasting)
    set_cookie(response, CSRF_COOKIE, data.csrf, https=https, http_only=False, max_age=lasting)
    if display_token:
        set_cookie(response, DISPLAY_COOKIE, display_token, https=https, max_age=DISPLAY_MAX_AGE)


def clear_session_cookies(response: Response, *, https: bool) -> None:
    """Drop a session's cookies (signed out, revoked, or gone from Redis)."""
    for name in (SESSION_COOKIE, CSRF_COOKIE, DISPLAY_COOKIE):
        delete_cookie(response, name, https=https)


def cookie_headers(write: Callable[[Response], None]) -> list[tuple[bytes, bytes]]:
    """The ``Set-Cookie`` headers ``write`` puts on a response, to add to a response someone else
    builds (the gate decides on cookies before the route behind it answers)."""
    carrier = Response()
    write(carrier)
    return [(name, value) for name, value in carrier.raw_headers if name == b"set-cookie"]
