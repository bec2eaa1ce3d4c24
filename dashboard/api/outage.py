"""Clear answers when the database is away or a request is bad.

A stopped database is the caller's cue to retry, not a server bug: 503 with ``Retry-After`` in
the API's error format (``dashboard.access.refusals.unavailable``, which the gate in front of every
route answers with too). Nothing partial is written, because every write is one transaction.
Request bodies are capped before they are read, so a huge upload cannot tie up a worker, and
the framework's own refusals (malformed JSON, unknown routes) use the API's error format too.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, DBAPIError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dashboard.access.refusals import DATABASE_AWAY, error_json, open311_error, unavailable

log = logging.getLogger(__name__)


MAX_BODY_BYTES = 256 * 1024
"""Far above any real case or event (a description is at most 4,000 characters)."""
UNLIMITED_PATHS = ("/_dash-update-component",)
"""Dash's callback route keeps its own, larger limit (``access.callback_gate.MAX_CALLBACK_BYTES``),
checked by the gate before the body reaches Dash; every other body is limited here."""


def install(server: FastAPI) -> None:
    """Register the database-outage handlers and the body-size limit on ``server``."""

    async def _database_away(_request: Request, error: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", type(error).__name__)
        return unavailable()

    for away in DATABASE_AWAY:
        server.add_exception_handler(away, _database_away)

    @server.exception_handler(DataError)
    async def _refused_value(_request: Request, error: DataError) -> JSONResponse:
        return error_json(422, "invalid", f"the database refused a value: {str(error.orig).strip()}")

    @server.exception_handler(DBAPIError)
    async def _dbapi(_request: Request, error: DBAPIError) -> JSONResponse:
        if error.connection_invalidated:
            return unavailable("the database connection was lost; nothing was written, retry")
        raise error

    @server.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> Response:
        if not request.url.path.startswith("/api/"):
            return await http_exception_handler(request, error)
        code = {400: "malformed", 404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return error_json(error.status_code, code, str(error.detail), headers=error.headers)

    server.add_middleware(BodyLimit)


class BodyLimit:
    """Refuse bodies over ``MAX_BODY_BYTES`` with 413, whether declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS") \
                or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.limit:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        """413 in the error shape the caller's API speaks: Open311's list, or ours; the connection
        is closed, as the rest of the body is not read."""
        message = f"request bodies are limited to {self.limit} bytes"
        headers = {"Connection": "close"}
        refusal = open311_error(413, message, headers=headers, path=scope["path"]) \
            if scope["path"].startswith("/open311/") \
            else error_json(413, "too_large", message, headers=headers)
        await refusal(scope, receive, send)
