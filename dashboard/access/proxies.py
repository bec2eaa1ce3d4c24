"""Forwarded headers, believed only from the proxies a deployment names.

Behind a reverse proxy (nginx terminating TLS), the connection comes from the proxy; the caller's
address and the scheme it used arrive in ``X-Forwarded-For`` and ``X-Forwarded-Proto``. Anyone can
send those headers, so they are read only when the connection comes from an address in
``Settings.trusted_proxies`` (``MEDIATION_TRUSTED_PROXIES``; none by default, and then they are
ignored). The caller's address is then the right-most ``X-Forwarded-For`` entry that is not itself
a trusted proxy. Everything after this layer (the gate, the rate limits, the sign-in lock-out, the
audit log's ``ip``, whether cookies are ``Secure`` and HSTS is sent) reads the rewritten
``client`` and ``scheme`` of the ASGI scope.

The rewriting is uvicorn's ``ProxyHeadersMiddleware``; uvicorn's own copy of it, which trusts
127.0.0.1 by default, is switched off where we start uvicorn (``proxy_headers=False``).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware


class TrustedProxies:
    """``X-Forwarded-For``/``-Proto`` from ``trusted`` connections only; with none, a pass-through."""

    def __init__(self, app: ASGIApp, *, trusted: Sequence[str] = ()) -> None:
        self.app = app
        self.forwarded = ProxyHeadersMiddleware(app, trusted_hosts=list(trusted)) if trusted else None  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.forwarded is None:
            await self.app(scope, receive, send)
        else:
            await self.forwarded(scope, receive, send)  # type: ignore[arg-type]
