"""The gate in front of every route: who is asking, may they, security headers, CSRF, rate limits.

A pure ASGI middleware (not Starlette's ``BaseHTTPMiddleware``) so event streams pass through
unbuffered and the principal set in :func:`dashboard.access.auth.current_user` reaches Dash callbacks.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, quote, urlencode, urlparse

import redis
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dashboard.access.auth import (
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
from dashboard.api.outage import DATABASE_AWAY, unavailable
from dashboard.runtime import NoCountyError, Runtime
from dashboard.access.tokens import token_hash
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
MAX_CALLBACK_BYTES = 1024 * 1024
"""A callback request carries a few component values; the gate reads the body, so it bounds it."""
COUNTY_DEFAULTED = ("/api/live/", "/api/geo/")
"""Routes that serve the server's default county when none is named: a screen's own is named for it."""
ADDRESS_PROPERTIES = frozenset({"search", "href"})
ADDRESS_IDS = frozenset({"page-address"})
"""Callback values that are a page's address (``layouts.wall.ADDRESS``: the wall's page is built
from it), whose ``county=`` decides what a screen is served."""
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
    clock: Callable[[], float] = time.time
    """Seconds since the epoch for the rate windows; tests pin it so a window cannot roll over mid-test."""


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


def counties_named(query: str) -> list[str]:
    """Every ``county`` value of a query string (a repeated key is read first by one parser, last by another)."""
    return [value for key, value in parse_qsl(query.lstrip("?"), keep_blank_values=True) if key == "county"]


def bind_query(query: str, county: str) -> str | None:
    """``query`` (without its ``?``) naming ``county``; ``None`` when it names another county."""
    named = counties_named(query)
    if any(name != county for name in named):
        return None
    return query if named else "&".join(p for p in (query, "county=" + quote(county, safe="")) if p)


def bind_address(address: str, county: str) -> str | None:
    """A path or URL whose query names ``county``; ``None`` when it names another. A fragment is
    dropped: no page is built from it, and a page that splits at ``?`` only would read it as part
    of the county."""
    path, _, query = address.partition("#")[0].partition("?")
    bound = bind_query(query, county)
    return None if bound is None else f"{path}?{bound}"


def _callback_values(items: object) -> Iterable[dict[str, object]]:
    """The ``{id, property, value}`` entries of a callback's inputs or state (pattern-matching ones nest in lists)."""
    if isinstance(items, dict):
        yield items
    elif isinstance(items, list):
        for item in items:
            yield from _callback_values(item)


def bind_callback(request: dict[str, object], county: str) -> bool | None:
    """Make every address a screen's callback request carries name the screen's county, so a page
    built from it can only be that county's: whether anything changed, or ``None`` (refuse) when
    any value names another county.

    The wall's page callback reads ``county`` from the address and falls back to the server's
    default county without one; the binding is made here, for every callback, so no screen
    callback has to remember it."""
    changed = False
    for item in (*_callback_values(request.get("inputs")), *_callback_values(request.get("state"))):
        value, prop = item.get("value"), item.get("property")
        if prop in ADDRESS_PROPERTIES and (value is None or isinstance(value, str)):
            text = value or ""
            bound = bind_query(text.lstrip("?"), county) if prop == "search" else bind_address(text, county)
            bound = None if bound is None else ("?" + bound if prop == "search" else bound)
        elif isinstance(item.get("id"), str) and item["id"] in ADDRESS_IDS and (value is None or isinstance(value, str)):
            bound = bind_address(value or "/", county)
        else:
            if any(name != county for text in _strings(value) for name in counties_named(text.partition("?")[2])):
                return None
            continue
        if bound is None:
            return None
        changed = changed or bound != value
        item["value"] = bound
    return changed


