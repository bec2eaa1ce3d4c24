"""One database session per request: the FastAPI dependency every API route takes its session from.

FastAPI solves a dependency once per request, so the route and every dependency it uses
(authentication, look-ups) share the one session; it is closed when the request is done. The
route decides the transactions; the write path commits its own (``CaseService.write``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy.orm import Session


def session_dependency(sessions: Callable[[], Session]) -> Callable[[], Iterator[Session]]:
    """The dependency that opens the request's session with ``sessions`` (``Runtime.sessions``)."""

    def db_session() -> Iterator[Session]:
        with sessions() as session:
            yield session

    return db_session
