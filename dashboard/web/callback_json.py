"""Dash callback replies typed as JSON, so the brotli middleware compresses them.

Why: Dash's FastAPI backend answers ``/_dash-update-component`` with a bare ``Response(str)`` that
has no ``Content-Type``; ``starlette_compress`` compresses only known types, so these replies fell
through to Dash's outer gzip even for browsers that accept brotli (the wall's first callback reply
is about 56 KB of JSON). The body is JSON, and Dash's renderer parses it as such whatever the type.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CALLBACK_PATH = "/_dash-update-component"


class CallbackJsonMiddleware:
    """Adds ``Content-Type: application/json`` to a callback reply that has no type."""

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
