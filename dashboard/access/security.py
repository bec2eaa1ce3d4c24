"""The gate in front of every route: who is asking, may they, then security headers, CSRF and rate limits.

A pure ASGI middleware (not Starlette's ``BaseHTTPMiddleware``) so event streams pass through
unbuffered and the principal set in :func:`dashboard.access.auth.current_user` reaches Dash callbacks.
It owns the request's one database session (:class:`~dashboard.access.identify.RequestSession`):
opened only when something reads the database, left on ``request.state`` for the route, and closed
when the response is finished, failed or abandoned by the client.
Its parts live beside it: :mod:`~dashboard.access.identify` (who), :mod:`~dashboard.access.headers`,
:mod:`~dashboard.access.csrf`, :mod:`~dashboard.access.rate_limits`,
:mod:`~dashboard.access.county_binding` and :mod:`~dashboard.access.callback_gate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, urlparse

import anyio
import redis
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dashboard.access.auth import Principal, Role, Rule, acting_as, rule_for
from dashboard.access.callback_gate import (
    CALLBACK_PATH,
    MAX_CALLBACK_BYTES,
    gate_callback,
    outside_area,
    read_body,
    replaying,
)
from dashboard.access.cookies import DISPLAY_COOKIE, SESSION_COOKIE
from dashboard.access.county_binding import (
    COUNTY_DEFAULTED,
    COUNTY_REFUSED,
    AREA_REFUSED,
    Binding,
    bind_address,
    bind_query,
    binding_for,
    counties_named,
    county_of_place,
    deployment_only,
    needs_served,
    serves_console,
    whole_deployment,
)
from dashboard.access.csrf import CSRF_COOKIE, header_token, same_token
from dashboard.access.headers import security_headers
from dashboard.access.identify import Identifier, RequestSession
from dashboard.access.incoming import Incoming, Verdict
from dashboard.access.rate_limits import Backoff, Limit, RateLimiter, Seconds
from dashboard.access.refusals import DATABASE_AWAY, error_json, forbidden_page, open311_error, unavailable
from dashboard.domain.area_scope import ScopeLevel, contains, level_of
from dashboard.domain.screen_period import DATED_PAGES, query_date_error
from data_access import areas, regions

if TYPE_CHECKING:
    from dashboard.runtime import Runtime

__all__ = [
    "CSRF_COOKIE", "DISPLAY_COOKIE", "MAX_CALLBACK_BYTES", "SESSION_COOKIE", "AccessMiddleware", "Limit",
    "SecurityConfig", "bind_address", "bind_query", "gate_callback",
]
"""The middleware and its configuration, and names other modules and tests import from here
(their homes are ``cookies``, ``csrf``, ``callback_gate`` and ``county_binding``)."""

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Placement:
    """Where a held principal's request is placed (read by :meth:`AccessMiddleware.decide`, used to
    bind it): the deployment's default county and, when a city or province needs them, the
    counties the deployment serves. Empty for a principal held to no area."""

    deployment: str | None = None
    served: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecurityConfig:
    """Limits and extra CSP sources; tests shrink the limits, deployments keep the defaults."""

    login_per_ip: Limit = Limit(20, 300)
    login_lockout: Backoff = Backoff()
    """Per (name, address) pair, so a stranger elsewhere cannot lock a named officer out (``login_page``)."""
    api: Limit = Limit(1200, 60)
    reports: Limit = Limit(20, 3600)
    """On-demand reports (``POST /reports/make``) per person an hour: each costs about a second of
    CPU and keeps a new version of two files in the archive for good."""
    img_sources: tuple[str, ...] = ()
    script_hashes: tuple[str, ...] = field(default=())
    clock: Seconds | None = None
    """Seconds since the epoch for the rate limits' moving windows; ``None``: the runtime's clock.
    Tests pin and move it instead of sleeping."""

    def rate_clock(self, rt: Runtime) -> Seconds:
        """The clock the rate limits read: ``clock``, or else ``rt.clock`` (the process's one clock)."""
        return self.clock or (lambda: rt.clock().timestamp())


class AccessMiddleware:
    """Authenticates, authorises (``dashboard.access.auth.RULES``), rate-limits and adds security headers."""

    def __init__(self, app: ASGIApp, *, rt: Runtime, config: SecurityConfig) -> None:
        self.app = app
        self.rt = rt
        self.config = config
        self.identifier = Identifier(rt)
        self.limiter = RateLimiter(rt.redis, config.rate_clock(rt))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        db = RequestSession(lambda: self.rt.sessions())
        try:
            await self.serve(scope, receive, send, db)
        finally:
            if db.is_open:
                with anyio.CancelScope(shield=True):  # a client that went away still gets its session closed
                    await run_in_threadpool(db.close)

    async def serve(self, scope: Scope, receive: Receive, send: Send, db: RequestSession) -> None:
        """Decide, then answer or pass the request on with its principal and its database session."""
        incoming = Incoming.of(scope)
        rule = rule_for(incoming.method, incoming.path)
        try:
            verdict, place = await run_in_threadpool(self.decide, incoming, rule, db)
        except redis.RedisError:
            verdict, place = Verdict(response=error_json(503, "unavailable", "sessions are unavailable; retry shortly")), Placement()
        except DATABASE_AWAY:
            verdict, place = Verdict(response=unavailable("the database is unavailable; retry shortly")), Placement()
        headers = security_headers(incoming.path, https=incoming.https, img_sources=self.config.img_sources,
                                   script_hashes=self.config.script_hashes)
        cookies = verdict.cookies

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
        if incoming.method == "GET" and incoming.path in DATED_PAGES:
            refused = query_date_error(parse_qsl(incoming.query_string, keep_blank_values=True))
            if refused is not None:  # a screen's dates out of range or malformed: refused, never silently replaced
                await error_json(422, "invalid", refused)(scope, receive, send_with_headers)
                return
        binding = binding_for(verdict.principal, place.deployment, place.served)
        if isinstance(binding, Binding) and incoming.path.startswith(COUNTY_DEFAULTED):
            query = bind_query(incoming.query_string, binding.county_for, binding.refuses)
            if query is not None:  # a county outside was refused in decide()
                scope = {**scope, "query_string": query.encode("latin-1")}
        elif binding is None and incoming.path.startswith(COUNTY_DEFAULTED) \
                and (place_county := county_of_place(incoming.query_string)) is not None \
                and not counties_named(incoming.query_string):  # ?area= of any served county, for anyone
            query = bind_query(incoming.query_string, place_county)
            scope = {**scope, "query_string": (query or incoming.query_string).encode("latin-1")}
        if incoming.path == CALLBACK_PATH and incoming.method == "POST" and verdict.principal is not None:
            body = await read_body(receive, MAX_CALLBACK_BYTES)
            gated = error_json(413, "too_large", f"callback requests are limited to {MAX_CALLBACK_BYTES} bytes") \
                if body is None else gate_callback(body, verdict.principal, place.deployment, place.served)
            if isinstance(gated, Response):
                await gated(scope, receive, send_with_headers)
                return
            if gated is not body:
                scope = {**scope, "headers": [*((k, v) for k, v in scope["headers"] if k != b"content-length"),
                                              (b"content-length", str(len(gated)).encode())]}
            receive = replaying(gated, receive)
        state = scope.setdefault("state", {})
        state["api_client"] = verdict.api_client
        state[RequestSession.STATE_KEY] = db
        session = verdict.session
        state["still_signed_in"] = (lambda: self.identifier.still_active(session, db)) if session is not None else None
        with acting_as(verdict.principal, verdict.session.csrf if verdict.session else None):
            await self.app(scope, receive, send_with_headers)

    def decide(self, req: Incoming, rule: Rule, db: RequestSession) -> tuple[Verdict, Placement]:
        """Runs in a worker thread: it may query the database (in ``db``) and Redis. With the
        verdict, where a principal held to an area is placed (its binding is made from it)."""
        if req.websocket and not self._same_origin(req):
            return Verdict(response=error_json(403, "forbidden", "cross-origin WebSocket refused")), Placement()
        if req.websocket:  # none is served: Dash's /_dash-ws-callback would run callbacks past the callback gate
            return Verdict(response=error_json(403, "forbidden", "WebSocket is not served; live updates use "
                                                                 "/api/live/stream")), Placement()
        verdict = Verdict() if rule.kind == "public" and not rule.identify else self.identifier.identify(req, rule, db)
        limited = self._rate_limited(req, verdict.principal)
        if limited is not None:
            return Verdict(response=limited), Placement()
        held = verdict.principal if verdict.principal is not None and verdict.principal.area is not None else None
        # a person or source system, or a wall above the county: its binding needs the deployment's county
        wide = held is not None and (held.role != Role.screen or level_of(held.area or "") is not ScopeLevel.county)
        deployment = self._default_county(db) if (held and rule.identify) or (wide and rule.kind != "public") else None
        if rule.identify and held and (deployment is None or not held.sees(deployment)):
            verdict.principal = verdict.session = None  # it would be told the default county's counts
        if verdict.response is not None or rule.kind == "public":
            return verdict, Placement()
        principal = verdict.principal
        if principal is None:
            if rule.kind == "page" and req.method in SAFE_METHODS:
                target = quote(req.path_with_query(), safe="")
                verdict.response = RedirectResponse(f"/login?next={target}", status_code=303)
            else:
                verdict.response = error_json(401, "unauthenticated", "sign in first (a session cookie is needed)")
            return verdict, Placement()
        if principal.role not in rule.roles:
            message = f"the role {principal.role.value} may not use {req.path}"
            verdict.response = forbidden_page("无权访问此页面 · " + message) if rule.kind == "page" else \
                error_json(403, "forbidden", message)
            return verdict, Placement()
        place = Placement(deployment)
        if wide and (needs_served(principal) or whole_deployment(req.path)):
            place = Placement(deployment, self._served(db))
        refusal = self._outside_binding(req, rule, principal, binding_for(principal, deployment, place.served), place)
        if refusal is not None:
            verdict.response = refusal
            return verdict, Placement()
        if req.method not in SAFE_METHODS and verdict.session is not None and not req.websocket:
            if not same_token(header_token(req.headers), verdict.session.csrf):
                verdict.response = error_json(403, "csrf", "missing or wrong X-CSRFToken header", "X-CSRFToken")
        return verdict, place

    @staticmethod
    def _outside_binding(req: Incoming, rule: Rule, principal: Principal, binding: Binding | str | None,
                         place: Placement) -> Response | None:
        """The refusal of an address naming a county outside the principal's area (a wall: 403, as
        always; a person or source system: 404) or an area code outside it, in the query or the
        path (404 for everyone; pages answer with the 403 page), of the duty console and the
        reports (``county_binding.DEPLOYMENT_ONLY``) to a person whose area does not hold the
        deployment's county (the only one they serve), of the audit log
        (``county_binding.WHOLE_DEPLOYMENT``) to anyone whose area does not hold every served
        county, or of any request of a principal whose area holds no county this deployment can
        show; ``None`` when the request may pass."""
        if binding is None:
            return None
        refusal = None
        if isinstance(binding, Binding):
            refusal = binding.refusal(req.query_string) or (AREA_REFUSED if binding.refuses_path(req.path) else None)
            whole = not whole_deployment(req.path) or all(contains(principal.area, c) for c in place.served)
            if refusal is None and whole and (
                    binding.screen or not deployment_only(req.path) or serves_console(principal, place.deployment)):
                return None
        if isinstance(binding, Binding) and binding.screen and refusal == COUNTY_REFUSED:
            return error_json(403, "forbidden", f"this screen is bound to area {principal.area}", "county") \
                if rule.kind != "page" else \
                forbidden_page(f"此屏幕只显示 {principal.area} · this screen shows area {principal.area} only")
        if rule.kind == "page":  # an area outside is not there for this caller (404); a console of another county is refused (403)
            return forbidden_page(f"此账号只能查看 {principal.area} · this account sees area {principal.area} only",
                                  status=404 if refusal is not None else 403)
        return outside_area(principal)

    def _default_county(self, db: RequestSession) -> str | None:
        """The county a route serves when none is named (``Runtime.county_code``); ``None`` while
        there is none or the database is away. Read here rather than through ``Runtime.county_code``,
        whose ``NoCountyError`` would make the access layer import the runtime that imports it."""
        try:
            with db.transaction() as session:
                county = areas.get_county(session, self.rt.settings.county_code)
        except DATABASE_AWAY:
            return None
        return county.code if county is not None else None

    def _served(self, db: RequestSession) -> tuple[str, ...]:
        """The counties the deployment serves (inside ``MEDIATION_AREA``; ``Runtime.served_counties``),
        by code; empty while the database is away (a city or province then has no home county)."""
        try:
            with db.transaction() as session:
                return tuple(regions.county_codes(session, self.rt.settings.area))
        except DATABASE_AWAY:
            return ()

    def _same_origin(self, req: Incoming) -> bool:
        origin = req.headers.get("origin")
        return bool(origin) and urlparse(origin).netloc == req.headers.get("host")

    def _rate_limited(self, req: Incoming, principal: Principal | None) -> Response | None:
        """The 429 answer (with ``Retry-After``) once a caller is over the API limit, or the limit of
        on-demand reports, in its protocol's shape."""
        who = f"{principal.role.value}:{principal.name}" if principal else f"ip:{req.ip}"
        if req.path == "/reports/make":
            allowed, retry = self.limiter.allow("reports", who, self.config.reports)
            return None if allowed else error_json(429, "rate_limited", f"too many reports; retry in {retry} s",
                                                   headers={"Retry-After": str(retry)})
        if not (req.path.startswith("/api/") or req.path.startswith("/open311/")) or req.path == "/api/status":
            return None
        allowed, retry = self.limiter.allow("api", who, self.config.api)
        if allowed:
            return None
        message = f"too many requests; retry in {retry} s"
        headers = {"Retry-After": str(retry)}
        if req.path.startswith("/open311/"):
            return open311_error(429, message, headers=headers, path=req.path)
        return error_json(429, "rate_limited", message, headers=headers)
