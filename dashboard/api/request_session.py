"""One database session per request: the FastAPI dependency every API route takes its session from.

Behind the access gate the request already has a session of its own
(:class:`~dashboard.access.identify.RequestSession` on ``request.state``): the gate may have
checked a token in it, and it opens it only on first use. The dependency hands the route that
session, and the gate closes it when the response is done. A router mounted without the gate (a
test's bare FastAPI app) gets a session opened here and closed when the request is done.

FastAPI solves a dependency once per request, so the route and every dependency it uses
(authentication, look-ups) share the one session. The route decides the transactions; the write
path commits its own (``CaseService.write``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from dashboard.access.identify import RequestSession


def session_dependency(sessions: Callable[[], Session]) -> Callable[[Request], Iterator[Session]]:
    """The dependency that yields the request's session: the gate's, or else one opened with
    ``sessions`` (``Runtime.sessions``, the factory the gate opens its own with)."""

    def db_session(request: Request) -> Iterator[Session]:
        shared = RequestSession.of(request.scope)
        if shared is not None:
            yield shared.session()
            return
        with sessions() as session:
            yield session

    return db_session
