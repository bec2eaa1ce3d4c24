"""The one compression layer: every response is compressed here or not at all.

``ResponseCompression`` picks brotli when the client offers it (Chromium does over HTTPS and to
localhost), else gzip (what it offers a plain-HTTP intranet address), else nothing, and:

- answers a GET for a script or style sheet from the ``static-assets`` cache region
  (``dashboard.screens.caches``): each is compressed once per process at the highest setting,
  because these files make up most of a wall's first load and never change under one URL (Dash
  fingerprints its bundles, assets carry ``?m=``);
- compresses every other response as it goes (``starlette_compress``), except event streams,
  which stay plain: a compressor per open stream would hold megabytes per screen;
- leaves a response that already carries a ``Content-Encoding`` as it is (the web geometry is
  compressed once by its own cache region and sent with the coding the client asked for);
- gives Dash's callback replies their JSON type: Dash sends them without one, and an untyped
  response is not compressed.
"""

from __future__ import annotations

import asyncio
import gzip
from functools import partial

import brotli
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette_compress import CompressMiddleware, remove_compress_type

from dashboard.screens.caches import STATIC_ASSETS, counters

STATIC_PREFIXES = ("/_dash-component-suites/", "/assets/")
STATIC_SUFFIXES = (".js", ".css")
CALLBACK_PATH = "/_dash-update-component"
CONDITIONAL = (b"if-none-match", b"if-modified-since", b"range")
DROPPED = (b"content-length", b"content-encoding", b"vary")
Cached = tuple[list[tuple[bytes, bytes]], bytes]


def accepted_encodings(header: str) -> set[str]:
    """Content codings an ``Accept-Encoding`` header allows (``q=0`` refuses one)."""
    found = set()
    for part in header.lower().split(","):
        name, _, params = part.strip().partition(";")
        if name and params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            found.add(name.strip())
    return found


def _compress_static(body: bytes, coding: str) -> bytes:
    return brotli.compress(body, quality=11) if coding == "br" else gzip.compress(body, 9, mtime=0)


class ResponseCompression:
    """ASGI middleware: the product's only response compression (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, brotli_quality: int = 6, gzip_level: int = 9) -> None:
        remove_compress_type("text/event-stream")
        self.app = app
        self._dynamic = CompressMiddleware(_TypedCallbackReplies(app), zstd=False, brotli_quality=brotli_quality,
                                           gzip_level=gzip_level)
        self._static: dict[tuple[str, str], Cached] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        coding = self._static_coding(scope)
        if coding is None:
            await self._dynamic(scope, receive, send)
            return
        key = (scope["path"] + "?" + scope.get("query_string", b"").decode("latin-1"), coding)
        cached = self._static.get(key)
        counters(STATIC_ASSETS).count(hit=cached is not None)
        if cached is None:
            async with self._locks.setdefault(key, asyncio.Lock()):
                cached = self._static.get(key)
                if cached is None:
                    cached = await self._fill(key, scope, receive, send)
                    if cached is None:
                        return
        headers, body = cached
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def _static_coding(self, scope: Scope) -> str | None:
        """``br`` or ``gzip`` for a plain GET of a script or style sheet, else ``None``."""
        if scope["type"] != "http" or scope["method"] != "GET":
            return None
        path: str = scope["path"]
        if not (path.startswith(STATIC_PREFIXES) and path.endswith(STATIC_SUFFIXES)):
            return None
        headers = dict(scope["headers"])
        if any(name in headers for name in CONDITIONAL):
            return None
        offered = accepted_encodings(headers.get(b"accept-encoding", b"").decode("latin-1"))
        return "br" if "br" in offered else "gzip" if "gzip" in offered else None

    async def _fill(self, key: tuple[str, str], scope: Scope, receive: Receive, send: Send) -> Cached | None:
        """Fetch the plain file from the app and keep it compressed; anything but a plain 200 is
        passed on as it came and not kept."""
        inner = {**scope, "extensions": {k: v for k, v in scope.get("extensions", {}).items()
                                         if k not in ("http.response.pathsend", "http.response.zerocopysend")}}
        start: Message = {}
        chunks: list[bytes] = []

        async def collect(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(inner, receive, collect)
        headers = [(k.lower(), v) for k, v in start.get("headers", [])]
        if start.get("status") != 200 or any(k == b"content-encoding" for k, _ in headers):
            await send(start)
            await send({"type": "http.response.body", "body": b"".join(chunks)})
            return None
        body = await asyncio.to_thread(partial(_compress_static, b"".join(chunks), key[1]))
        kept = [(k, v) for k, v in headers if k not in DROPPED]
        cached: Cached = ([*kept, (b"content-encoding", key[1].encode()), (b"vary", b"Accept-Encoding")], body)
        self._static[key] = cached
        return cached


class _TypedCallbackReplies:
    """Adds ``Content-Type: application/json`` to a Dash callback reply that has no type."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith(CALLBACK_PATH):
            await self.app(scope, receive, send)
            return

        async def typed(message: Message) -> None:
            if message["type"] == "http.response.start" and message.get("status") == 200:
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"content-type" for name, _ in headers):
                    message = {**message, "headers": [*headers, (b"content-type", b"application/json")]}
            await send(message)

        await self.app(scope, receive, typed)
