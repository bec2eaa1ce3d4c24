"""The gate in front of every route: who is asking, may they, security headers, CSRF, rate limits.

A pure ASGI middleware (not Starlette's ``BaseHTTPMiddleware``) so event streams pass through
unbuffered and the principal set in :func:`dashboard.auth.current_user` reaches Dash callbacks.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, quote, urlencode, urlparse

import redis
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dashboard.auth import (
    Principal,
    callback_roles,
    Role,
    Rule,
    SessionData,
    acting_as,
    end_session,
    load_session,
    rule_for,
    start_session,
)
from dashboard.outage import DATABASE_AWAY, unavailable
from dashboard.runtime import Runtime
from dashboard.tokens import token_hash
from data_access import api_clients, audit, sessions_store, users
from data_access.models import ApiClient

log = logging.getLogger(__name__)

SESSION_COOKIE = "mc_session"
DISPLAY_COOKIE = "mc_display"
"""Holds a wall's display token, so a wall whose session was lost (Redis emptied) signs in again by itself."""
CSRF_COOKIE = "_csrf_token"
"""Dash's renderer copies this cookie into an ``X-CSRFToken`` header on every callback request."""
CSRF_HEADERS = ("x-csrftoken", "x-csrf-token")
LOGIN_CSRF_COOKIE = "mc_login_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SCREEN_PATHS = frozenset({"/", "/screen"})
CALLBACK_PATH = "/_dash-update-component"
DISPLAY_MAX_AGE = 400 * 86400
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_\-]{20,100}")


@dataclass(frozen=True)
class Limit:
    """At most ``requests`` per fixed window of ``seconds``."""

    requests: int
    seconds: int


@dataclass(frozen=True)
class SecurityConfig:
    """Limits and extra CSP sources; tests shrink the limits, deployments keep the defaults."""

    login_per_ip: Limit = Limit(20, 300)
    login_per_name: Limit = Limit(10, 300)
    api: Limit = Limit(1200, 60)
    img_sources: tuple[str, ...] = ()
    script_hashes: tuple[str, ...] = field(default=())


def origin_of(url: str | None) -> str | None:
    """``scheme://host[:port]`` of a URL, for the CSP (tile servers)."""
    if not url:
        return None
    parsed = urlparse(url.replace("{s}", "a").replace("{z}", "0").replace("{x}", "0").replace("{y}", "0"))
    return f"{parsed.scheme}://{parsed.netloc}" if parsed.scheme and parsed.netloc else None


def content_security_policy(config: SecurityConfig, path: str) -> str:
    """Scripts only from us (Dash's one inline bootstrap script by hash); no framing, no plugins."""
    if path.startswith("/api/docs"):  # FastAPI's Swagger page loads its bundle from a CDN
        cdn = "https://cdn.jsdelivr.net"
        return (f"default-src 'self'; script-src 'self' 'unsafe-inline' {cdn}; style-src 'self' 'unsafe-inline' {cdn}; "
                "img-src 'self' data: https://fastapi.tiangolo.com; frame-ancestors 'none'; object-src 'none'")
    scripts = " ".join(("'self'", *config.script_hashes))
    images = " ".join(("'self'", "data:", "blob:", *config.img_sources))
    return (f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; img-src {images}; "
            "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors 'none'")


HSTS = b"max-age=31536000"
"""A year, without includeSubDomains: other intranet hosts under the same domain may still speak plain HTTP."""


