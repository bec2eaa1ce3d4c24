"""The screens' scripts and style sheets, compressed once per process with brotli at quality 11.

Why: a first load of the wall is mostly these files, and they never change under one URL (Dash
fingerprints its bundles, assets carry ``?m=``). Quality 11 is too slow to run per request but
costs only once here; it is about 10 % smaller than the per-request quality 6 on the JavaScript
and a third smaller on the fallback font CSS. Clients without brotli (plain-HTTP intranet
addresses) get the usual gzip from the outer middleware.
"""

from __future__ import annotations

import asyncio
from functools import partial

import brotli
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIXES = ("/_dash-component-suites/", "/assets/")
SUFFIXES = (".js", ".css")
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


class StaticBrotliMiddleware:
    """Answers a static ``.js``/``.css`` GET that accepts brotli from a cache of quality-11 bodies.

    Sits inside the compressing middlewares: they leave a response that already has a
    ``Content-Encoding`` alone. Conditional and range requests pass through untouched.
    """

    def __init__(self, app: ASGIApp, quality: int = 11) -> None:
        self.app = app
        self.quality = quality
        self._cache: dict[str, Cached] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._handles(scope):
            await self.app(scope, receive, send)
            return
        key = scope["path"] + "?" + scope.get("query_string", b"").decode("latin-1")
        cached = self._cache.get(key)
        if cached is None:
            async with self._locks.setdefault(key, asyncio.Lock()):
                cached = self._cache.get(key)
                if cached is None:
                    cached = await self._compress(key, scope, receive, send)
                    if cached is None:
                        return
        headers, body = cached
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def _handles(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "GET":
            return False
        path: str = scope["path"]
        if not (path.startswith(PREFIXES) and path.endswith(SUFFIXES)):
            return False
        headers = dict(scope["headers"])
        return "br" in accepted_encodings(headers.get(b"accept-encoding", b"").decode("latin-1")) and not any(
            name in headers for name in CONDITIONAL)

    async def _compress(self, key: str, scope: Scope, receive: Receive, send: Send) -> Cached | None:
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
        body = await asyncio.to_thread(partial(brotli.compress, b"".join(chunks), quality=self.quality))
        kept = [(k, v) for k, v in headers if k not in DROPPED]
        cached: Cached = ([*kept, (b"content-encoding", b"br"), (b"vary", b"Accept-Encoding")], body)
        self._cache[key] = cached
        return cached