def _strings(value: object) -> Iterable[str]:
    """Strings anywhere in a callback value (a county may hide in any text that holds an address)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


class RateLimiter:
    """Fixed windows in Redis: every app process counts against the same limit."""

    def __init__(self, client: redis.Redis, clock: Callable[[], float]) -> None:
        self.client = client
        self.clock = clock

    def allow(self, scope: str, who: str, limit: Limit) -> tuple[bool, int]:
        """Count one request; (allowed, seconds until the window resets)."""
        try:
            count, retry = sessions_store.hit(self.client, scope, who, window_seconds=limit.seconds, now=self.clock())
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
    """Authenticates, authorises (``dashboard.access.auth.RULES``), rate-limits and adds security headers."""

    def __init__(self, app: ASGIApp, *, rt: Runtime, config: SecurityConfig) -> None:
        self.app = app
        self.rt = rt
        self.config = config
        self.limiter = RateLimiter(rt.redis, config.clock)

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
        bound = screen_county(verdict.principal)
        if bound is not None and incoming.path.startswith(COUNTY_DEFAULTED):
            query = bind_query(incoming.query_string, bound)
            if query is not None:  # another county was refused in decide()
                scope = {**scope, "query_string": query.encode("latin-1")}
        if incoming.path == CALLBACK_PATH and incoming.method == "POST" and verdict.principal is not None:
            body = await _read_body(receive, MAX_CALLBACK_BYTES)
            gated = error_json(413, "too_large", f"callback requests are limited to {MAX_CALLBACK_BYTES} bytes") \
                if body is None else gate_callback(body, verdict.principal)
            if isinstance(gated, Response):
                await gated(scope, receive, send_with_headers)
                return
            if gated is not body:
                scope = {**scope, "headers": [*((k, v) for k, v in scope["headers"] if k != b"content-length"),
                                              (b"content-length", str(len(gated)).encode())]}
            receive = _replaying(gated, receive)
        state = scope.setdefault("state", {})
        state["api_client"] = verdict.api_client
        session = verdict.session
        state["still_signed_in"] = (lambda: self._still_active(session)) if session is not None else None
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
        if rule.identify and screen_county(verdict.principal) not in (None, self._default_county()):
            verdict.principal = verdict.session = None  # it would be told the default county's counts
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
        named = counties_named(req.query_string)
        if principal.role == Role.screen and any(county != principal.county for county in named):
            verdict.response = error_json(403, "forbidden", f"this screen is bound to county {principal.county}",
                                          "county") if rule.kind != "page" else \
                forbidden_page(f"此屏幕只显示 {principal.county} · this screen shows county {principal.county} only")
            return verdict
        if req.method not in SAFE_METHODS and verdict.session is not None and not req.websocket:
            given = next((req.headers[h] for h in CSRF_HEADERS if h in req.headers), None)
            if not same_token(given, verdict.session.csrf):
                verdict.response = error_json(403, "csrf", "missing or wrong X-CSRFToken header", "X-CSRFToken")
        return verdict

    def _default_county(self) -> str | None:
        """The county a route serves when none is named."""
        try:
            return self.rt.county_code()
        except (NoCountyError, *DATABASE_AWAY):
            return None

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


def screen_county(principal: Principal | None) -> str | None:
    """The county a wall screen is bound to; ``None`` for everyone else."""
    return principal.county if principal is not None and principal.role == Role.screen else None


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """A request's body, read once; ``None`` when it grows past ``limit`` bytes."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands on ``body`` once, then whatever the client sends next (a disconnect)."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def callback_shape(body: bytes) -> dict[str, object] | None:
    """A callback request as Dash's renderer sends it: an object with an ``output`` string and
    lists of ``inputs`` (and ``state``) whose entries are objects, or lists of them for
    pattern-matching ids; ``None`` for anything else, which Dash would answer with a 500."""
    try:
        request = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(request, dict) or not isinstance(request.get("output"), str):
        return None
    for key in ("inputs", "state"):
        entries = request.get(key, [])
        if not isinstance(entries, list) or not all(
                isinstance(e, dict) or (isinstance(e, list) and all(isinstance(i, dict) for i in e)) for e in entries):
            return None
    return request


def gate_callback(body: bytes, principal: Principal) -> Response | bytes:
    """The callback request to hand to Dash, or the refusal: a malformed request (400), outputs
    that belong to a screen this role may not use (``auth.CALLBACK_SCOPES``) or, for a wall
    screen, an address naming another county (403)."""
    request = callback_shape(body)
    if request is None:
        return error_json(400, "malformed", "not a Dash callback request", "body")
    allowed = callback_roles(str(request["output"]))
    if allowed is not None and principal.role not in allowed:
        return error_json(403, "forbidden", f"the role {principal.role.value} may not run this callback", "output")
    county = screen_county(principal)
    if county is None:
        return body
    changed = bind_callback(request, county)
    if changed is None:
        return error_json(403, "forbidden", f"this screen is bound to county {county}", "county")
    return json.dumps(request, ensure_ascii=False).encode() if changed else body