def security_headers(config: SecurityConfig, path: str, *, https: bool = False) -> list[tuple[bytes, bytes]]:
    """Headers for every response; HSTS only over HTTPS, since a browser ignores it on plain HTTP
    and an intranet that serves plain HTTP must keep working."""
    headers = [
        (b"content-security-policy", content_security_policy(config, path).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if https:
        headers.append((b"strict-transport-security", HSTS))
    return headers


def cookie_header(name: str, value: str, *, https: bool, http_only: bool = True, max_age: int | None = None) -> str:
    """A ``Set-Cookie`` value: SameSite=Lax always, Secure whenever the request came over HTTPS."""
    parts = [f"{name}={value}", "Path=/", "SameSite=Lax"]
    if http_only:
        parts.append("HttpOnly")
    if https:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def session_cookies(session_id: str, data: SessionData, *, https: bool, display_token: str | None = None) -> list[str]:
    """The cookies of a new session: the id (HttpOnly), the CSRF token (readable by Dash), a wall's token."""
    lasting = DISPLAY_MAX_AGE if data.principal.role == Role.screen else None
    cookies = [cookie_header(SESSION_COOKIE, session_id, https=https, max_age=lasting),
               cookie_header(CSRF_COOKIE, data.csrf, https=https, http_only=False, max_age=lasting)]
    if display_token:
        cookies.append(cookie_header(DISPLAY_COOKIE, display_token, https=https, max_age=DISPLAY_MAX_AGE))
    return cookies


def clear_cookies(*, https: bool) -> list[str]:
    return [cookie_header(name, "", https=https, max_age=0) for name in (SESSION_COOKIE, CSRF_COOKIE, DISPLAY_COOKIE)]


def same_token(given: str | None, expected: str | None) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(str(given), str(expected))


def error_json(status: int, code: str, message: str, field_name: str | None = None,
               headers: dict[str, str] | None = None) -> JSONResponse:
    """The ingest API's error shape ``{"errors": [{code, field, message}]}``."""
    return JSONResponse({"errors": [{"code": code, "field": field_name, "message": message}]}, status_code=status,
                        headers=headers)


def forbidden_page(message: str, status: int = 403) -> HTMLResponse:
    body = (f'<!doctype html><html lang="zh"><meta charset="utf-8"><title>{status}</title>'
            f'<link rel="stylesheet" href="/login.css"><main class="login"><h1>{status}</h1><p>{message}</p>'
            '<p><a href="/login">登录 · Sign in</a></p></main></html>')
    return HTMLResponse(body, status_code=status)


class RateLimiter:
    """Fixed windows in Redis: every app process counts against the same limit."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def allow(self, scope: str, who: str, limit: Limit) -> tuple[bool, int]:
        """Count one request; (allowed, seconds until the window resets)."""
        try:
            count, retry = sessions_store.hit(self.client, scope, who, window_seconds=limit.seconds, now=time.time())
        except redis.RedisError:
            log.warning("rate limit not checked: Redis unreachable")
            return True, 0
        return count <= limit.requests, retry


@dataclass
class Incoming:
    """What the gate needs to know of a request."""

    method: str
    path: str
    query: dict[str, str]
    query_string: str
    headers: dict[str, str]
    cookies: dict[str, str]
    ip: str
    https: bool
    websocket: bool

    @classmethod
    def of(cls, scope: Scope) -> Incoming:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(headers.get("cookie", ""))
        except Exception:  # noqa: BLE001 - a malformed cookie header is treated as no cookies
            jar = SimpleCookie()
        query_string = scope.get("query_string", b"").decode("latin-1")
        client = scope.get("client")
        return cls(method=scope.get("method", "GET").upper(), path=scope.get("path", "/"),
                   query=dict(parse_qsl(query_string, keep_blank_values=True)), query_string=query_string,
                   headers=headers, cookies={k: m.value for k, m in jar.items()},
                   ip=client[0] if client else "", https=scope.get("scheme") in ("https", "wss"),
                   websocket=scope["type"] == "websocket")

    def bearer(self) -> str | None:
        value = self.headers.get("authorization")
        if value is None:
            return None
        return value.removeprefix("Bearer ").strip() if value.startswith("Bearer ") else ""

    def path_with_query(self, *, without: Iterable[str] = ()) -> str:
        kept = [(k, v) for k, v in parse_qsl(self.query_string, keep_blank_values=True) if k not in set(without)]
        return self.path + ("?" + urlencode(kept) if kept else "")


@dataclass
class Verdict:
    """The gate's decision: a principal to serve, or a response instead; cookies to set either way."""

    principal: Principal | None = None
    session: SessionData | None = None
    response: Response | None = None
    cookies: list[str] = field(default_factory=list)
    api_client: ApiClient | None = None
    """The source system a Bearer token named, handed to the API as ``request.state.api_client``
    so the token is looked up once per request."""


class AccessMiddleware:
    """Authenticates, authorises (``dashboard.auth.RULES``), rate-limits and adds security headers."""

    def __init__(self, app: ASGIApp, *, rt: Runtime, config: SecurityConfig) -> None:
        self.app = app
        self.rt = rt
        self.config = config
        self.limiter = RateLimiter(rt.redis)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = Incoming.of(scope)
        rule = rule_for(incoming.method, incoming.path)
        try:
            verdict = await run_in_threadpool(self.decide, incoming, rule)
        except redis.RedisError:
            verdict = Verdict(response=error_json(503, "unavailable", "sessions are unavailable; retry shortly"))
        except DATABASE_AWAY:
            verdict = Verdict(response=unavailable("the database is unavailable; retry shortly"))
        headers = security_headers(self.config, incoming.path, https=incoming.https)
        cookies = [(b"set-cookie", c.encode("latin-1")) for c in verdict.cookies]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in headers if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra, *cookies]}
            await send(message)

        if verdict.response is not None:
            if incoming.websocket:
                await send({"type": "websocket.close", "code": 4403})
                return
            await verdict.response(scope, receive, send_with_headers)
            return
        if incoming.path == CALLBACK_PATH and incoming.method == "POST" and verdict.principal is not None:
            body, receive = await _buffered(receive)
            refused = callback_refusal(body, verdict.principal)
            if refused is not None:
                await refused(scope, receive, send_with_headers)
                return
        scope.setdefault("state", {})["api_client"] = verdict.api_client
        with acting_as(verdict.principal, verdict.session.csrf if verdict.session else None):
            await self.app(scope, receive, send_with_headers)

    def decide(self, req: Incoming, rule: Rule) -> Verdict:
        """Runs in a worker thread: it may query the database and Redis."""
        if req.websocket and not self._same_origin(req):
            return Verdict(response=error_json(403, "forbidden", "cross-origin WebSocket refused"))
        verdict = Verdict() if rule.kind == "public" and not rule.identify else self._identify(req, rule)
        limited = self._rate_limited(req, verdict.principal)
        if limited is not None:
            return Verdict(response=limited)
        if verdict.response is not None or rule.kind == "public":
            return verdict
        principal = verdict.principal
        if principal is None:
            if rule.kind == "page" and req.method in SAFE_METHODS:
                target = quote(req.path_with_query(), safe="")
                verdict.response = RedirectResponse(f"/login?next={target}", status_code=303)
            else:
                verdict.response = error_json(401, "unauthenticated", "sign in first (a session cookie is needed)")
            return verdict
        if principal.role not in rule.roles:
            message = f"the role {principal.role.value} may not use {req.path}"
            verdict.response = forbidden_page("无权访问此页面 · " + message) if rule.kind == "page" else \
                error_json(403, "forbidden", message)
            return verdict
        county = req.query.get("county")
        if principal.role == Role.screen and county and county != principal.county:
            verdict.response = error_json(403, "forbidden", f"this screen is bound to county {principal.county}",
                                          "county") if rule.kind != "page" else \
                forbidden_page(f"此屏幕只显示 {principal.county} · this screen shows county {principal.county} only")
            return verdict
        if req.method not in SAFE_METHODS and verdict.session is not None and not req.websocket:
            given = next((req.headers[h] for h in CSRF_HEADERS if h in req.headers), None)
            if not same_token(given, verdict.session.csrf):
                verdict.response = error_json(403, "csrf", "missing or wrong X-CSRFToken header", "X-CSRFToken")
        return verdict

    def _same_origin(self, req: Incoming) -> bool:
        origin = req.headers.get("origin")
        return bool(origin) and urlparse(origin).netloc == req.headers.get("host")

    def _rate_limited(self, req: Incoming, principal: Principal | None) -> Response | None:
        if not (req.path.startswith("/api/") or req.path.startswith("/open311/")) or req.path == "/api/status":
            return None
        who = f"{principal.role.value}:{principal.name}" if principal else f"ip:{req.ip}"
        allowed, retry = self.limiter.allow("api", who, self.config.api)
        if allowed:
            return None
        message = f"too many requests; retry in {retry} s"
        headers = {"Retry-After": str(retry)}
        if req.path.startswith("/open311/"):
            return JSONResponse([{"code": 429, "description": message}], status_code=429, headers=headers)
        return error_json(429, "rate_limited", message, headers=headers)

    def _identify(self, req: Incoming, rule: Rule) -> Verdict:
        bearer = req.bearer()
        if rule.bearer and bearer is not None:
            return self._bearer(bearer)
        if rule.bearer and not rule.roles - {Role.api_client}:
            return Verdict(response=error_json(401, "unauthenticated", "send 'Authorization: Bearer <token>'",
                                               "Authorization"))
        if (req.method == "GET" and not req.websocket and req.path in SCREEN_PATHS and "token" in req.query):
            return self._activate_screen(req)
        session_id = req.cookies.get(SESSION_COOKIE)
        session = load_session(self.rt.redis, session_id) if session_id else None
        if session is not None and session_id:
            if self._still_active(session):
                return Verdict(principal=session.principal, session=session)
            end_session(self.rt.redis, session_id)
            return Verdict(cookies=clear_cookies(https=req.https))
        display = req.cookies.get(DISPLAY_COOKIE)
        if display:
            return self._resume_screen(req, display)
        return Verdict()

    def _still_active(self, session: SessionData) -> bool:
        """A revoked screen or a disabled user is refused on its next request, not when its session
        expires. While the database is away an existing session stands: open screens keep their
        figures, and the check is made again on the next request."""
        principal = session.principal
        try:
            with self.rt.sessions() as db:
                if principal.role == Role.screen:
                    return session.screen_id is not None and users.screen_is_active(db, session.screen_id)
                return users.user_is_active(db, principal.name, principal.role.value)
        except DATABASE_AWAY:
            log.warning("session of %s not checked: the database is unavailable", principal.name)
            return True

    def _bearer(self, token: str) -> Verdict:
        if not token:
            return Verdict(response=error_json(401, "unauthenticated", "send 'Authorization: Bearer <token>'",
                                               "Authorization"))
        with self.rt.sessions() as db:
            client = api_clients.find_active(db, token_hash(token))
        if client is None:
            return Verdict(response=error_json(401, "unauthenticated", "unknown or revoked token", "Authorization"))
        return Verdict(principal=Principal(name=client.name, role=Role.api_client), api_client=client)

    def _screen_session(self, req: Incoming, token: str, csrf: str | None, *, via: str) -> Verdict | None:
        """A wall's session from its display token, with a ``sign_in`` audit entry like a person's;
        ``via``: ``link`` (the token in the address) or ``display_cookie`` (a lost session renewed)."""
        with self.rt.sessions() as db, db.begin():
            screen = users.active_screen(db, token_hash(token))
            if screen is None:
                return None
            principal = Principal(name=screen.name, role=Role.screen, county=screen.county_code)
            screen_id = screen.id
            audit.record(db, actor=screen.name, role=Role.screen.value, action="sign_in", target=f"screen:{screen.name}",
                         detail={"via": via, "county": screen.county_code}, ip=req.ip or None)
        session_id, data = start_session(self.rt.redis, principal, screen_id=screen_id, csrf=csrf)
        return Verdict(principal=principal, session=data,
                       cookies=session_cookies(session_id, data, https=req.https, display_token=token))

    def _activate_screen(self, req: Incoming) -> Verdict:
        """``/?token=…`` or ``/screen?token=…``: sign the wall in and drop the token from the address."""
        token = req.query.get("token", "")
        verdict = self._screen_session(req, token, None, via="link") \
            if TOKEN_SHAPE.fullmatch(token.removeprefix("mcs_")) else None
        if verdict is None:
            return Verdict(response=forbidden_page("显示令牌无效或已吊销 · unknown or revoked display token"))
        verdict.response = RedirectResponse(req.path_with_query(without=("token",)), status_code=303)
        return verdict

    def _resume_screen(self, req: Incoming, token: str) -> Verdict:
        """A wall whose session is gone (expired, Redis emptied) signs in again from its display cookie.

        It keeps the CSRF token it already holds, so a callback in flight is not refused.
        """
        held = req.cookies.get(CSRF_COOKIE)
        csrf = held if held and TOKEN_SHAPE.fullmatch(held) else None
        verdict = self._screen_session(req, token, csrf, via="display_cookie")
        if verdict is None:
            return Verdict(cookies=clear_cookies(https=req.https))
        return verdict


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """Read a request body once and hand on a ``receive`` that replays it."""
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def callback_refusal(body: bytes, principal: Principal) -> Response | None:
    """403 when the callback's outputs belong to a screen this role may not use (``auth.CALLBACK_SCOPES``)."""
    try:
        output = json.loads(body).get("output", "")
    except (ValueError, AttributeError):
        return None
    allowed = callback_roles(output) if isinstance(output, str) else None
    if allowed is None or principal.role in allowed:
        return None
    return error_json(403, "forbidden", f"the role {principal.role.value} may not run this callback", "output")
