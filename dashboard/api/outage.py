"""Clear answers when the database is away or a request is bad.

A stopped database is the caller's cue to retry, not a server bug: 503 with ``Retry-After`` in
the API's error format (``dashboard.access.refusals.unavailable``, which the gate in front of every
route answers with too). Nothing partial is written, because every write is one transaction.
Request bodies are capped before they are read, so a huge upload cannot tie up a worker, and
the framework's own refusals (malformed JSON, unknown routes) use the API's error format too.
"""

from __future__ import annotations

import logging

import orjson
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, DBAPIError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dashboard.access.refusals import DATABASE_AWAY, unavailable
from dashboard.api.open311 import error_body as open311_error_body

log = logging.getLogger(__name__)

__all__ = ["DATABASE_AWAY", "MAX_BODY_BYTES", "BodyLimit", "install"]
"""``DATABASE_AWAY`` lives in ``dashboard.access.refusals``; the CLI still imports it from here."""

MAX_BODY_BYTES = 256 * 1024
"""Far above any real case or event (a description is at most 4,000 characters)."""
LIMITED_PREFIXES = ("/api/", "/open311/")
"""The integrators' routes; the screens' own callback traffic is Dash's business."""


def install(server: FastAPI) -> None:
    """Register the database-outage handlers and the body-size limit on ``server``."""

    async def _database_away(_request: Request, error: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", type(error).__name__)
        return unavailable()

    for away in DATABASE_AWAY:
        server.add_exception_handler(away, _database_away)

    @server.exception_handler(DataError)
    async def _refused_value(_request: Request, error: DataError) -> JSONResponse:
        return JSONResponse({"errors": [{"code": "invalid", "field": None,
                                         "message": f"the database refused a value: {str(error.orig).strip()}"}]},
                            status_code=422)

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
        return JSONResponse({"errors": [{"code": code, "field": None, "message": str(error.detail)}]},
                            status_code=error.status_code, headers=error.headers)

    server.add_middleware(BodyLimit)


class BodyLimit:
    """Refuse bodies over ``MAX_BODY_BYTES`` with 413, whether declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS") \
                or not scope["path"].startswith(LIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send, scope["path"])
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.limit:
                await self._refuse(send, scope["path"])
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

    async def _refuse(self, send: Send, path: str) -> None:
        """413 in the error shape the caller's API speaks: Open311's list, or ours."""
        message = f"request bodies are limited to {self.limit} bytes"
        payload = orjson.dumps(open311_error_body(413, message) if path.startswith("/open311/")
                               else {"errors": [{"code": "too_large", "field": None, "message": message}]})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": payload})
